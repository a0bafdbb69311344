#include "nameserver/health_checker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace chiron::nameserver {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto kWait = 5s;  // upper bound for anything a test waits for

CheckSpec tcp_spec(uint32_t rise = 2, uint32_t fall = 2) {
  return CheckSpec{.type = CheckSpec::Type::kTcp, .interval_ms = 100, .timeout_ms = 100, .rise = rise, .fall = fall};
}

CheckSpec http_spec(uint32_t rise = 1, uint32_t fall = 1) {
  return CheckSpec{.type = CheckSpec::Type::kHttp,
                   .path = "/health",
                   .interval_ms = 100,
                   .timeout_ms = 100,
                   .rise = rise,
                   .fall = fall};
}

// A peer for the checks, confined to the test's io_context. Modes: accept and close (TCP),
// answer every request with `status` (HTTP), or accept and never answer.
class TestServer {
 public:
  enum class Mode { kAcceptClose, kHttp, kSilent };

  TestServer(asio::io_context& context, Mode mode)
      : acceptor_(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), mode_(mode) {
    port_ = acceptor_.local_endpoint().port();
    accept();
  }

  uint16_t port() const { return port_; }
  std::string id() const { return "127.0.0.1:" + std::to_string(port_); }
  void set_status(int status) { *status_ = status; }
  int accepted() const { return accepted_; }
  // Loop-confined: call on the context (see Fixture::on_loop).
  void close() {
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : held_) s->close(ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec) return;
      ++accepted_;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      if (mode_ == Mode::kSilent) held_.push_back(s);
      if (mode_ == Mode::kHttp) answer(s);
      accept();
    });
  }

  void answer(std::shared_ptr<tcp::socket> s) {
    auto buf = std::make_shared<asio::streambuf>();
    // Captures the status by shared_ptr: the server may be gone when a read completes.
    asio::async_read_until(*s, *buf, "\r\n\r\n", [status = status_, s, buf](const error_code& ec, size_t) {
      if (ec) return;
      auto reply = std::make_shared<std::string>("HTTP/1.1 " + std::to_string(status->load()) +
                                                 " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      asio::async_write(*s, asio::buffer(*reply), [s, reply](const error_code&, size_t) {
        error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }

  tcp::acceptor acceptor_;
  Mode mode_;
  uint16_t port_ = 0;
  std::shared_ptr<std::atomic<int>> status_ = std::make_shared<std::atomic<int>>(200);
  std::atomic<int> accepted_{0};
  std::vector<std::shared_ptr<tcp::socket>> held_;
};

class HealthCheckerTest : public ::testing::Test {
 protected:
  HealthCheckerTest() : work_(asio::make_work_guard(*context_)) {
    checker_ = std::make_unique<HealthChecker>(*context_, [this](const CheckResult& r) {
      std::lock_guard lock(mu_);
      results_.push_back(r);
      cv_.notify_all();
    });
    thread_ = std::thread([this] { context_->run(); });
  }

  ~HealthCheckerTest() override {
    if (checker_) checker_->stop();
    if (thread_.joinable()) {
      on_loop([this] { servers_.clear(); });
      work_.reset();
      context_->stop();
      thread_.join();
    }
    servers_.clear();
    checker_.reset();
  }

  // Runs fn on the context and waits for it.
  void on_loop(std::function<void()> fn) {
    if (context_->stopped()) return fn();
    std::promise<void> done;
    asio::post(*context_, [&] {
      fn();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(kWait), std::future_status::ready);
  }

  TestServer& server(TestServer::Mode mode) {
    TestServer* s = nullptr;
    on_loop([&] { s = servers_.emplace_back(std::make_unique<TestServer>(*context_, mode)).get(); });
    return *s;
  }

  // Waits until at least n verdict changes were reported; returns the n-th (1-based).
  std::optional<CheckResult> wait_result(size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return results_.size() >= n; })) return std::nullopt;
    return results_[n - 1];
  }

  size_t result_count() {
    std::lock_guard lock(mu_);
    return results_.size();
  }

  bool wait_until(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  std::unique_ptr<asio::io_context> context_ = std::make_unique<asio::io_context>();
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::unique_ptr<TestServer>> servers_;  // loop-confined
  std::unique_ptr<HealthChecker> checker_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CheckResult> results_;  // Guarded by mu_
};

TEST_F(HealthCheckerTest, TcpCheckReportsUpAfterRisePasses) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", s.id(), tcp_spec(/*rise=*/2));
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->service, "web");
  EXPECT_EQ(r->id, s.id());
  EXPECT_EQ(r->health, ns::Health::kUp);
  EXPECT_GE(checker_->stats().passes, 2u);
  EXPECT_EQ(checker_->stats().watched, 1u);
}

