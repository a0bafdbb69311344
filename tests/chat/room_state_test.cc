// The pure per-room parts of the chat server: history ring, presence merge, moderation state.
#include <gtest/gtest.h>

#include "chat/room_history.h"
#include "chat/room_moderation.h"
#include "chat/room_presence.h"

namespace chiron::chat {
namespace {

net::SharedFrame frame(uint64_t seq) { return net::SharedFrame::text("m" + std::to_string(seq)); }

std::vector<std::string> texts(const std::vector<net::SharedFrame>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.emplace_back(f.bytes());
  return out;
}

void feed(RoomHistory& h, const char* epoch, uint64_t from, uint64_t to) {
  for (uint64_t s = from; s <= to; ++s) {
    h.advance(epoch, s);
    h.add(s, frame(s), "u" + std::to_string(s));
  }
}

TEST(RoomHistoryTest, ReplaysExactlyTheEventsAfterTheGivenSeq) {
  RoomHistory h(10);
  feed(h, "E", 1, 8);
  auto got = h.since("E", 5);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(texts(*got), texts({frame(6), frame(7), frame(8)}));
  EXPECT_TRUE(h.since("E", 8)->empty());
}

TEST(RoomHistoryTest, RefusesTooOldOtherEpochFutureAndHistoryOff) {
  RoomHistory h(3);
  feed(h, "E", 1, 10);
  EXPECT_TRUE(h.since("E", 7).has_value());
  EXPECT_FALSE(h.since("E", 6).has_value());
  EXPECT_FALSE(h.since("X", 9).has_value());
  EXPECT_FALSE(h.since("E", 11).has_value());
  RoomHistory off(0);
  feed(off, "E", 1, 3);
  EXPECT_FALSE(off.since("E", 3).has_value());
  EXPECT_EQ(off.author(2), "u2");  // authors are remembered even without history
}

TEST(RoomHistoryTest, DeletedMessagesAreSkippedSoTheirTombstoneReplaysInstead) {
  RoomHistory h(10);
  feed(h, "E", 1, 3);
  h.mark_deleted(2);
  h.advance("E", 4);
  h.add(4, frame(4), "");
  EXPECT_EQ(texts(*h.since("E", 1)), texts({frame(3), frame(4)}));
  EXPECT_FALSE(h.author(2).has_value());
}

TEST(RoomHistoryTest, DiscontinuitiesClearTheRingAndAreReported) {
  RoomHistory h(10);
  EXPECT_EQ(h.advance("E", 1), RoomHistory::Step::kFirst);
  h.add(1, frame(1), "a");
  EXPECT_EQ(h.advance("E", 1), RoomHistory::Step::kStale);
  EXPECT_EQ(h.advance("E", 3), RoomHistory::Step::kSeqGap);
  h.add(3, frame(3), "a");
  EXPECT_FALSE(h.since("E", 1).has_value());
  EXPECT_TRUE(h.since("E", 2).has_value());
  EXPECT_EQ(h.advance("F", 1), RoomHistory::Step::kNewEpoch);
  EXPECT_EQ(h.epoch(), "F");
  EXPECT_EQ(h.size(), 0u);
}

TEST(RoomHistoryTest, AfterResyncRecoveryWaitsForAContiguousEvent) {
  RoomHistory h(10);
  feed(h, "E", 1, 4);
  h.resync();
  EXPECT_FALSE(h.since("E", 4).has_value());
  EXPECT_EQ(h.advance("E", 5), RoomHistory::Step::kResync);
  h.add(5, frame(5), "a");
  EXPECT_EQ(texts(*h.since("E", 3)), texts({frame(4), frame(5)}));
  h.resync();
  EXPECT_EQ(h.advance("E", 9), RoomHistory::Step::kResync);  // missed 6..8: silently restarted
  h.add(9, frame(9), "a");
  EXPECT_FALSE(h.since("E", 5).has_value());
  EXPECT_TRUE(h.since("E", 8).has_value());
}

TEST(RoomHistoryTest, ClearAfterABusGapRefusesRecovery) {
  RoomHistory h(10);
  feed(h, "E", 1, 4);
  h.clear();
  EXPECT_FALSE(h.since("E", 4).has_value());
}

TEST(RoomHistoryTest, MemoryIsBounded) {
  RoomHistory h(5);
  feed(h, "E", 1, 1000);
  EXPECT_LE(h.size(), RoomHistory::kRememberAuthors);
  EXPECT_EQ(h.since("E", 995)->size(), 5u);
}

TEST(RoomPresenceTest, CountsUsersOncePerIdAcrossSocketsAndEdges) {
  RoomPresence p;
  EXPECT_TRUE(p.add_local({"alice", "Alice"}));
  EXPECT_FALSE(p.add_local({"alice", "Alice"}));  // a second tab
  p.merge({"edge2", {{"alice", "Alice"}, {"bob", "Bob"}}, false}, 0);
  EXPECT_EQ(p.count(), 2u);
  EXPECT_FALSE(p.remove_local("alice"));
  EXPECT_TRUE(p.remove_local("alice"));
  EXPECT_EQ(p.count(), 2u);  // alice is still on edge2
}

TEST(RoomPresenceTest, LatestListOfAnEdgeReplacesItsPreviousOneAndSilentEdgesExpire) {
  RoomPresence p;
  p.merge({"e2", {{"a", "A"}, {"b", "B"}}, false}, 0);
  p.merge({"e2", {{"b", "B"}}, false}, 1000);
  EXPECT_EQ(p.count(), 1u);
  p.merge({"e3", {{"c", "C"}}, false}, 20000);
  EXPECT_TRUE(p.expire(1000 + RoomPresence::kEdgeTtlMs + 1));
  EXPECT_EQ(p.users(10), (std::vector<ChatUser>{{"c", "C"}}));
}

TEST(RoomPresenceTest, DiffIsCoalescedJoinedAndLeft) {
  RoomPresence p;
  p.add_local({"a", "A"});
  p.add_local({"b", "B"});
  auto d = p.take_diff(200);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count, 2u);
  EXPECT_EQ(d->joined.size(), 2u);
  EXPECT_FALSE(p.take_diff(200).has_value());
  p.remove_local("a");
  p.add_local({"c", "C"});
  p.add_local({"x", "X"});
  p.remove_local("x");  // joined and left within one interval: never announced
  d = p.take_diff(200);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->joined, (std::vector<ChatUser>{{"c", "C"}}));
  EXPECT_EQ(d->left, (std::vector<ChatUser>{{"a", "A"}}));
}

