#pragma once
// A ReviewService on a real SQLite database in a temp dir, its routes on a net::Router driven
// without sockets, a manual clock and a hub that records events.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "common/clock.h"
#include "kernel/runtime.h"
#include "net/router.h"
#include "review/review_impl.h"
#include "review/review_service.h"
#include "service/db.h"
#include "service/http.h"
#include "service/live.h"

namespace chiron::review::testing {

class RecordingHub final : public service::LiveHub {
 public:
  void publish(int64_t channel_id, boost::json::object event) override {
    std::lock_guard lock(mu_);
    events_.emplace_back(channel_id, std::move(event));
  }
  std::vector<std::pair<int64_t, boost::json::object>> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int64_t, boost::json::object>> events_;
};

struct Reply {
  int status = 0;
  boost::json::value json;
  net::Response raw;
  std::string header(std::string_view name) const { return std::string(raw.headers.get(name).value_or("")); }
  std::string code() const {
    if (!json.is_object() || !json.as_object().contains("error")) return "";
    return std::string(json.at("error").at("code").as_string());
  }
};

// A browser: the session cookie and CSRF token it got at log-in.
struct Browser {
  std::string cookie;  // "chiron_session=..."
  std::string csrf;
  int64_t user_id = 0;
  std::string name;
};

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chiron_review_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto db = service::Db::open_sqlite(dir_ + "/platform.db");
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(*db);
    kernel::RuntimeOptions ro;
    ro.cpu_threads = 1;
    ro.disk_threads = 4;
    runtime_ = std::make_unique<kernel::Runtime>(ro);
    ASSERT_TRUE(runtime_->start().ok());
    open_service();
  }
  void TearDown() override {
    svc_.reset();
    runtime_->stop();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  ReviewOptions options() {
    ReviewOptions o;
    o.clock = &clock_;
    o.argon2_iterations = 1;  // cheap hashes keep the tests fast; the format is the same
    o.argon2_memory_kib = 1024;
    o.chat_secret = "test-chat-secret";
    o.chat_flush_interval_ms = 3600 * 1000;  // tests flush explicitly
    return o;
  }
  void open_service() {
    router_ = net::Router();
    svc_.reset();
    auto svc = ReviewService::open(*db_, hub_, options());
    ASSERT_TRUE(svc.ok()) << svc.status().to_string();
    svc_ = std::move(*svc);
    svc_->register_routes(router_, *runtime_);
  }
  ReviewServiceImpl& impl() { return static_cast<ReviewServiceImpl&>(*svc_); }

  Reply call(std::string method, std::string target, std::string body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}, bool json_type = true) {
    net::Request req;
    req.method = std::move(method);
    req.target = target;
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = std::move(body);
    if (json_type && !req.body.empty()) req.headers.add("Content-Type", "application/json");
    req.headers.add("Host", "chiron.test");
    for (auto& [k, v] : headers) req.headers.add(k, v);
    std::promise<net::Response> p;
    auto f = p.get_future();
    router_.handle(std::move(req), net::Responder::from_callback([&p](net::Response r) { p.set_value(std::move(r)); }));
    Reply out;
    out.raw = f.get();
    out.status = out.raw.status;
    if (!out.raw.body.empty()) {
      boost::system::error_code ec;
      out.json = boost::json::parse(out.raw.body, ec);
    }
    return out;
  }
  // A request as `b` (cookie + CSRF token).
  Reply as(const Browser& b, std::string method, std::string target, std::string body = "") {
    return call(std::move(method), std::move(target), std::move(body), {{"Cookie", b.cookie}, {"X-CSRF-Token", b.csrf}});
  }
  Browser signup(const std::string& name, const std::string& password = "correct horse") {
    Reply r = call("POST", "/api/v1/auth/signup",
                   boost::json::serialize(boost::json::object{{"name", name}, {"password", password}}));
    EXPECT_EQ(r.status, 201) << r.raw.body;
    Browser b;
    std::string set = r.header("Set-Cookie");
    b.cookie = set.substr(0, set.find(';'));
    if (r.status == 201) {
      b.csrf = std::string(r.json.at("csrf").as_string());
      b.user_id = r.json.at("user").at("id").as_int64();
    }
    b.name = name;
    return b;
  }
  int64_t channel_id(const std::string& name) {
    auto c = svc_->channel(name);
    EXPECT_TRUE(c.ok());
    return c.ok() ? c->id : 0;
  }

  std::string dir_;
  ManualClock clock_{1'795'000'000'000};  // 2026-11-18
  RecordingHub hub_;
  std::unique_ptr<service::Db> db_;
  std::unique_ptr<kernel::Runtime> runtime_;
  net::Router router_;
  std::unique_ptr<ReviewService> svc_;
};

}  // namespace chiron::review::testing
