// The paper's rating system (section 6): the streamer rates each reviewer who took part in an
// ended session on five criteria; per-reviewer aggregates (*Rating*) and monthly aggregates
// (*PeriodicRating*) change in the same transaction as the rating itself.

#include <charconv>

#include "review/review_impl.h"
#include "review/validate.h"
#include "service/http.h"

namespace chiron::review {

namespace json = boost::json;
using service::api_status;

namespace {

constexpr int64_t kMaxReviewers = 100;

// Adds `delta` (count + five sums) to one aggregate row, creating it at zero first.
Status add_to_aggregate(service::Tx& tx, std::string_view table, std::string_view key_columns,
                        service::Params key, int64_t count, const int64_t (&sums)[5]) {
  std::string sql = "INSERT INTO " + std::string(table) + " (" + std::string(key_columns) +
                    ", count, sum_expertise, sum_helpfulness, sum_clarity, sum_examples, sum_timeliness) VALUES (";
  for (size_t i = 0; i < key.size(); ++i) sql += "?, ";
  sql += "?, ?, ?, ?, ?, ?) ON CONFLICT (" + std::string(key_columns) + ") DO UPDATE SET count = " +
         std::string(table) + ".count + excluded.count";
  for (const char* c : kCriteria) {
    sql += ", sum_" + std::string(c) + " = " + std::string(table) + ".sum_" + c + " + excluded.sum_" + c;
  }
  key.emplace_back(count);
  for (int64_t s : sums) key.emplace_back(s);
  return tx.exec(sql, key).status();
}

Result<int64_t> parse_limit(const net::Request& req, int64_t fallback, int64_t max) {
  auto l = req.query_param("limit");
  if (!l) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
  if (ec != std::errc() || p != l->data() + l->size() || v < 1 || v > max)
    return api_status(StatusCode::kInvalidArgument, "invalid_query", "limit must be 1.." + std::to_string(max));
  return v;
}

}  // namespace

Result<Reply> ReviewServiceImpl::put_rating(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  int64_t scores[5];
  for (size_t i = 0; i < 5; ++i) {
    CHIRON_ASSIGN_OR_RETURN(scores[i], service::int_field(body, kCriteria[i], 1, 5));
  }
  CHIRON_ASSIGN_OR_RETURN(std::string comment, service::string_field(body, "comment", false, kMaxCommentBytes));
  if (!valid_text(comment))
    return api_status(StatusCode::kInvalidArgument, "invalid_field", "field 'comment' must be printable UTF-8");
  const std::string reviewer_name(ctx.req.param("reviewer"));
  const int64_t now = now_ms();
  bool created = false;
  int64_t channel_id = 0;
  CHIRON_ASSIGN_OR_RETURN(RatingRow rating, db_.write_value<RatingRow>([&](service::Tx& tx) -> Result<RatingRow> {
    CHIRON_ASSIGN_OR_RETURN(auto sc, readable_session(tx, a->caller, ctx.req.param("id")));
    const SessionRow& s = sc.first;
    channel_id = s.channel_id;
    if (a->caller.user_id != sc.second.owner.id)
      return Status::permission_denied("only the session's streamer rates its reviewers");
    if (!s.ended_at) return api_status(StatusCode::kFailedPrecondition, "session_live", "rate after the session ends");
    CHIRON_ASSIGN_OR_RETURN(auto reviewer, load_user(tx, reviewer_name));
    if (!reviewer) return Status::not_found("no user " + reviewer_name);
    CHIRON_ASSIGN_OR_RETURN(auto took_part, tx.query_one("SELECT 1 FROM session_participants WHERE session_id = ? "
                                                         "AND user_id = ?",
                                                         {s.id, reviewer->id}));
    if (!took_part) return Status::not_found(reviewer_name + " did not take part in this session");
    CHIRON_ASSIGN_OR_RETURN(auto old, load_ratings(tx, "r.session_id = ? AND r.reviewer_id = ?", {s.id, reviewer->id}));
    int64_t delta[5];
    int64_t count_delta = 0;
    if (old.empty()) {
      created = true;
      count_delta = 1;
      for (size_t i = 0; i < 5; ++i) delta[i] = scores[i];
      CHIRON_RETURN_IF_ERROR(tx.insert(
          "INSERT INTO ratings (session_id, reviewer_id, by_id, expertise, helpfulness, clarity, examples, "
          "timeliness, comment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {s.id, reviewer->id, a->caller.user_id, scores[0], scores[1], scores[2], scores[3], scores[4], comment, now,
           now}));
    } else {
      if (now >= old.front().created_at + kEditWindowMs)
        return api_status(StatusCode::kFailedPrecondition, "edit_window_closed",
                          "a rating can be edited for 24 hours after it was first given");
      for (size_t i = 0; i < 5; ++i) delta[i] = scores[i] - old.front().scores[i];
      CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE ratings SET expertise = ?, helpfulness = ?, clarity = ?, examples = ?, "
                                     "timeliness = ?, comment = ?, updated_at = ? WHERE session_id = ? AND "
                                     "reviewer_id = ?",
                                     {scores[0], scores[1], scores[2], scores[3], scores[4], comment, now, s.id,
                                      reviewer->id}));
    }
    CHIRON_RETURN_IF_ERROR(
        add_to_aggregate(tx, "reviewer_ratings", "reviewer_id", {reviewer->id}, count_delta, delta));
    CHIRON_RETURN_IF_ERROR(add_to_aggregate(tx, "reviewer_ratings_monthly", "reviewer_id, month",
                                            {reviewer->id, utc_month(s.started_at)}, count_delta, delta));
    CHIRON_ASSIGN_OR_RETURN(auto rows, load_ratings(tx, "r.session_id = ? AND r.reviewer_id = ?", {s.id, reviewer->id}));
    if (rows.empty()) return Status::internal("the rating vanished");
    return std::move(rows.front());
  }));
  json::object ev;
  ev["type"] = "rating";
  ev["session_id"] = rating.session_id;
  ev["reviewer"] = user_json(rating.reviewer);
  hub_.publish(channel_id, std::move(ev));
  return Reply{created ? 201 : 200, rating_json(rating), {}};
}

