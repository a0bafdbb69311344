// Live sessions: start/end (button, RTMP, crash recovery at open), participants, chat message
// counters buffered off the net threads.

#include <charconv>

#include "common/log.h"
#include "review/review_impl.h"
#include "review/validate.h"
#include "service/http.h"

namespace chiron::review {

namespace json = boost::json;
using service::api_status;

namespace {
constexpr size_t kMaxPendingRooms = 100000;  // counts for more rooms than this are dropped
constexpr int64_t kMaxListedSessions = 100;
}  // namespace

Result<ChannelRow> ReviewServiceImpl::readable_channel_id(service::Tx& tx, const service::Caller& caller,
                                                          int64_t channel_id) {
  CHIRON_ASSIGN_OR_RETURN(auto c, load_channel(tx, "c.id = ?", {channel_id}));
  if (!c) return Status::not_found("no such channel");
  bool invited = false;
  if (c->is_private && caller.via == service::Caller::Via::kCookie && caller.user_id != c->owner.id) {
    CHIRON_ASSIGN_OR_RETURN(invited, is_invited(tx, c->id, caller.user_id));
  }
  if (!readable(caller, *c, invited)) return Status::not_found("no such channel");
  return std::move(*c);
}

Result<std::pair<SessionRow, ChannelRow>> ReviewServiceImpl::readable_session(service::Tx& tx,
                                                                              const service::Caller& caller,
                                                                              std::string_view id_text) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || p != id_text.data() + id_text.size() || id <= 0)
    return Status::not_found("no session " + std::string(id_text));
  CHIRON_ASSIGN_OR_RETURN(auto rows, load_sessions(tx, "s.id = ?", {id}));
  if (rows.empty()) return Status::not_found("no session " + std::string(id_text));
  auto c = readable_channel_id(tx, caller, rows.front().channel_id);
  if (!c.ok()) return Status::not_found("no session " + std::string(id_text));
  return std::make_pair(std::move(rows.front()), std::move(*c));
}

// ---- start / end ----

Result<SessionRow> ReviewServiceImpl::start_session_tx(service::Tx& tx, int64_t channel_id, std::string_view source) {
  CHIRON_ASSIGN_OR_RETURN(auto open, tx.query_one("SELECT id FROM live_sessions WHERE channel_id = ? AND ended_at IS "
                                                  "NULL",
                                                  {channel_id}));
  if (open) return api_status(StatusCode::kAlreadyExists, "already_live", "the channel is already live");
  const int64_t now = now_ms();
  auto id = tx.insert("INSERT INTO live_sessions (channel_id, started_at, ended_at, source, chat_messages, "
                      "last_activity) VALUES (?, ?, NULL, ?, 0, ?) RETURNING id",
                      {channel_id, now, std::string(source), now});
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists)
    return api_status(StatusCode::kAlreadyExists, "already_live", "the channel is already live");
  CHIRON_RETURN_IF_ERROR(id);
  CHIRON_ASSIGN_OR_RETURN(auto rows, load_sessions(tx, "s.id = ?", {*id}));
  if (rows.empty()) return Status::internal("the new session vanished");
  return std::move(rows.front());
}

Result<SessionRow> ReviewServiceImpl::end_session_tx(service::Tx& tx, int64_t channel_id, int64_t* taken) {
  CHIRON_ASSIGN_OR_RETURN(auto rows, load_sessions(tx, "s.channel_id = ? AND s.ended_at IS NULL", {channel_id}));
  if (rows.empty()) return api_status(StatusCode::kFailedPrecondition, "offline", "the channel is not live");
  SessionRow s = std::move(rows.front());
  const int64_t now = now_ms();
  // The counts still buffered for this room belong to this session (flush_mu_ is held, so only
  // new messages can add to them). Only read here: the caller takes them out of the buffer once
  // the commit succeeded (PostgreSQL may run this function again; a commit may fail).
  const int64_t pending = pending_chat(s.chat_room);
  *taken = pending;
  CHIRON_RETURN_IF_ERROR(
      tx.exec("UPDATE live_sessions SET ended_at = ?, last_activity = ?, chat_messages = chat_messages + ? "
              "WHERE id = ?",
              {now, now, pending, s.id})
          .status());
  s.ended_at = now;
  s.chat_messages += pending;
  return s;
}

