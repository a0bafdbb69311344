#pragma once
// ReviewServiceImpl: the one implementation of ReviewService (review_service.h), split over
// accounts.cc (log-in, cookies, CSRF, service::Access), channels.cc (settings, secrets,
// invites, home), sessions.cc (live sessions, participants, chat counters), ratings.cc (the
// paper's rating system) and views.cc (JSON shapes of docs/platform-api.md).
//
// Every HTTP handler runs on the disk pipeline (service::on_disk) and may block on the
// database. Chat message counts arrive on net threads: they are added to an in-memory map
// under chat_mu_ (never held across I/O) and a flusher thread writes them to the open live
// session every kChatFlushInterval and at session end. Thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/clock.h"
#include "common/sha256.h"
#include "review/password.h"
#include "review/review_service.h"

namespace chiron::review {

struct UserRow {
  int64_t id = 0;
  std::string name;
  std::string display_name;
};

struct ChannelRow {
  int64_t id = 0;
  std::string name;
  UserRow owner;
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  bool is_private = false;
  std::string chat_room;
  int64_t live_session_id = 0;
  bool record = false;  // the media server records its streams
};

struct SessionRow {
  int64_t id = 0;
  int64_t channel_id = 0;
  std::string channel;
  std::string chat_room;
  int64_t owner_id = 0;
  int64_t started_at = 0;
  std::optional<int64_t> ended_at;
  std::string source;
  int64_t chat_messages = 0;
};

struct RatingRow {
  int64_t session_id = 0;
  UserRow reviewer;
  UserRow by;
  int64_t scores[5] = {0, 0, 0, 0, 0};  // kCriteria order
  std::string comment;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

inline constexpr const char* kCriteria[5] = {"expertise", "helpfulness", "clarity", "examples", "timeliness"};
inline constexpr int64_t kEditWindowMs = 24 * 3600 * 1000;
inline constexpr size_t kMaxCommentBytes = 2000;

// An authenticated request (or an anonymous one).
struct Auth {
  service::Caller caller;
  std::string csrf;       // cookie callers
  std::string token;      // the cookie value, when renewed (to send it again)
  bool renewed = false;
};

// What a route handler answers on success.
struct Reply {
  int status = 200;
  boost::json::value body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Per-request state: the authentication is looked up once, on first use.
class Ctx {
 public:
  Ctx(class ReviewServiceImpl& svc, const net::Request& request) : svc_(svc), req(request) {}
  Result<const Auth*> auth();
  // A user logged in by cookie (push tokens do not count); on unsafe methods also the CSRF
  // token. kUnauthenticated / [csrf] kPermissionDenied.
  Result<const Auth*> user();
  const std::optional<Auth>& cached() const { return auth_; }

 private:
  ReviewServiceImpl& svc_;
  std::optional<Auth> auth_;

 public:
  const net::Request& req;
};

class ReviewServiceImpl final : public ReviewService {
 public:
  ReviewServiceImpl(service::Db& db, service::LiveHub& hub, ReviewOptions options);
  ~ReviewServiceImpl() override;
  Status init();

  // ReviewService
  void register_routes(net::Router& router, kernel::Runtime& runtime) override;
  Result<NewUser> add_user(std::string_view name, std::optional<std::string> password,
                           std::string_view display_name) override;
  Result<service::ChannelRef> channel_for_stream_key(std::string_view stream_key) override;
  Result<int64_t> start_session(int64_t channel_id, std::string_view source) override;
  Status end_session(int64_t channel_id) override;
  Status record_participant(int64_t session_id, int64_t user_id) override;
  void count_chat_message(std::string_view room) override;

  // service::Access
  Result<service::Caller> caller(const net::Request& request) override;
  Result<service::ChannelRef> channel(std::string_view name) override;
  bool can_read(const service::Caller& caller, const service::ChannelRef& channel) override;
  bool can_write(const service::Caller& caller, const service::ChannelRef& channel) override;

  // renew: slide the session's expiry when it is older than a day (the caller must then send
  // the renewed cookie back: Auth::renewed / Auth::token).
  Result<Auth> authenticate(const net::Request& request, bool renew = true);
  // Writes buffered chat counts now (tests; the flusher calls it periodically).
  void flush_chat_counts();

 private:
  using Route = Result<Reply> (ReviewServiceImpl::*)(Ctx&);
  net::Response run(Route route, const net::Request& req);

  // accounts.cc
  Result<Reply> signup(Ctx& ctx);
  Result<Reply> login(Ctx& ctx);
  Result<Reply> logout(Ctx& ctx);
  Result<Reply> me(Ctx& ctx);
  Result<Reply> push_channel(Ctx& ctx);
  Result<Reply> chat_token(Ctx& ctx);
  Result<Reply> logged_in_reply(int status, const UserRow& user, bool with_channel);
  Result<NewUser> create_user(std::string_view name, std::string_view password, std::string_view display_name);
  std::string session_cookie(const std::string& token, int64_t max_age_s) const;
  const std::string& dummy_hash();

