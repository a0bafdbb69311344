// JSON shapes of docs/platform-api.md (user, channel, session, rating, reviewer_summary) and
// the row loaders behind them.

#include "review/review_impl.h"
#include "review/validate.h"
#include "service/http.h"

namespace chiron::review {

namespace json = boost::json;

namespace {

constexpr std::string_view kChannelSelect =
    "SELECT c.id, c.name, c.title, c.description, c.tags, c.private, c.chat_room, u.id, u.name, u.display_name, "
    "(SELECT s.id FROM live_sessions s WHERE s.channel_id = c.id AND s.ended_at IS NULL), c.record "
    "FROM channels c JOIN users u ON u.id = c.owner_id WHERE ";

constexpr std::string_view kSessionSelect =
    "SELECT s.id, s.channel_id, c.name, c.chat_room, c.owner_id, s.started_at, s.ended_at, s.source, "
    "s.chat_messages FROM live_sessions s JOIN channels c ON c.id = s.channel_id WHERE ";

constexpr std::string_view kRatingSelect =
    "SELECT r.session_id, ru.id, ru.name, ru.display_name, bu.id, bu.name, bu.display_name, r.expertise, "
    "r.helpfulness, r.clarity, r.examples, r.timeliness, r.comment, r.created_at, r.updated_at "
    "FROM ratings r JOIN users ru ON ru.id = r.reviewer_id JOIN users bu ON bu.id = r.by_id WHERE ";

ChannelRow channel_from(const service::Row& r) {
  ChannelRow c;
  c.id = r.integer(0);
  c.name = r.text(1);
  c.title = r.text(2);
  c.description = r.text(3);
  auto tags = parse_tags_json(r.text(4));
  if (tags.ok()) c.tags = std::move(*tags);
  c.is_private = r.integer(5) != 0;
  c.chat_room = r.text(6);
  c.owner = UserRow{r.integer(7), r.text(8), r.text(9)};
  c.live_session_id = r.opt_integer(10).value_or(0);
  c.record = r.integer(11) != 0;
  return c;
}

}  // namespace

json::object ReviewServiceImpl::user_json(const UserRow& u) {
  json::object o;
  o["id"] = u.id;
  o["name"] = u.name;
  o["display_name"] = u.display_name;
  return o;
}

bool ReviewServiceImpl::readable(const service::Caller& caller, const ChannelRow& c, bool invited) {
  if (!c.is_private) return true;
  if (caller.anonymous()) return false;
  if (caller.via == service::Caller::Via::kPushToken) return caller.push_channel_id == c.id;
  return caller.user_id == c.owner.id || invited;
}

Result<std::vector<ChannelRow>> ReviewServiceImpl::load_channels(service::Tx& tx, std::string_view where,
                                                                 const service::Params& p) {
  std::string sql(kChannelSelect);
  sql += where;
  CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query(sql, p));
  std::vector<ChannelRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(channel_from(r));
  return out;
}

Result<std::optional<ChannelRow>> ReviewServiceImpl::load_channel(service::Tx& tx, std::string_view where,
                                                                  const service::Params& p) {
  CHIRON_ASSIGN_OR_RETURN(auto rows, load_channels(tx, where, p));
  if (rows.empty()) return std::optional<ChannelRow>();
  return std::optional<ChannelRow>(std::move(rows.front()));
}

Result<std::optional<UserRow>> ReviewServiceImpl::load_user(service::Tx& tx, std::string_view name) {
  CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id, name, display_name FROM users WHERE name = ?",
                                                 {std::string(name)}));
  if (!row) return std::optional<UserRow>();
  return std::optional<UserRow>(UserRow{row->integer(0), row->text(1), row->text(2)});
}

Result<std::vector<SessionRow>> ReviewServiceImpl::load_sessions(service::Tx& tx, std::string_view where,
                                                                 const service::Params& p) {
  std::string sql(kSessionSelect);
  sql += where;
  CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query(sql, p));
  std::vector<SessionRow> out;
  for (const auto& r : rows) {
    SessionRow s;
    s.id = r.integer(0);
    s.channel_id = r.integer(1);
    s.channel = r.text(2);
    s.chat_room = r.text(3);
    s.owner_id = r.integer(4);
    s.started_at = r.integer(5);
    s.ended_at = r.opt_integer(6);
    s.source = r.text(7);
    s.chat_messages = r.integer(8);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<RatingRow>> ReviewServiceImpl::load_ratings(service::Tx& tx, std::string_view where,
                                                               const service::Params& p) {
  std::string sql(kRatingSelect);
  sql += where;
  CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query(sql, p));
  std::vector<RatingRow> out;
  for (const auto& r : rows) {
    RatingRow x;
    x.session_id = r.integer(0);
    x.reviewer = UserRow{r.integer(1), r.text(2), r.text(3)};
    x.by = UserRow{r.integer(4), r.text(5), r.text(6)};
    for (size_t i = 0; i < 5; ++i) x.scores[i] = r.integer(7 + i);
    x.comment = r.text(12);
    x.created_at = r.integer(13);
    x.updated_at = r.integer(14);
    out.push_back(std::move(x));
  }
  return out;
}