TEST(RoomPresenceTest, SignalBodyRoundTripsAndMalformedBodiesAreRefused) {
  auto s = RoomPresence::parse(RoomPresence::body("e1", {{"u", "N \"q\""}}, true));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->edge, "e1");
  EXPECT_TRUE(s->hello);
  EXPECT_EQ(s->users, (std::vector<ChatUser>{{"u", "N \"q\""}}));
  EXPECT_FALSE(RoomPresence::parse("{").has_value());
  EXPECT_FALSE(RoomPresence::parse(R"({"edge":1,"users":[]})").has_value());
  EXPECT_FALSE(RoomPresence::parse(R"([1])").has_value());
}

TEST(RoomModerationTest, BansAndMutesExpireAndCanBeLifted) {
  RoomModeration m;
  m.ban("u", 2000, "spam", 1000);
  ASSERT_TRUE(m.ban_of("u", 1500).has_value());
  EXPECT_EQ(m.ban_of("u", 1500)->reason, "spam");
  EXPECT_FALSE(m.ban_of("u", 2000).has_value());
  m.ban("u", 0, "", 1500);
  EXPECT_FALSE(m.ban_of("u", 1500).has_value());
  m.mute("v", 5000, 1000);
  EXPECT_EQ(m.muted_until("v", 1000), 5000);
  m.mute("v", 0, 1000);
  EXPECT_FALSE(m.muted_until("v", 1000).has_value());
}

TEST(RoomModerationTest, SlowModeAllowsOnePostPerWindow) {
  RoomModeration m;
  EXPECT_TRUE(m.try_post("u", 0, nullptr));
  EXPECT_TRUE(m.try_post("u", 1, nullptr));  // off
  m.set_slow(2);
  int64_t wait = 0;
  EXPECT_TRUE(m.try_post("u", 10000, &wait));
  EXPECT_FALSE(m.try_post("u", 10500, &wait));
  EXPECT_EQ(wait, 1500);
  EXPECT_TRUE(m.try_post("other", 10500, &wait));
  EXPECT_TRUE(m.try_post("u", 12000, &wait));
}

TEST(RoomModerationTest, EntriesAreBounded) {
  RoomModeration m;
  for (size_t i = 0; i < RoomModeration::kMaxEntries + 50; ++i) m.ban("u" + std::to_string(i), 10000 + i, "", 0);
  EXPECT_FALSE(m.ban_of("u0", 1).has_value());  // the soonest to expire made room
  EXPECT_TRUE(m.ban_of("u" + std::to_string(RoomModeration::kMaxEntries + 49), 1).has_value());
}

}  // namespace
}  // namespace chiron::chat
