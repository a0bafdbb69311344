// The paper's rating system: who may rate what and when, and aggregates that always equal a
// recomputation from the individual ratings.

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "review_testutil.h"

namespace chiron::review::testing {
namespace {

namespace json = boost::json;

class RatingsTest : public ReviewTest {
 protected:
  // alice streams; bob and carol take part in one session that then ends.
  void SetUp() override {
    ReviewTest::SetUp();
    alice_ = signup("alice");
    bob_ = signup("bob");
    carol_ = signup("carol");
    dave_ = signup("dave");
    session_ = ended_session({bob_, carol_});
  }
  int64_t ended_session(const std::vector<Browser>& participants) {
    auto sid = svc_->start_session(channel_id("alice"), "button");
    EXPECT_TRUE(sid.ok());
    for (const auto& p : participants) EXPECT_TRUE(svc_->record_participant(*sid, p.user_id).ok());
    EXPECT_TRUE(svc_->end_session(channel_id("alice")).ok());
    return *sid;
  }
  Reply rate(const Browser& by, int64_t session, const std::string& reviewer, const std::string& body) {
    return as(by, "PUT", "/api/v1/sessions/" + std::to_string(session) + "/ratings/" + reviewer, body);
  }
  static std::string scores(int e, int h, int c, int x, int t, const std::string& comment = "") {
    return json::serialize(json::object{{"expertise", e}, {"helpfulness", h}, {"clarity", c}, {"examples", x},
                                        {"timeliness", t}, {"comment", comment}});
  }
  // reviewer_ratings and reviewer_ratings_monthly equal sums recomputed from `ratings`.
  void expect_aggregates_consistent() {
    auto check = db_->read([&](service::Tx& tx) -> Status {
      auto rows = tx.query(
          "SELECT r.reviewer_id, s.started_at, r.expertise, r.helpfulness, r.clarity, r.examples, r.timeliness "
          "FROM ratings r JOIN live_sessions s ON s.id = r.session_id");
      if (!rows.ok()) return rows.status();
      std::map<int64_t, std::vector<int64_t>> total;
      std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> monthly;
      for (const auto& r : *rows) {
        auto& t = total[r.integer(0)];
        auto& m = monthly[{r.integer(0), utc_month(r.integer(1))}];
        t.resize(6);
        m.resize(6);
        t[0]++;
        m[0]++;
        for (size_t i = 0; i < 5; ++i) {
          t[i + 1] += r.integer(2 + i);
          m[i + 1] += r.integer(2 + i);
        }
      }
      auto agg = tx.query("SELECT reviewer_id, count, sum_expertise, sum_helpfulness, sum_clarity, sum_examples, "
                          "sum_timeliness FROM reviewer_ratings WHERE count > 0");
      if (!agg.ok()) return agg.status();
      EXPECT_EQ(agg->size(), total.size());
      for (const auto& r : *agg)
        for (size_t i = 0; i < 6; ++i) EXPECT_EQ(r.integer(1 + i), total[r.integer(0)][i]) << "column " << i;
      auto mon = tx.query("SELECT reviewer_id, month, count, sum_expertise, sum_helpfulness, sum_clarity, "
                          "sum_examples, sum_timeliness FROM reviewer_ratings_monthly WHERE count > 0");
      if (!mon.ok()) return mon.status();
      EXPECT_EQ(mon->size(), monthly.size());
      for (const auto& r : *mon)
        for (size_t i = 0; i < 6; ++i)
          EXPECT_EQ(r.integer(2 + i), (monthly[{r.integer(0), r.text(1)}][i])) << "column " << i;
      return {};
    });
    EXPECT_TRUE(check.ok()) << check.to_string();
  }

  Browser alice_, bob_, carol_, dave_;
  int64_t session_ = 0;
};

TEST_F(RatingsTest, StreamerRatesAParticipantAndEditsWithin24Hours) {
  Reply r = rate(alice_, session_, "bob", scores(5, 4, 3, 2, 1, "thanks!"));
  ASSERT_EQ(r.status, 201) << r.raw.body;
  EXPECT_EQ(r.json.at("reviewer").at("name").as_string(), "bob");
  EXPECT_EQ(r.json.at("by").at("name").as_string(), "alice");
  EXPECT_DOUBLE_EQ(r.json.at("overall").as_double(), 3.0);
  EXPECT_EQ(r.json.at("comment").as_string(), "thanks!");
  EXPECT_EQ(r.json.at("editable_until").as_string(), format_utc_ms(clock_.unix_ms() + kEditWindowMs));
  expect_aggregates_consistent();

  clock_.advance(std::chrono::hours(23));
  Reply edit = rate(alice_, session_, "bob", scores(5, 5, 5, 5, 4));
  ASSERT_EQ(edit.status, 200) << edit.raw.body;
  EXPECT_DOUBLE_EQ(edit.json.at("overall").as_double(), 4.8);
  EXPECT_EQ(edit.json.at("created_at"), r.json.at("created_at"));
  EXPECT_NE(edit.json.at("updated_at"), r.json.at("updated_at"));
  expect_aggregates_consistent();

  clock_.advance(std::chrono::hours(1));
  Reply late = rate(alice_, session_, "bob", scores(1, 1, 1, 1, 1));
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.code(), "edit_window_closed");
  expect_aggregates_consistent();