Result<json::object> ReviewServiceImpl::channel_json(service::Tx& tx, const ChannelRow& c) {
  json::object o;
  o["name"] = c.name;
  o["title"] = c.title;
  o["description"] = c.description;
  json::array tags;
  for (const auto& t : c.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  o["private"] = c.is_private;
  o["record"] = c.record;
  o["owner"] = user_json(c.owner);
  o["live"] = c.live_session_id != 0;
  o["session"] = nullptr;
  if (c.live_session_id != 0) {
    CHIRON_ASSIGN_OR_RETURN(auto sessions, load_sessions(tx, "s.id = ?", {c.live_session_id}));
    if (!sessions.empty()) {
      CHIRON_ASSIGN_OR_RETURN(auto sj, session_json(tx, sessions.front()));
      o["session"] = std::move(sj);
    }
  }
  o["chat_room"] = c.chat_room;
  return o;
}

Result<json::object> ReviewServiceImpl::session_json(service::Tx& tx, const SessionRow& s) {
  json::object o;
  o["id"] = s.id;
  o["channel"] = s.channel;
  o["started_at"] = format_utc_ms(s.started_at);
  if (s.ended_at) {
    o["ended_at"] = format_utc_ms(*s.ended_at);
  } else {
    o["ended_at"] = nullptr;
  }
  const int64_t end = s.ended_at.value_or(now_ms());
  o["duration_s"] = std::max<int64_t>(0, (end - s.started_at) / 1000);
  o["source"] = s.source;
  CHIRON_ASSIGN_OR_RETURN(auto parts,
                          tx.query("SELECT u.id, u.name, u.display_name FROM session_participants p JOIN users u "
                                   "ON u.id = p.user_id WHERE p.session_id = ? ORDER BY p.joined_at, u.id",
                                   {s.id}));
  json::array participants;
  for (const auto& r : parts) participants.push_back(user_json(UserRow{r.integer(0), r.text(1), r.text(2)}));
  o["participants"] = std::move(participants);
  o["chat_messages"] = s.chat_messages + (s.ended_at ? 0 : pending_chat(s.chat_room));
  int64_t files = 0, comments = 0;
  if (options_.activity) {
    CHIRON_ASSIGN_OR_RETURN(auto act, options_.activity(tx, s.id));
    files = act.first;
    comments = act.second;
  }
  o["files_touched"] = files;
  o["comments"] = comments;
  CHIRON_ASSIGN_OR_RETURN(auto n, tx.query_one("SELECT COUNT(*) FROM ratings WHERE session_id = ?", {s.id}));
  o["ratings"] = n ? n->integer(0) : 0;
  return o;
}

json::object ReviewServiceImpl::rating_json(const RatingRow& r) {
  json::object o;
  o["session_id"] = r.session_id;
  o["reviewer"] = user_json(r.reviewer);
  o["by"] = user_json(r.by);
  int64_t total = 0;
  for (size_t i = 0; i < 5; ++i) {
    o[kCriteria[i]] = r.scores[i];
    total += r.scores[i];
  }
  o["overall"] = static_cast<double>(total) / 5.0;
  o["comment"] = r.comment;
  o["created_at"] = format_utc_ms(r.created_at);
  o["updated_at"] = format_utc_ms(r.updated_at);
  o["editable_until"] = format_utc_ms(r.created_at + kEditWindowMs);
  return o;
}

json::object ReviewServiceImpl::summary_json(const UserRow& u, const service::Row& agg, size_t first) {
  json::object o;
  o["user"] = user_json(u);
  const int64_t count = agg.integer(first);
  o["count"] = count;
  int64_t total = 0;
  for (size_t i = 0; i < 5; ++i) total += agg.integer(first + 1 + i);
  o["overall"] = count > 0 ? static_cast<double>(total) / static_cast<double>(5 * count) : 0.0;
  for (size_t i = 0; i < 5; ++i)
    o[kCriteria[i]] =
        count > 0 ? static_cast<double>(agg.integer(first + 1 + i)) / static_cast<double>(count) : 0.0;
  return o;
}

Result<std::vector<json::object>> ReviewServiceImpl::top_reviewers(service::Tx& tx, int64_t limit) {
  CHIRON_ASSIGN_OR_RETURN(
      auto rows,
      tx.query("SELECT u.id, u.name, u.display_name, r.count, r.sum_expertise, r.sum_helpfulness, r.sum_clarity, "
               "r.sum_examples, r.sum_timeliness FROM reviewer_ratings r JOIN users u ON u.id = r.reviewer_id "
               "WHERE r.count > 0 ORDER BY (r.sum_expertise + r.sum_helpfulness + r.sum_clarity + r.sum_examples + "
               "r.sum_timeliness) * 1.0 / r.count DESC, r.count DESC, u.name LIMIT ?",
               {limit}));
  std::vector<json::object> out;
  for (const auto& r : rows) out.push_back(summary_json(UserRow{r.integer(0), r.text(1), r.text(2)}, r, 3));
  return out;
}

}  // namespace chiron::review
