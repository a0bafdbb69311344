#pragma once
// Platform: the live-coding product assembled for `chiron serve` — the metadata database
// (SQLite under the data dir, or PostgreSQL), accounts/channels/sessions/ratings (review), live
// code storage (store), the live-event WebSocket, the chat hooks (message counts per session,
// line comments posted into the channel's room), and the routes of the web pages and their
// browser libraries. docs/platform-api.md is the contract; docs/architecture.md the picture.
//
// Lifetime: open() → register_routes() before the HTTP server starts → stop() before the
// runtime stops (closes live sockets). The chat server is shared and may outlive the Platform.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "media/media.h"
#include "net/router.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel
namespace chiron::chat {
class ChatServer;
}  // namespace chiron::chat
namespace chiron::review {
class ReviewService;
}  // namespace chiron::review

namespace chiron::platform {

struct PlatformOptions {
  std::filesystem::path data_dir = "chiron-data";
  std::string postgres_url;        // empty: SQLite at data_dir/platform.db
  std::filesystem::path web_root;  // page files (web/)
  std::filesystem::path node_modules;  // browser libraries (served under /vendor/)
  uint64_t quota_bytes = 100ull << 20;
  uint64_t max_file_bytes = 256ull << 20;
  bool secure_cookies = false;
  std::string chat_secret;  // must equal the chat server's (see resolve_chat_secret)
  // Live video (RTMP ingest, HTTP-FLV, HLS, edge relay); nullopt: none.
  std::optional<media::MediaOptions> media;
};

// The chat key: `explicit` when given (--chat-secret), else the one kept in
// data_dir/chat.secret, created (random 256-bit, mode 0600) on first use — so the chat panel
// works out of the box and tokens survive restarts.
Result<std::string> resolve_chat_secret(const std::string& explicit_secret, const std::filesystem::path& data_dir);

class Platform {
 public:
  static Result<std::unique_ptr<Platform>> open(kernel::Runtime& runtime, PlatformOptions options,
                                                std::shared_ptr<chat::ChatServer> chat);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // API routes, /api/v1/live, the video routes (/live/..., GET /api/v1/channels/:name/stream),
  // page routes (/c/:name, /u/:name, /s/:id, /login, /signup,
  // /settings) and /vendor/<library>/. Call before router.static_dir("/").
  void register_routes(net::Router& router);
  void stop();
  review::ReviewService& review();
  // The RTMP listener's port (0 without video).
  uint16_t rtmp_port() const;
  // "sqlite:..." / "postgres://..." for the startup log.
  std::string database() const;

  struct Impl;

 private:
  explicit Platform(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::platform