  Reply profile = call("GET", "/api/v1/reviewers/bob");
  ASSERT_EQ(profile.status, 200);
  EXPECT_EQ(profile.json.at("summary").at("count").as_int64(), 1);
  EXPECT_DOUBLE_EQ(profile.json.at("summary").at("overall").as_double(), 4.8);
  EXPECT_DOUBLE_EQ(profile.json.at("summary").at("timeliness").as_double(), 4.0);

  auto events = hub_.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().second.at("type").as_string(), "rating");
  EXPECT_EQ(events.back().second.at("session_id").as_int64(), session_);
  EXPECT_FALSE(events.back().second.contains("expertise"));
}

TEST_F(RatingsTest, OnlyTheStreamerRatesOnlyParticipantsOnlyAfterTheSession) {
  EXPECT_EQ(rate(bob_, session_, "carol", scores(5, 5, 5, 5, 5)).status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/sessions/" + std::to_string(session_) + "/ratings/bob", scores(5, 5, 5, 5, 5)).status,
            401);
  EXPECT_EQ(call("PUT", "/api/v1/sessions/" + std::to_string(session_) + "/ratings/bob", scores(5, 5, 5, 5, 5),
                 {{"Cookie", alice_.cookie}})
                .status,
            403);  // no CSRF token
  EXPECT_EQ(rate(alice_, session_, "dave", scores(5, 5, 5, 5, 5)).status, 404);   // did not take part
  EXPECT_EQ(rate(alice_, session_, "nobody", scores(5, 5, 5, 5, 5)).status, 404);
  EXPECT_EQ(rate(alice_, session_, "alice", scores(5, 5, 5, 5, 5)).status, 404);  // not a participant
  EXPECT_EQ(rate(alice_, 424242, "bob", scores(5, 5, 5, 5, 5)).status, 404);

  auto live = svc_->start_session(channel_id("alice"), "button");
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE(svc_->record_participant(*live, bob_.user_id).ok());
  Reply r = rate(alice_, *live, "bob", scores(5, 5, 5, 5, 5));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.code(), "session_live");
  auto count = db_->read_value<std::optional<service::Row>>(
      [](service::Tx& tx) { return tx.query_one("SELECT COUNT(*) FROM ratings"); });
  EXPECT_EQ((*count)->integer(0), 0);
  expect_aggregates_consistent();
}

TEST_F(RatingsTest, ScoresMustBeIntegersFrom1To5) {
  for (const std::string& body :
       {scores(0, 5, 5, 5, 5), scores(5, 6, 5, 5, 5), std::string(R"({"expertise":5,"helpfulness":5,"clarity":5})"),
        std::string(R"({"expertise":2.5,"helpfulness":5,"clarity":5,"examples":5,"timeliness":5})"),
        std::string(R"({"expertise":"5","helpfulness":5,"clarity":5,"examples":5,"timeliness":5})"),
        scores(5, 5, 5, 5, 5, std::string(2001, 'x')), scores(5, 5, 5, 5, 5, "bad\x01")}) {
    Reply r = rate(alice_, session_, "bob", body);
    EXPECT_EQ(r.status, 400) << body;
  }
  EXPECT_EQ(rate(alice_, session_, "bob", scores(5, 5, 5, 5, 5, std::string(2000, 'x'))).status, 201);
  Reply ct = call("PUT", "/api/v1/sessions/" + std::to_string(session_) + "/ratings/carol", scores(1, 1, 1, 1, 1),
                  {{"Cookie", alice_.cookie}, {"X-CSRF-Token", alice_.csrf}, {"Content-Type", "text/plain"}}, false);
  EXPECT_EQ(ct.status, 415);
}

