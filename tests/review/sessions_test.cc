// Live sessions: start/end over HTTP and the service API, participants, chat counts, recovery.

#include <gtest/gtest.h>

#include "review_testutil.h"

namespace chiron::review::testing {
namespace {

using SessionsTest = ReviewTest;

TEST_F(SessionsTest, StartTwiceIsAConflictAndEndGoesOffline) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  EXPECT_EQ(as(b, "POST", "/api/v1/channels/alice/sessions", "{}").status, 403);
  Reply start = as(a, "POST", "/api/v1/channels/alice/sessions", "{}");
  ASSERT_EQ(start.status, 201) << start.raw.body;
  EXPECT_EQ(start.json.at("source").as_string(), "button");
  EXPECT_TRUE(start.json.at("ended_at").is_null());
  EXPECT_EQ(start.json.at("channel").as_string(), "alice");
  Reply again = as(a, "POST", "/api/v1/channels/alice/sessions", "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(svc_->start_session(channel_id("alice"), "rtmp").status().code(), StatusCode::kAlreadyExists);
  Reply ch = call("GET", "/api/v1/channels/alice");
  EXPECT_TRUE(ch.json.at("live").as_bool());
  EXPECT_EQ(ch.json.at("session").at("id"), start.json.at("id"));
  EXPECT_EQ(call("GET", "/api/v1/channels?live=1").json.at("channels").as_array().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/home").json.at("live").as_array().size(), 1u);

  clock_.advance(std::chrono::seconds(90));
  EXPECT_EQ(as(b, "POST", "/api/v1/channels/alice/sessions/current/end").status, 403);
  Reply end = as(a, "POST", "/api/v1/channels/alice/sessions/current/end");
  ASSERT_EQ(end.status, 200) << end.raw.body;
  EXPECT_FALSE(end.json.at("ended_at").is_null());
  EXPECT_EQ(end.json.at("duration_s").as_int64(), 90);
  Reply end2 = as(a, "POST", "/api/v1/channels/alice/sessions/current/end");
  EXPECT_EQ(end2.status, 409);
  EXPECT_EQ(end2.code(), "offline");
  EXPECT_FALSE(call("GET", "/api/v1/channels/alice").json.at("live").as_bool());
  Reply list = call("GET", "/api/v1/channels/alice/sessions");
  ASSERT_EQ(list.json.at("sessions").as_array().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/home").json.at("recent_sessions").as_array().size(), 1u);

  auto events = hub_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].second.at("type").as_string(), "session");
  EXPECT_EQ(events[0].second.at("state").as_string(), "live");
  EXPECT_EQ(events[1].second.at("state").as_string(), "ended");
  EXPECT_EQ(events[1].first, channel_id("alice"));
}

TEST_F(SessionsTest, StartNeedsCsrfAndAcceptsOnlyJson) {
  Browser a = signup("alice");
  EXPECT_EQ(call("POST", "/api/v1/channels/alice/sessions", "{}", {{"Cookie", a.cookie}}).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/channels/alice/sessions", "x=1",
                 {{"Cookie", a.cookie}, {"X-CSRF-Token", a.csrf}, {"Content-Type", "text/plain"}}, false)
                .status,
            415);
  EXPECT_EQ(call("POST", "/api/v1/channels/alice/sessions").status, 401);
}

TEST_F(SessionsTest, ParticipantsAreRecordedOnceAndNeverTheOwner) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  Browser c = signup("carol");
  auto sid = svc_->start_session(channel_id("alice"), "rtmp");
  ASSERT_TRUE(sid.ok());
  EXPECT_TRUE(svc_->record_participant(*sid, b.user_id).ok());
  EXPECT_TRUE(svc_->record_participant(*sid, b.user_id).ok());
  EXPECT_TRUE(svc_->record_participant(*sid, a.user_id).ok());
  clock_.advance(std::chrono::seconds(1));
  EXPECT_TRUE(svc_->record_participant(*sid, c.user_id).ok());
  EXPECT_EQ(svc_->record_participant(*sid, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_->record_participant(9999, b.user_id).code(), StatusCode::kNotFound);
  Reply s = call("GET", "/api/v1/sessions/" + std::to_string(*sid));
  ASSERT_EQ(s.status, 200);
  auto& parts = s.json.at("participants").as_array();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].at("name").as_string(), "bob");
  EXPECT_EQ(parts[1].at("name").as_string(), "carol");
  EXPECT_EQ(s.json.at("source").as_string(), "rtmp");
  ASSERT_TRUE(svc_->end_session(channel_id("alice")).ok());
  EXPECT_EQ(svc_->record_participant(*sid, c.user_id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc_->end_session(channel_id("alice")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(call("GET", "/api/v1/sessions/abc").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/sessions/424242").status, 404);
}

TEST_F(SessionsTest, ChatCountsAreBufferedThenWrittenToTheLiveSession) {
  Browser a = signup("alice");
  auto sid = svc_->start_session(channel_id("alice"), "button");
  ASSERT_TRUE(sid.ok());
  for (int i = 0; i < 5; ++i) svc_->count_chat_message("alice");
  svc_->count_chat_message("no-such-room");
  // Visible before any flush (pending counts are added to the live session's figure).
  EXPECT_EQ(call("GET", "/api/v1/sessions/" + std::to_string(*sid)).json.at("chat_messages").as_int64(), 5);
  impl().flush_chat_counts();
  auto stored = [&] {
    auto r = db_->read_value<std::optional<service::Row>>([&](service::Tx& tx) {
      return tx.query_one("SELECT chat_messages FROM live_sessions WHERE id = ?", {*sid});
    });
    return r.ok() && *r ? (*r)->integer(0) : -1;
  };
  EXPECT_EQ(stored(), 5);
  for (int i = 0; i < 3; ++i) svc_->count_chat_message("alice");
  ASSERT_TRUE(svc_->end_session(channel_id("alice")).ok());  // flushes the room's rest
  EXPECT_EQ(stored(), 8);
  EXPECT_EQ(call("GET", "/api/v1/sessions/" + std::to_string(*sid)).json.at("chat_messages").as_int64(), 8);
}

TEST_F(SessionsTest, ChatCountsFromManyThreadsAreExact) {
  signup("alice");
  auto sid = svc_->start_session(channel_id("alice"), "button");
  ASSERT_TRUE(sid.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) svc_->count_chat_message("alice");
    });
  std::thread flusher([&] {
    for (int i = 0; i < 20; ++i) impl().flush_chat_counts();
  });
  for (auto& t : threads) t.join();
  flusher.join();
  ASSERT_TRUE(svc_->end_session(channel_id("alice")).ok());
  EXPECT_EQ(call("GET", "/api/v1/sessions/" + std::to_string(*sid)).json.at("chat_messages").as_int64(), 4000);
}

TEST_F(SessionsTest, SessionsLeftOpenEndAtTheirLastActivityOnReopen) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  auto sid = svc_->start_session(channel_id("alice"), "rtmp");
  ASSERT_TRUE(sid.ok());
  const int64_t started = clock_.unix_ms();
  clock_.advance(std::chrono::seconds(30));
  ASSERT_TRUE(svc_->record_participant(*sid, b.user_id).ok());
  clock_.advance(std::chrono::hours(2));
  open_service();  // as after a crash
  Reply s = call("GET", "/api/v1/sessions/" + std::to_string(*sid));
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.json.at("ended_at").as_string(), format_utc_ms(started + 30000));
  EXPECT_EQ(s.json.at("duration_s").as_int64(), 30);
  EXPECT_FALSE(call("GET", "/api/v1/channels/alice").json.at("live").as_bool());
}

TEST_F(SessionsTest, PrivateChannelSessionsAreHidden) {
  Browser a = signup("alice");
  Browser c = signup("carol");
  ASSERT_EQ(as(a, "PATCH", "/api/v1/channels/alice", R"({"private":true})").status, 200);
  auto sid = svc_->start_session(channel_id("alice"), "button");
  ASSERT_TRUE(sid.ok());
  EXPECT_EQ(as(c, "GET", "/api/v1/sessions/" + std::to_string(*sid)).status, 404);
  EXPECT_EQ(as(a, "GET", "/api/v1/sessions/" + std::to_string(*sid)).status, 200);
  EXPECT_TRUE(call("GET", "/api/v1/home").json.at("live").as_array().empty());
  EXPECT_EQ(as(a, "GET", "/api/v1/home").json.at("live").as_array().size(), 1u);
}

}  // namespace
}  // namespace chiron::review::testing