Result<json::object> ReviewServiceImpl::publish_session(const SessionRow& s, const char* state) {
  auto sj = db_.read_value<json::object>([&](service::Tx& tx) { return session_json(tx, s); });
  if (!sj.ok()) {
    log::warn("review", "session event not published", {{"session", s.id}, {"error", sj.status().to_string()}});
    return sj;
  }
  json::object ev;
  ev["type"] = "session";
  ev["state"] = state;
  ev["session"] = *sj;
  hub_.publish(s.channel_id, std::move(ev));
  return sj;
}

Result<SessionRow> ReviewServiceImpl::start_session_row(int64_t channel_id, std::string_view source) {
  if (source != "button" && source != "rtmp") return Status::invalid_argument("source must be button or rtmp");
  return db_.write_value<SessionRow>([&](service::Tx& tx) { return start_session_tx(tx, channel_id, source); });
}

Result<SessionRow> ReviewServiceImpl::end_session_row(int64_t channel_id) {
  std::lock_guard flush(flush_mu_);
  int64_t taken = 0;
  CHIRON_ASSIGN_OR_RETURN(SessionRow s, db_.write_value<SessionRow>([&](service::Tx& tx) {
    return end_session_tx(tx, channel_id, &taken);
  }));
  std::lock_guard lock(chat_mu_);
  if (auto it = chat_pending_.find(s.chat_room); it != chat_pending_.end() && (it->second -= taken) <= 0)
    chat_pending_.erase(it);
  return s;
}

Result<int64_t> ReviewServiceImpl::start_session(int64_t channel_id, std::string_view source) {
  CHIRON_ASSIGN_OR_RETURN(SessionRow s, start_session_row(channel_id, source));
  (void)publish_session(s, "live");  // a failed event is logged; the session has started
  return s.id;
}

Status ReviewServiceImpl::end_session(int64_t channel_id) {
  CHIRON_ASSIGN_OR_RETURN(SessionRow s, end_session_row(channel_id));
  (void)publish_session(s, "ended");
  return {};
}

Status ReviewServiceImpl::record_participant(int64_t session_id, int64_t user_id) {
  if (user_id <= 0) return Status::invalid_argument("anonymous viewers are not participants");
  return db_.write([&](service::Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto rows, load_sessions(tx, "s.id = ?", {session_id}));
    if (rows.empty()) return Status::not_found("no session " + std::to_string(session_id));
    if (rows.front().ended_at) return api_status(StatusCode::kFailedPrecondition, "session_ended", "the session has ended");
    if (rows.front().owner_id == user_id) return Status();  // the streamer is not a participant
    const int64_t now = now_ms();
    CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO session_participants (session_id, user_id, joined_at) VALUES (?, ?, ?) "
                                   "ON CONFLICT (session_id, user_id) DO NOTHING",
                                   {session_id, user_id, now}));
    return tx.exec("UPDATE live_sessions SET last_activity = ? WHERE id = ?", {now, session_id}).status();
  });
}

// ---- chat counters ----

void ReviewServiceImpl::count_chat_message(std::string_view room) {
  std::lock_guard lock(chat_mu_);
  auto it = chat_pending_.find(std::string(room));
  if (it != chat_pending_.end()) {
    ++it->second;
  } else if (chat_pending_.size() < kMaxPendingRooms) {
    chat_pending_.emplace(std::string(room), 1);
  }
}

int64_t ReviewServiceImpl::pending_chat(const std::string& room) {
  std::lock_guard lock(chat_mu_);
  auto it = chat_pending_.find(room);
  return it == chat_pending_.end() ? 0 : it->second;
}

