#pragma once
// Test doubles and fixtures for the store tests: a temp data dir with a real SQLite Db, a
// FakeAccess (users and channels in memory; identity from test headers), a hub recording
// events, and a FilesService behind a Router driven without sockets.
//
// Identities: header `X-Test-As: NAME` = that user by cookie (csrf_ok unless the request is
// unsafe and carries `X-Test-No-Csrf`); `Authorization: Bearer push-CHANNEL` = the push token
// of CHANNEL; nothing = anonymous.
// Users: alice (1), bob (2), carol (3). Channels: "alice" (10, alice), "bob" (20, bob),
// "secret" (30, carol, private, bob invited).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "common/clock.h"
#include "kernel/runtime.h"
#include "net/router.h"
#include "service/access.h"
#include "service/db.h"
#include "service/live.h"
#include "store/files_service.h"

namespace chiron::store::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class FakeAccess final : public service::Access {
 public:
  FakeAccess();
  Result<service::Caller> caller(const net::Request& request) override;
  Result<service::ChannelRef> channel(std::string_view name) override;
  bool can_read(const service::Caller& caller, const service::ChannelRef& channel) override;
  bool can_write(const service::Caller& caller, const service::ChannelRef& channel) override;
  void set_live_session(std::string_view channel, int64_t session_id);

 private:
  std::mutex mu_;
  std::map<std::string, service::Caller, std::less<>> users_;
  std::map<std::string, service::ChannelRef, std::less<>> channels_;
  std::map<int64_t, std::set<int64_t>> invited_;
};

class RecordingHub final : public service::LiveHub {
 public:
  void publish(int64_t channel_id, boost::json::object event) override;
  std::vector<std::pair<int64_t, boost::json::object>> events();

 private:
  std::mutex mu_;
  std::vector<std::pair<int64_t, boost::json::object>> events_;
};

std::unique_ptr<service::Db> open_db(const std::filesystem::path& dir);

// A whole FilesService on a data dir, routes registered, a running Runtime.
class StoreEnv {
 public:
  explicit StoreEnv(std::function<void(FilesOptions&)> tweak = {});
  ~StoreEnv();
  // Reopens the service on the same data dir and database (a restart).
  void reopen();

  net::Response call(std::string method, std::string target, std::string body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {});
  // As alice by cookie / by her push token.
  net::Response as(std::string_view user, std::string method, std::string target, std::string body = {},
                   std::vector<std::pair<std::string, std::string>> headers = {});
  net::Response push(std::string method, std::string target, std::string body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {});

  TempDir dir;
  ManualClock clock;
  std::unique_ptr<service::Db> db;
  FakeAccess access;
  RecordingHub hub;
  std::unique_ptr<FilesService> files;
  std::unique_ptr<kernel::Runtime> runtime;
  std::unique_ptr<net::Router> router;
  std::function<void(FilesOptions&)> tweak_;

 private:
  void start();
  void stop();
};

boost::json::object json_of(const net::Response& r);
// The response's content: its body, or the bytes of its file_path range.
std::string content_of(const net::Response& r);
std::string error_code_of(const net::Response& r);

}  // namespace chiron::store::testing
