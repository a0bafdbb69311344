#include "store_testutil.h"

#include <fstream>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "common/ids.h"
#include "service/http.h"

namespace chiron::store::testing {

namespace fs = std::filesystem;

TempDir::TempDir() : path_(fs::temp_directory_path() / ("chiron-store-test-" + random_hex(8))) {
  fs::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

FakeAccess::FakeAccess() {
  auto user = [&](int64_t id, std::string name) {
    service::Caller c;
    c.user_id = id;
    c.name = name;
    c.display_name = name;
    c.display_name[0] = static_cast<char>(std::toupper(c.display_name[0]));
    c.via = service::Caller::Via::kCookie;
    users_[name] = c;
  };
  user(1, "alice");
  user(2, "bob");
  user(3, "carol");
  channels_["alice"] = {10, "alice", 1, "alice", false, "alice", 0};
  channels_["bob"] = {20, "bob", 2, "bob", false, "bob", 0};
  channels_["secret"] = {30, "secret", 3, "carol", true, "secret-room", 0};
  invited_[30] = {2};
}

Result<service::Caller> FakeAccess::caller(const net::Request& request) {
  std::lock_guard lock(mu_);
  if (auto auth = request.headers.get("Authorization"); auth && auth->starts_with("Bearer push-")) {
    auto it = channels_.find(auth->substr(12));
    if (it == channels_.end()) return service::Caller{};
    service::Caller c = users_.begin()->second;
    for (auto& [name, u] : users_) {
      if (u.user_id == it->second.owner_id) c = u;
    }
    c.via = service::Caller::Via::kPushToken;
    c.csrf_ok = true;
    c.push_channel_id = it->second.id;
    return c;
  }
  if (auto as = request.headers.get("X-Test-As")) {
    auto it = users_.find(*as);
    if (it == users_.end()) return service::Caller{};
    service::Caller c = it->second;
    c.csrf_ok = service::is_safe_method(request.method) || !request.headers.has("X-Test-No-Csrf");
    return c;
  }
  return service::Caller{};
}

Result<service::ChannelRef> FakeAccess::channel(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(name);
  if (it == channels_.end()) return Status::not_found("channel " + std::string(name));
  return it->second;
}

bool FakeAccess::can_read(const service::Caller& caller, const service::ChannelRef& channel) {
  std::lock_guard lock(mu_);
  if (!channel.is_private) return true;
  if (caller.anonymous()) return false;
  if (caller.via == service::Caller::Via::kPushToken) return caller.push_channel_id == channel.id;
  return caller.user_id == channel.owner_id || invited_[channel.id].contains(caller.user_id);
}

bool FakeAccess::can_write(const service::Caller& caller, const service::ChannelRef& channel) {
  if (caller.via == service::Caller::Via::kPushToken) return caller.push_channel_id == channel.id;
  return caller.via == service::Caller::Via::kCookie && caller.csrf_ok && caller.user_id == channel.owner_id;
}

void FakeAccess::set_live_session(std::string_view channel, int64_t session_id) {
  std::lock_guard lock(mu_);
  channels_.find(channel)->second.live_session_id = session_id;
}

void RecordingHub::publish(int64_t channel_id, boost::json::object event) {
  std::lock_guard lock(mu_);
  events_.emplace_back(channel_id, std::move(event));
}

std::vector<std::pair<int64_t, boost::json::object>> RecordingHub::events() {
  std::lock_guard lock(mu_);
  return events_;
}

std::unique_ptr<service::Db> open_db(const fs::path& dir) {
  auto db = service::Db::open_sqlite((dir / "platform.db").string());
  if (!db.ok()) ADD_FAILURE() << db.status().to_string();
  return db.ok() ? std::move(*db) : nullptr;
}

StoreEnv::StoreEnv(std::function<void(FilesOptions&)> tweak) : tweak_(std::move(tweak)) {
  db = open_db(dir.path());
  start();
}

StoreEnv::~StoreEnv() { stop(); }

void StoreEnv::start() {
  FilesOptions options;
  options.data_dir = dir.path();
  options.clock = &clock;
  if (tweak_) tweak_(options);
  auto opened = FilesService::open(*db, access, hub, options);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().to_string();
    return;
  }
  files = std::move(*opened);
  kernel::RuntimeOptions ro;
  ro.cpu_threads = 1;
  ro.disk_threads = 4;
  ro.net_threads = 1;
  runtime = std::make_unique<kernel::Runtime>(ro);
  EXPECT_TRUE(runtime->start().ok());
  router = std::make_unique<net::Router>();
  files->register_routes(*router, *runtime);
}

void StoreEnv::stop() {
  if (runtime) runtime->stop();
  router.reset();
  runtime.reset();
  files.reset();
}

void StoreEnv::reopen() {
  stop();
  db.reset();
  db = open_db(dir.path());
  start();
}

net::Response StoreEnv::call(std::string method, std::string target, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  net::Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (auto d = net::percent_decode(r.path)) r.path = *d;
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = std::move(body);
  for (auto& [k, v] : headers) r.headers.add(k, v);
  std::promise<net::Response> done;
  auto fut = done.get_future();
  router->handle(std::move(r), net::Responder::from_callback([&done](net::Response resp) { done.set_value(std::move(resp)); }));
  return fut.get();
}

net::Response StoreEnv::as(std::string_view user, std::string method, std::string target, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers) {
  headers.emplace_back("X-Test-As", std::string(user));
  return call(std::move(method), std::move(target), std::move(body), std::move(headers));
}

net::Response StoreEnv::push(std::string method, std::string target, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  headers.emplace_back("Authorization", "Bearer push-alice");
  return call(std::move(method), std::move(target), std::move(body), std::move(headers));
}

boost::json::object json_of(const net::Response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object (" << r.status << "): " << r.body;
    return {};
  }
  return v.as_object();
}

std::string content_of(const net::Response& r) {
  if (!r.file_path) return r.body;
  std::ifstream in(*r.file_path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.substr(r.file_offset, r.file_length.value_or(std::string::npos));
}

std::string error_code_of(const net::Response& r) {
  auto o = json_of(r);
  if (!o.contains("error")) return "";
  return std::string(o["error"].as_object()["code"].as_string());
}

}  // namespace chiron::store::testing