TEST_F(HealthCheckerTest, TcpCheckReportsDownAfterFallFailuresOnceAcceptorCloses) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", s.id(), tcp_spec(1, /*fall=*/2));
  ASSERT_TRUE(wait_result(1));
  on_loop([&] { s.close(); });
  auto r = wait_result(2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kDown);
  EXPECT_NE(r->detail.find("connect"), std::string::npos) << r->detail;
  EXPECT_GE(checker_->stats().failures, 2u);
}

TEST_F(HealthCheckerTest, RefusedPortReportsDown) {
  uint16_t port = 0;
  on_loop([&] {
    tcp::acceptor a(*context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  });  // closed again: nothing listens on port
  checker_->watch("web", "127.0.0.1:" + std::to_string(port), tcp_spec(1, 2));
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kDown);
  EXPECT_NE(r->detail.find("refused"), std::string::npos) << r->detail;
}

TEST_F(HealthCheckerTest, HostNameIsResolved) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", "localhost:" + std::to_string(s.port()), tcp_spec(1));
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kUp) << r->detail;
}

TEST_F(HealthCheckerTest, MalformedIdReportsDown) {
  checker_->watch("web", "no-port", tcp_spec(1, 1));
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kDown);
  EXPECT_NE(r->detail.find("bad address"), std::string::npos) << r->detail;
}

TEST_F(HealthCheckerTest, HttpCheckFollowsStatusCode) {
  TestServer& s = server(TestServer::Mode::kHttp);
  checker_->watch("web", s.id(), http_spec());
  auto up = wait_result(1);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->health, ns::Health::kUp);
  EXPECT_EQ(up->detail, "HTTP 200");
  s.set_status(503);
  auto down = wait_result(2);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->health, ns::Health::kDown);
  EXPECT_EQ(down->detail, "HTTP 503");
}

TEST_F(HealthCheckerTest, HttpRedirectCountsAsPass) {
  TestServer& s = server(TestServer::Mode::kHttp);
  s.set_status(302);
  checker_->watch("web", s.id(), http_spec());
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kUp);
  EXPECT_EQ(r->detail, "HTTP 302");
}

TEST_F(HealthCheckerTest, SilentServerTimesOut) {
  TestServer& s = server(TestServer::Mode::kSilent);
  CheckSpec spec = http_spec();
  spec.interval_ms = 200;
  checker_->watch("web", s.id(), spec);
  auto r = wait_result(1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->health, ns::Health::kDown);
  EXPECT_NE(r->detail.find("timeout"), std::string::npos) << r->detail;
  EXPECT_GE(s.accepted(), 1);
}

TEST_F(HealthCheckerTest, UnwatchStopsReports) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", s.id(), tcp_spec(1, 1));
  ASSERT_TRUE(wait_result(1));
  checker_->unwatch("web", s.id());
  EXPECT_EQ(checker_->stats().watched, 0u);
  on_loop([&] { s.close(); });  // would report down if still watched
  ASSERT_TRUE(wait_until([&] { return checker_->pending() == 0; }));
  const uint64_t checks = checker_->stats().checks;
  on_loop([] {});  // let anything already queued run
  EXPECT_EQ(result_count(), 1u);
  EXPECT_EQ(checker_->stats().checks, checks);
}

TEST_F(HealthCheckerTest, WatchWithNoneTypeUnwatches) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", s.id(), tcp_spec(1, 1));
  checker_->watch("web", s.id(), CheckSpec{});
  EXPECT_EQ(checker_->stats().watched, 0u);
  ASSERT_TRUE(wait_until([&] { return checker_->pending() == 0; }));
  EXPECT_EQ(result_count(), 0u);
}

TEST_F(HealthCheckerTest, RewatchResetsToPending) {
  TestServer& s = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", s.id(), tcp_spec(1));
  auto first = wait_result(1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->health, ns::Health::kUp);
  // Still up, but a fresh pending verdict must be proven and reported again.
  checker_->watch("web", s.id(), tcp_spec(2));
  auto second = wait_result(2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->health, ns::Health::kUp);
  EXPECT_EQ(checker_->stats().watched, 1u);
}

