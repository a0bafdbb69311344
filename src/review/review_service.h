#pragma once
// ReviewService: accounts (argon2id passwords, cookie sessions, CSRF), channels (settings,
// stream key, push token, invites), live sessions and their participants, and the paper's
// rating system (per-session ratings on five criteria, per-reviewer and monthly aggregates) —
// docs/platform-api.md "Authentication", "Channels and sessions", "Ratings". It is also the
// platform's service::Access.
//
// CONTRACT (owned by the review module; the platform wires it in src/platform/platform.cc, the
// CLI uses add_user, the video issue uses channel_for_stream_key/start_session/end_session).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "net/router.h"
#include "service/access.h"
#include "service/db.h"
#include "service/live.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel

namespace chiron::review {

struct ReviewOptions {
  bool secure_cookies = false;     // add `Secure` to the session cookie (behind TLS)
  // The server that owns the sessions: ends sessions a crash left open and flushes chat counts.
  // Off for tools that only open the database next to a running server (`chiron user add`).
  bool serving = true;
  std::string chat_secret;         // signs chat tokens (GET /api/v1/chat/token); empty → 503 there
  int64_t chat_token_ttl_s = 12 * 3600;
  int64_t login_ttl_s = 30 * 24 * 3600;
  // Files touched / comments of a session (store::session_activity), for session summaries.
  std::function<Result<std::pair<int64_t, int64_t>>(service::Tx&, int64_t session_id)> activity;
  const Clock* clock = &Clock::system();  // borrowed; tests drive the 24 h edit window with it
  // argon2id cost (docs/platform-api.md: t=3, m=64 MiB, p=1); tests may lower it.
  uint32_t argon2_iterations = 3;
  uint32_t argon2_memory_kib = 64 * 1024;
  int64_t chat_flush_interval_ms = 2000;  // buffered chat counts → the live session
};

struct NewUser {
  int64_t user_id = 0;
  std::string name;
  std::string password;    // the generated one when none was given, else empty
  std::string stream_key;
  std::string push_token;
};

class ReviewService : public service::Access {
 public:
  // Migrates the accounts/ratings tables; ends sessions left open by a crash.
  static Result<std::unique_ptr<ReviewService>> open(service::Db& db, service::LiveHub& hub, ReviewOptions options);
  ~ReviewService() override = default;

  virtual void register_routes(net::Router& router, kernel::Runtime& runtime) = 0;

  // `chiron user add`: creates the user and its channel. No password → a random one is
  // generated and returned. kAlreadyExists / kInvalidArgument with a user-facing message.
  virtual Result<NewUser> add_user(std::string_view name, std::optional<std::string> password,
                                   std::string_view display_name) = 0;

  // Video ingest (RTMP publish with a stream key) and the "Start session" button.
  virtual Result<service::ChannelRef> channel_for_stream_key(std::string_view stream_key) = 0;
  virtual Result<int64_t> start_session(int64_t channel_id, std::string_view source) = 0;  // → session id
  virtual Status end_session(int64_t channel_id) = 0;

  // A logged-in non-owner viewer is present while a session is live (the live hub calls it).
  virtual Status record_participant(int64_t session_id, int64_t user_id) = 0;
  // One chat message was posted in `room` (called on net threads: must not block; counts are
  // buffered and written in the background / at session end).
  virtual void count_chat_message(std::string_view room) = 0;
};

}  // namespace chiron::review