void ReviewServiceImpl::flush_chat_counts() {
  std::lock_guard flush(flush_mu_);
  std::unordered_map<std::string, int64_t> batch;
  {
    std::lock_guard lock(chat_mu_);
    batch.swap(chat_pending_);
  }
  if (batch.empty()) return;
  const int64_t now = now_ms();
  Status st = db_.write([&](service::Tx& tx) -> Status {
    for (const auto& [room, n] : batch) {
      CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE live_sessions SET chat_messages = chat_messages + ?, last_activity = ? "
                                     "WHERE ended_at IS NULL AND channel_id = (SELECT id FROM channels WHERE "
                                     "chat_room = ?)",
                                     {n, now, room}));
    }
    return {};
  });
  if (!st.ok()) {  // keep the counts for the next attempt
    log::warn("review", "chat counts not written", {{"error", st.to_string()}});
    std::lock_guard lock(chat_mu_);
    for (const auto& [room, n] : batch) chat_pending_[room] += n;
  }
}

void ReviewServiceImpl::flusher_loop() {
  std::unique_lock lock(chat_mu_);
  while (!stopping_) {
    chat_cv_.wait_for(lock, std::chrono::milliseconds(options_.chat_flush_interval_ms), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    flush_chat_counts();
    lock.lock();
  }
}

// ---- routes ----

Result<Reply> ReviewServiceImpl::start_session_route(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  if (!ctx.req.body.empty()) CHIRON_RETURN_IF_ERROR(service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(ChannelRow c, db_.read_value<ChannelRow>([&](service::Tx& tx) { return owned_channel(ctx, tx); }));
  CHIRON_ASSIGN_OR_RETURN(SessionRow s, start_session_row(c.id, "button"));
  CHIRON_ASSIGN_OR_RETURN(auto body, publish_session(s, "live"));
  return Reply{201, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::end_session_route(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(ChannelRow c, db_.read_value<ChannelRow>([&](service::Tx& tx) { return owned_channel(ctx, tx); }));
  CHIRON_ASSIGN_OR_RETURN(SessionRow s, end_session_row(c.id));
  CHIRON_ASSIGN_OR_RETURN(auto body, publish_session(s, "ended"));
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::list_sessions(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.auth());
  int64_t limit = 50;
  if (auto l = ctx.req.query_param("limit")) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (ec != std::errc() || p != l->data() + l->size() || v < 1 || v > kMaxListedSessions)
      return api_status(StatusCode::kInvalidArgument, "invalid_query", "limit must be 1..100");
    limit = v;
  }
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.read_value<json::array>([&](service::Tx& tx) -> Result<json::array> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, readable_channel(ctx, tx));
    CHIRON_ASSIGN_OR_RETURN(auto rows, load_sessions(tx, "s.channel_id = ? ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
                                                     {c.id, limit}));
    json::array a;
    for (const auto& s : rows) {
      CHIRON_ASSIGN_OR_RETURN(auto sj, session_json(tx, s));
      a.push_back(std::move(sj));
    }
    return a;
  }));
  json::object body;
  body["sessions"] = std::move(out);
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::get_session(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  CHIRON_ASSIGN_OR_RETURN(auto body, db_.read_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(auto sc, readable_session(tx, a->caller, ctx.req.param("id")));
    CHIRON_ASSIGN_OR_RETURN(auto o, session_json(tx, sc.first));
    json::array ratings;
    const bool cookie = a->caller.via == service::Caller::Via::kCookie;
    if (cookie && a->caller.user_id == sc.second.owner.id) {
      CHIRON_ASSIGN_OR_RETURN(auto rows, load_ratings(tx, "r.session_id = ? ORDER BY ru.name", {sc.first.id}));
      for (const auto& r : rows) ratings.push_back(rating_json(r));
    } else if (cookie) {
      CHIRON_ASSIGN_OR_RETURN(auto rows, load_ratings(tx, "r.session_id = ? AND r.reviewer_id = ?",
                                                      {sc.first.id, a->caller.user_id}));
      for (const auto& r : rows) ratings.push_back(rating_json(r));
    }
    // `session` has "ratings": count; here "ratings" is the list and the count moves aside.
    o["rating_count"] = o["ratings"];
    o["ratings"] = std::move(ratings);
    return o;
  }));
  return Reply{200, std::move(body), {}};
}

}  // namespace chiron::review