TEST_F(HealthCheckerTest, ServersAreCheckedIndependently) {
  TestServer& good = server(TestServer::Mode::kAcceptClose);
  checker_->watch("web", good.id(), tcp_spec(1, 1));
  checker_->watch("web", "127.0.0.1:1", tcp_spec(1, 1));
  ASSERT_TRUE(wait_result(2));
  std::lock_guard lock(mu_);
  for (const auto& r : results_)
    EXPECT_EQ(r.health, r.id == good.id() ? ns::Health::kUp : ns::Health::kDown) << r.id << " " << r.detail;
}

TEST_F(HealthCheckerTest, StopDrainsPendingOperations) {
  TestServer& s = server(TestServer::Mode::kSilent);
  CheckSpec spec = http_spec();
  spec.interval_ms = 2000;
  spec.timeout_ms = 2000;
  for (int i = 0; i < 5; ++i) checker_->watch("svc" + std::to_string(i), s.id(), spec);
  ASSERT_TRUE(wait_until([&] { return s.accepted() >= 5; }));
  checker_->stop();
  checker_->stop();  // idempotent
  ASSERT_TRUE(wait_until([&] { return checker_->pending() == 0; }));
  EXPECT_EQ(result_count(), 0u);
  checker_->watch("web", s.id(), spec);  // refused after stop
  EXPECT_EQ(checker_->stats().watched, 0u);
}

TEST_F(HealthCheckerTest, StopWithChecksInFlightThenDestroyContext) {
  TestServer& s = server(TestServer::Mode::kSilent);
  CheckSpec spec = http_spec();
  spec.interval_ms = 2000;
  spec.timeout_ms = 2000;
  for (int i = 0; i < 5; ++i) checker_->watch("svc" + std::to_string(i), s.id(), spec);
  ASSERT_TRUE(wait_until([&] { return s.accepted() >= 5; }));
  checker_->stop();
  on_loop([this] { servers_.clear(); });
  work_.reset();
  context_->stop();
  thread_.join();
  context_.reset();  // queued handlers (and the probes they own) die here
  checker_.reset();  // after the context: allowed once stopped
  EXPECT_EQ(result_count(), 0u);
}

TEST_F(HealthCheckerTest, DestroyCheckerWithChecksInFlightThenContext) {
  TestServer& s = server(TestServer::Mode::kSilent);
  for (int i = 0; i < 5; ++i) checker_->watch("svc" + std::to_string(i), s.id(), http_spec());
  ASSERT_TRUE(wait_until([&] { return s.accepted() >= 1; }));
  checker_.reset();
  on_loop([this] { servers_.clear(); });
  work_.reset();
  context_->stop();
  thread_.join();
  context_.reset();
}

// --- CheckSpec JSON ---

TEST(CheckSpecTest, ParsesFullSpec) {
  auto spec =
      parse_check_spec(R"({"type":"http","path":"/health?x=1","interval_ms":2500,"timeout_ms":700,"rise":3,"fall":4})");
  ASSERT_TRUE(spec.ok()) << spec.status().to_string();
  EXPECT_EQ(spec->type, CheckSpec::Type::kHttp);
  EXPECT_EQ(spec->path, "/health?x=1");
  EXPECT_EQ(spec->interval_ms, 2500u);
  EXPECT_EQ(spec->timeout_ms, 700u);
  EXPECT_EQ(spec->rise, 3u);
  EXPECT_EQ(spec->fall, 4u);
}

TEST(CheckSpecTest, MissingFieldsTakeDefaults) {
  auto spec = parse_check_spec(R"({"type":"tcp"})");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(*spec, CheckSpec{.type = CheckSpec::Type::kTcp});
}

TEST(CheckSpecTest, DefaultTimeoutShrinksToAShortInterval) {
  auto spec = parse_check_spec(R"({"type":"tcp","interval_ms":500})");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->timeout_ms, 500u);
}

TEST(CheckSpecTest, EmptyAndNullMeanNone) {
  for (const char* s : {"", "null", "  null\n", " "}) {
    auto spec = parse_check_spec(s);
    ASSERT_TRUE(spec.ok()) << s;
    EXPECT_EQ(*spec, CheckSpec{}) << s;
    EXPECT_FALSE(spec->enabled());
  }
}