Result<Reply> ReviewServiceImpl::list_ratings(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.read_value<json::array>([&](service::Tx& tx) -> Result<json::array> {
    CHIRON_ASSIGN_OR_RETURN(auto sc, readable_session(tx, a->caller, ctx.req.param("id")));
    if (a->caller.via != service::Caller::Via::kCookie) return Status::unauthenticated("log in to see ratings");
    std::vector<RatingRow> rows;
    if (a->caller.user_id == sc.second.owner.id) {
      CHIRON_ASSIGN_OR_RETURN(rows, load_ratings(tx, "r.session_id = ? ORDER BY ru.name", {sc.first.id}));
    } else {
      CHIRON_ASSIGN_OR_RETURN(rows, load_ratings(tx, "r.session_id = ? AND r.reviewer_id = ?",
                                                 {sc.first.id, a->caller.user_id}));
    }
    json::array arr;
    for (const auto& r : rows) arr.push_back(rating_json(r));
    return arr;
  }));
  json::object body;
  body["ratings"] = std::move(out);
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::list_reviewers(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(int64_t limit, parse_limit(ctx.req, 10, kMaxReviewers));
  CHIRON_ASSIGN_OR_RETURN(auto top, db_.read_value<std::vector<json::object>>(
                                        [&](service::Tx& tx) { return top_reviewers(tx, limit); }));
  json::array arr;
  for (auto& t : top) arr.push_back(std::move(t));
  json::object body;
  body["reviewers"] = std::move(arr);
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::reviewer_profile(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  const int64_t uid = a->caller.via == service::Caller::Via::kCookie ? a->caller.user_id : 0;
  const std::string name(ctx.req.param("name"));
  if (!valid_name(name)) return Status::not_found("no user " + name);
  CHIRON_ASSIGN_OR_RETURN(auto body, db_.read_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(auto user, load_user(tx, name));
    if (!user) return Status::not_found("no user " + name);
    json::object o;
    o["user"] = user_json(*user);
    CHIRON_ASSIGN_OR_RETURN(auto agg, tx.query_one("SELECT count, sum_expertise, sum_helpfulness, sum_clarity, "
                                                   "sum_examples, sum_timeliness FROM reviewer_ratings WHERE "
                                                   "reviewer_id = ?",
                                                   {user->id}));
    o["summary"] = summary_json(*user, agg ? *agg : service::Row(std::vector<service::SqlValue>(6, int64_t{0})), 0);
    CHIRON_ASSIGN_OR_RETURN(auto months, tx.query("SELECT month, count, sum_expertise, sum_helpfulness, sum_clarity, "
                                                  "sum_examples, sum_timeliness FROM reviewer_ratings_monthly WHERE "
                                                  "reviewer_id = ? AND count > 0 ORDER BY month",
                                                  {user->id}));
    json::array monthly;
    for (const auto& m : months) {
      json::object s = summary_json(*user, m, 1);
      s.erase("user");
      json::object entry;
      entry["month"] = m.text(0);
      for (auto& kv : s) entry[kv.key()] = kv.value();
      monthly.push_back(std::move(entry));
    }
    o["monthly"] = std::move(monthly);
    CHIRON_ASSIGN_OR_RETURN(
        auto recent,
        load_ratings(tx,
                     "r.reviewer_id = ? AND EXISTS (SELECT 1 FROM live_sessions s JOIN channels c ON c.id = "
                     "s.channel_id WHERE s.id = r.session_id AND " +
                         std::string(kReadableSql) + ") ORDER BY r.created_at DESC, r.id DESC LIMIT 10",
                     {user->id, uid, uid}));
    json::array rec;
    for (const auto& r : recent) rec.push_back(rating_json(r));
    o["recent"] = std::move(rec);
    return o;
  }));
  return Reply{200, std::move(body), {}};
}

}  // namespace chiron::review