TEST_F(RatingsTest, RatingsAreVisibleToTheStreamerAndEachRatedReviewer) {
  ASSERT_EQ(rate(alice_, session_, "bob", scores(5, 5, 5, 5, 5, "great")).status, 201);
  ASSERT_EQ(rate(alice_, session_, "carol", scores(3, 3, 3, 3, 3)).status, 201);
  const std::string path = "/api/v1/sessions/" + std::to_string(session_);
  EXPECT_EQ(as(alice_, "GET", path + "/ratings").json.at("ratings").as_array().size(), 2u);
  auto bob_sees = as(bob_, "GET", path + "/ratings").json.at("ratings").as_array();
  ASSERT_EQ(bob_sees.size(), 1u);
  EXPECT_EQ(bob_sees[0].at("reviewer").at("name").as_string(), "bob");
  EXPECT_TRUE(as(dave_, "GET", path + "/ratings").json.at("ratings").as_array().empty());
  EXPECT_EQ(call("GET", path + "/ratings").status, 401);
  Reply s = as(alice_, "GET", path);
  EXPECT_EQ(s.json.at("ratings").as_array().size(), 2u);
  EXPECT_EQ(s.json.at("rating_count").as_int64(), 2);
  EXPECT_TRUE(call("GET", path).json.at("ratings").as_array().empty());
  EXPECT_EQ(call("GET", "/api/v1/channels/alice/sessions").json.at("sessions").at(0).at("ratings").as_int64(), 2);
}

TEST_F(RatingsTest, AggregatesAndMonthlySeriesFollowCreatesAndEdits) {
  // November session (from SetUp), then one in December.
  ASSERT_EQ(rate(alice_, session_, "bob", scores(4, 4, 4, 4, 4)).status, 201);
  ASSERT_EQ(rate(alice_, session_, "carol", scores(2, 2, 2, 2, 2)).status, 201);
  clock_.advance(std::chrono::hours(24 * 20));
  const int64_t december = ended_session({bob_});
  ASSERT_EQ(rate(alice_, december, "bob", scores(2, 3, 4, 5, 1)).status, 201);
  ASSERT_EQ(rate(alice_, december, "bob", scores(3, 3, 3, 3, 3)).status, 200);  // edit
  expect_aggregates_consistent();

  Reply p = call("GET", "/api/v1/reviewers/bob");
  ASSERT_EQ(p.status, 200) << p.raw.body;
  EXPECT_EQ(p.json.at("summary").at("count").as_int64(), 2);
  EXPECT_DOUBLE_EQ(p.json.at("summary").at("overall").as_double(), 3.5);
  EXPECT_DOUBLE_EQ(p.json.at("summary").at("expertise").as_double(), 3.5);
  const auto& monthly = p.json.at("monthly").as_array();
  ASSERT_EQ(monthly.size(), 2u);
  EXPECT_EQ(monthly[0].at("month").as_string(), "2026-11");
  EXPECT_EQ(monthly[0].at("count").as_int64(), 1);
  EXPECT_DOUBLE_EQ(monthly[0].at("overall").as_double(), 4.0);
  EXPECT_EQ(monthly[1].at("month").as_string(), "2026-12");
  EXPECT_DOUBLE_EQ(monthly[1].at("overall").as_double(), 3.0);
  EXPECT_DOUBLE_EQ(monthly[1].at("examples").as_double(), 3.0);
  EXPECT_EQ(p.json.at("recent").as_array().size(), 2u);

  Reply top = call("GET", "/api/v1/reviewers?limit=10");
  const auto& list = top.json.at("reviewers").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("user").at("name").as_string(), "bob");
  EXPECT_EQ(list[1].at("user").at("name").as_string(), "carol");
  EXPECT_EQ(call("GET", "/api/v1/reviewers?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/reviewers/nobody").status, 404);
  Reply none = call("GET", "/api/v1/reviewers/dave");
  EXPECT_EQ(none.json.at("summary").at("count").as_int64(), 0);
  EXPECT_TRUE(none.json.at("monthly").as_array().empty());
  EXPECT_EQ(call("GET", "/api/v1/home").json.at("top_reviewers").as_array().size(), 2u);
}

TEST_F(RatingsTest, ConcurrentRatingsKeepAggregatesExact) {
  constexpr int kReviewers = 6;
  constexpr int kSessions = 4;
  std::vector<Browser> reviewers;
  for (int i = 0; i < kReviewers; ++i) reviewers.push_back(signup("rev" + std::to_string(i)));
  std::vector<int64_t> sessions;
  for (int s = 0; s < kSessions; ++s) {
    sessions.push_back(ended_session(reviewers));
    clock_.advance(std::chrono::hours(24 * 7));  // spread over two months (within the 30-day login)
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReviewers; ++i) {
    threads.emplace_back([&, i] {
      for (int s = 0; s < kSessions; ++s) {
        for (int round = 0; round < 2; ++round) {  // create, then edit
          int v = 1 + (i + s + round) % 5;
          Reply r = rate(alice_, sessions[s], reviewers[i].name, scores(v, 6 - v, v, 6 - v, 3));
          if (r.status != (round == 0 ? 201 : 200)) {
            ADD_FAILURE() << r.status << " " << r.raw.body;
            failures++;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  expect_aggregates_consistent();
  Reply p = call("GET", "/api/v1/reviewers/rev0");
  EXPECT_EQ(p.json.at("summary").at("count").as_int64(), kSessions);
}

}  // namespace
}  // namespace chiron::review::testing