TEST(CheckSpecTest, AcceptsEveryBound) {
  for (const char* s : {
           R"({"type":"tcp","interval_ms":100,"timeout_ms":50})",
           R"({"type":"tcp","interval_ms":100,"timeout_ms":100})",
           R"({"type":"tcp","interval_ms":3600000,"timeout_ms":3600000})",
           R"({"type":"tcp","rise":1,"fall":1})",
           R"({"type":"tcp","rise":100,"fall":100})",
           R"({"type":"http","path":"/"})",
       }) {
    EXPECT_TRUE(parse_check_spec(s).ok()) << s;
  }
  EXPECT_TRUE(parse_check_spec(R"({"type":"http","path":"/)" + std::string(1023, 'a') + R"("})").ok());
}

TEST(CheckSpecTest, RejectsOutOfBoundsNamingTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"type":"tcp","interval_ms":99})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":3600001})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":0})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":-1})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":18446744073709551615})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":1e30})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":150.5})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":"200"})", "interval_ms"},
      {R"({"type":"tcp","interval_ms":null})", "interval_ms"},
      {R"({"type":"tcp","timeout_ms":49})", "timeout_ms"},
      {R"({"type":"tcp","interval_ms":100,"timeout_ms":101})", "timeout_ms"},
      {R"({"type":"tcp","timeout_ms":true})", "timeout_ms"},
      {R"({"type":"tcp","rise":0})", "rise"},
      {R"({"type":"tcp","rise":101})", "rise"},
      {R"({"type":"tcp","fall":0})", "fall"},
      {R"({"type":"tcp","fall":101})", "fall"},
      {R"({"type":"http","path":""})", "path"},
      {R"({"type":"http","path":"health"})", "path"},
      {R"({"type":"http","path":"/a b"})", "path"},
      {R"({"type":"http","path":"/a\r\nX-Evil: 1"})", "path"},
      {R"({"type":"http","path":"/\u00e9"})", "path"},
      {R"({"type":"http","path":7})", "path"},
      {R"({"type":"http","path":"/)" + std::string(1024, 'a') + R"("})", "path"},
      {R"({"type":"udp"})", "type"},
      {R"({"type":"TCP"})", "type"},
      {R"({"type":1})", "type"},
      {R"({"interval_ms":1000})", "type"},
      {R"({})", "type"},
      {R"({"type":"tcp","intervall_ms":1000})", "intervall_ms"},
  };
  for (const auto& [json, field] : cases) {
    auto spec = parse_check_spec(json);
    ASSERT_FALSE(spec.ok()) << json;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(field), std::string::npos) << json << " → " << spec.status().message();
  }
}

TEST(CheckSpecTest, RejectsNonObjects) {
  for (const char* s : {"[]", "1", "\"tcp\"", "true", "{", "{\"type\":\"tcp\"} x", "nul", "\xff"})
    EXPECT_EQ(parse_check_spec(s).status().code(), StatusCode::kInvalidArgument) << s;
}

TEST(CheckSpecTest, ToJsonRoundTrips) {
  const CheckSpec specs[] = {
      CheckSpec{.type = CheckSpec::Type::kTcp},
      CheckSpec{.type = CheckSpec::Type::kHttp,
                .path = "/h?a=\"b\"",
                .interval_ms = 100,
                .timeout_ms = 50,
                .rise = 100,
                .fall = 1},
      CheckSpec{.type = CheckSpec::Type::kTcp, .path = "/x", .interval_ms = 3600000, .timeout_ms = 3600000},
  };
  for (const CheckSpec& spec : specs) {
    const std::string json = to_json(spec);
    auto back = parse_check_spec(json);
    ASSERT_TRUE(back.ok()) << json << " → " << back.status().to_string();
    EXPECT_EQ(*back, spec) << json;
  }
}

TEST(CheckSpecTest, ToJsonMatchesDocumentedForm) {
  EXPECT_EQ(to_json(CheckSpec{.type = CheckSpec::Type::kHttp, .path = "/health"}),
            R"({"type":"http","path":"/health","interval_ms":2000,"timeout_ms":1000,"rise":2,"fall":3})");
  EXPECT_EQ(to_json(CheckSpec{}), "");
}

}  // namespace
}  // namespace chiron::nameserver