  // channels.cc
  Result<Reply> home(Ctx& ctx);
  Result<Reply> list_channels(Ctx& ctx);
  Result<Reply> get_channel(Ctx& ctx);
  Result<Reply> patch_channel(Ctx& ctx);
  Result<Reply> get_secrets(Ctx& ctx);
  Result<Reply> rotate_secrets(Ctx& ctx);
  Result<Reply> list_invites(Ctx& ctx);
  Result<Reply> add_invite(Ctx& ctx);
  Result<Reply> remove_invite(Ctx& ctx);
  // The channel `:name` if the caller may read it (404 otherwise, also for private ones).
  Result<ChannelRow> readable_channel(Ctx& ctx, service::Tx& tx);
  Result<ChannelRow> owned_channel(Ctx& ctx, service::Tx& tx);
  Result<boost::json::array> invites_json(service::Tx& tx, int64_t channel_id);

  // sessions.cc
  Result<Reply> start_session_route(Ctx& ctx);
  Result<Reply> end_session_route(Ctx& ctx);
  Result<Reply> list_sessions(Ctx& ctx);
  Result<Reply> get_session(Ctx& ctx);
  Result<SessionRow> start_session_tx(service::Tx& tx, int64_t channel_id, std::string_view source);
  // *taken: the buffered chat count it added (the caller removes it from the buffer after commit).
  Result<SessionRow> end_session_tx(service::Tx& tx, int64_t channel_id, int64_t* taken);
  Result<SessionRow> start_session_row(int64_t channel_id, std::string_view source);
  Result<SessionRow> end_session_row(int64_t channel_id);
  // The `session` event; returns the session's JSON (the routes answer with it).
  Result<boost::json::object> publish_session(const SessionRow& s, const char* state);
  void flusher_loop();
  int64_t pending_chat(const std::string& room);

  // ratings.cc
  Result<Reply> put_rating(Ctx& ctx);
  Result<Reply> list_ratings(Ctx& ctx);
  Result<Reply> list_reviewers(Ctx& ctx);
  Result<Reply> reviewer_profile(Ctx& ctx);

 public:
  // views.cc — JSON shapes (and the queries behind them), usable inside any transaction.
  static boost::json::object user_json(const UserRow& u);
  Result<boost::json::object> channel_json(service::Tx& tx, const ChannelRow& c);
  Result<boost::json::object> session_json(service::Tx& tx, const SessionRow& s);
  static boost::json::object rating_json(const RatingRow& r);
  static boost::json::object summary_json(const UserRow& u, const service::Row& aggregate, size_t first_sum_column);
  Result<std::optional<ChannelRow>> load_channel(service::Tx& tx, std::string_view where, const service::Params& p);
  Result<std::vector<ChannelRow>> load_channels(service::Tx& tx, std::string_view where, const service::Params& p);
  Result<std::vector<SessionRow>> load_sessions(service::Tx& tx, std::string_view where, const service::Params& p);
  Result<std::vector<RatingRow>> load_ratings(service::Tx& tx, std::string_view where, const service::Params& p);
  Result<std::optional<UserRow>> load_user(service::Tx& tx, std::string_view name);
  Result<std::vector<boost::json::object>> top_reviewers(service::Tx& tx, int64_t limit);
  static bool readable(const service::Caller& caller, const ChannelRow& c, bool invited);
  Result<bool> is_invited(service::Tx& tx, int64_t channel_id, int64_t user_id);
  // The channel with this id if `caller` may read it; kNotFound otherwise.
  Result<ChannelRow> readable_channel_id(service::Tx& tx, const service::Caller& caller, int64_t channel_id);
  // The session `:id` of the request if the caller may read its channel (404 otherwise).
  Result<std::pair<SessionRow, ChannelRow>> readable_session(service::Tx& tx, const service::Caller& caller,
                                                             std::string_view id_text);
  int64_t now_ms() const { return clock_->unix_ms(); }

  service::Db& db_;
  service::LiveHub& hub_;
  ReviewOptions options_;
  const Clock* clock_;

 private:
  std::once_flag dummy_once_;
  std::string dummy_hash_;

  std::mutex chat_mu_;
  std::unordered_map<std::string, int64_t> chat_pending_;  // room → messages. Guarded by chat_mu_
  std::mutex flush_mu_;                                    // one flush at a time
  std::condition_variable chat_cv_;
  bool stopping_ = false;  // Guarded by chat_mu_
  std::thread flusher_;
};

// The SQL predicate "the caller may read channel c" (alias c) and its two parameters.
inline constexpr std::string_view kReadableSql =
    "(c.private = 0 OR c.owner_id = ? OR EXISTS (SELECT 1 FROM channel_invites i WHERE i.channel_id = c.id AND "
    "i.user_id = ?))";

// "2026-11" of a unix-ms time, UTC.
std::string utc_month(int64_t unix_ms);

}  // namespace chiron::review
