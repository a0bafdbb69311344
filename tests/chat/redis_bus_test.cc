// RedisBus (redis_bus.h): several buses ("edges") on one real redis-server on 127.0.0.1, plus
// the bus frame codec fed with bytes. Every wait is bounded.

#include "chat/redis_bus.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <tuple>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "redis_testutil.h"

namespace chiron::chat {
namespace {

using namespace std::chrono_literals;
using redis_test::free_port;
using redis_test::Inbox;
using redis_test::kRedisServer;
using redis_test::kWait;
using redis_test::RedisServer;

using Seen = std::tuple<std::string, uint64_t, std::string>;  // (epoch, seq, body)

// One edge: a bus and what its sink received.
struct Edge {
  std::unique_ptr<RedisBus> bus;
  Inbox<BusEvent> events;
  Inbox<std::vector<std::string>> gaps;
};

class RedisBusTest : public redis_test::RedisFixture {
 protected:
  void release_clients() override {
    for (auto& e : edges_) e->bus.reset();
    admin_.reset();
  }

  Edge& edge() {
    auto e = std::make_unique<Edge>();
    e->bus = make_redis_bus(io_, options());
    Edge* raw = e.get();
    e->bus->start(BusSink{[raw](const BusEvent& ev) { raw->events.push(ev); },
                          [raw](const std::vector<std::string>& rooms) { raw->gaps.push(rooms); }});
    edges_.push_back(std::move(e));
    return *raw;
  }

  // A plain command connection for checks and for foreign publishers.
  Result<RedisValue> run(std::vector<std::string> args) {
    if (!admin_) {
      admin_ = std::make_unique<RedisPublisher>(io_, options());
      admin_->start();
    }
    Inbox<Result<RedisValue>> box;
    admin_->command(std::move(args), [&box](Result<RedisValue> r) { box.push(std::move(r)); });
    auto r = box.pop();
    if (!r) return Status::deadline_exceeded("no reply within the test deadline");
    return std::move(*r);
  }

  int64_t numsub(const std::string& room) {
    auto r = run({"PUBSUB", "NUMSUB", bus_channel(room)});
    if (!r.ok() || r->elements.size() != 2) return -1;
    return r->elements[1].integer;
  }

  // Polls PUBSUB NUMSUB until the room's channel has n subscribers (SUBSCRIBE is asynchronous).
  bool wait_numsub(const std::string& room, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (numsub(room) == n) return true;
      std::this_thread::sleep_for(2ms);  // polling another process
    }
    return false;
  }

  // done(seq) of one publish, as (status, seq).
  static std::pair<Status, uint64_t> publish(Bus& bus, const std::string& room, const std::string& body,
                                             std::chrono::milliseconds timeout = kWait) {
    Inbox<std::pair<Status, uint64_t>> box;
    bus.publish(room, "message", body, [&box](Result<uint64_t> r) { box.push({r.status(), r.ok() ? *r : 0}); });
    auto r = box.pop(timeout);
    if (!r) return {Status::deadline_exceeded("done not called"), 0};
    return *r;
  }

  static std::vector<Seen> take(Edge& e, size_t n) {
    std::vector<Seen> seen;
    while (seen.size() < n) {
      auto ev = e.events.pop();
      if (!ev) break;
      seen.emplace_back(ev->epoch, ev->seq, ev->body);
    }
    return seen;
  }

  std::unique_ptr<RedisPublisher> admin_;
  std::vector<std::unique_ptr<Edge>> edges_;
};

TEST_F(RedisBusTest, ConcurrentPublishersSeeOneSeqOrder) {
  Edge& a = edge();
  Edge& b = edge();
  a.bus->subscribe("r");
  b.bus->subscribe("r");
  ASSERT_TRUE(wait_numsub("r", 2));
  constexpr int kEach = 100;
  Inbox<uint64_t> acked;
  auto post = [&acked](Bus& bus, const char* who) {
    for (int i = 0; i < kEach; ++i)
      bus.publish("r", "message", who + std::to_string(i), [&acked](Result<uint64_t> r) { acked.push(r.ok() ? *r : 0); });
  };
  std::thread ta([&] { post(*a.bus, "a"); });
  std::thread tb([&] { post(*b.bus, "b"); });
  ta.join();
  tb.join();
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 2 * kEach; ++i) {
    auto s = acked.pop();
    ASSERT_TRUE(s) << "done() missing";
    seqs.push_back(*s);
  }
  std::sort(seqs.begin(), seqs.end());
  for (int i = 0; i < 2 * kEach; ++i) ASSERT_EQ(seqs[i], static_cast<uint64_t>(i + 1));

  const auto seen_a = take(a, 2 * kEach), seen_b = take(b, 2 * kEach);
  ASSERT_EQ(seen_a.size(), 2u * kEach);
  EXPECT_EQ(seen_a, seen_b);
  for (size_t i = 0; i < seen_a.size(); ++i) {
    EXPECT_EQ(std::get<1>(seen_a[i]), i + 1);
    EXPECT_EQ(std::get<0>(seen_a[i]), std::get<0>(seen_a[0])) << "epoch changed mid-run";
  }
  EXPECT_FALSE(std::get<0>(seen_a[0]).empty());
  // Each publisher's own messages keep the order it published them in.
  std::vector<std::string> from_a;
  for (const auto& s : seen_a)
    if (std::get<2>(s)[0] == 'a') from_a.push_back(std::get<2>(s));
  for (int i = 0; i < kEach; ++i) EXPECT_EQ(from_a[i], "a" + std::to_string(i));
  EXPECT_EQ(a.bus->stats().published, static_cast<uint64_t>(kEach));
}

TEST_F(RedisBusTest, SubscribesOnlyWhileMemberAndNeverByPattern) {
  Edge& a = edge();
  a.bus->subscribe("lobby");
  ASSERT_TRUE(wait_numsub("lobby", 1));
  auto channels = run({"PUBSUB", "CHANNELS", "chiron:chat:*"});
  ASSERT_TRUE(channels.ok());
  ASSERT_EQ(channels->elements.size(), 1u);
  EXPECT_EQ(channels->elements[0].str, "chiron:chat:{lobby}");
  EXPECT_EQ(numsub("elsewhere"), 0);
  auto numpat = run({"PUBSUB", "NUMPAT"});
  ASSERT_TRUE(numpat.ok());
  EXPECT_EQ(numpat->integer, 0);
  a.bus->unsubscribe("lobby");
  ASSERT_TRUE(wait_numsub("lobby", 0));
  auto after = run({"PUBSUB", "CHANNELS", "chiron:chat:*"});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->elements.empty());
}

TEST_F(RedisBusTest, SignalsAreLiveAndStoredStateIsReplayedToLaterSubscribers) {
  Edge& a = edge();
  a.bus->subscribe("r");
  ASSERT_TRUE(wait_numsub("r", 1));
  a.bus->signal("r", "ban", R"({"user":"old"})", "ban:u1", 60000);
  a.bus->signal("r", "ban", R"({"user":"u1"})", "ban:u1", 60000);  // replaces the first
  a.bus->signal("r", "ban", R"({"user":"brief"})", "ban:u2", 30);
  a.bus->signal("r", "presence", R"({"n":1})");                   // not stored
  // A's own subscribe-time replay may run after these were stored (its SUBSCRIBE confirmation
  // can be read after NUMSUB saw it): then A also gets replayed copies, which is harmless.
  for (int live = 0; live < 4;) {
    auto ev = a.events.pop();
    ASSERT_TRUE(ev) << "live signal " << live << " missing";
    EXPECT_EQ(ev->seq, 0u);
    EXPECT_TRUE(ev->epoch.empty());
    if (!ev->replayed) ++live;
  }
  auto hlen = run({"HLEN", bus_channel("r") + ":state"});
  ASSERT_TRUE(hlen.ok());
  EXPECT_EQ(hlen->integer, 2);
  std::this_thread::sleep_for(60ms);  // past ban:u2's ttl, which Redis' own clock measures

  Edge& b = edge();
  b.bus->subscribe("r");
  auto ev = b.events.pop();
  ASSERT_TRUE(ev) << "stored state not replayed";
  EXPECT_TRUE(ev->replayed);
  EXPECT_EQ(ev->room, "r");
  EXPECT_EQ(ev->kind, "ban");
  EXPECT_EQ(ev->body, R"({"user":"u1"})");
  EXPECT_FALSE(b.events.pop(100ms)) << "expired or replaced entry replayed";
  auto left = run({"HLEN", bus_channel("r") + ":state"});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 1) << "the expired entry was not pruned";
  auto pttl = run({"PTTL", bus_channel("r") + ":state"});
  ASSERT_TRUE(pttl.ok());
  EXPECT_GT(pttl->integer, 50000) << "the hash expires with its longest entry";
}

TEST_F(RedisBusTest, RedisRestartReportsGapAndStartsANewEpoch) {
  Edge& a = edge();
  a.bus->subscribe("r");
  ASSERT_TRUE(wait_numsub("r", 1));
  auto [st, seq] = publish(*a.bus, "r", "before");
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto first = a.events.pop();
  ASSERT_TRUE(first);
  server_->kill();
  ASSERT_TRUE(server_->start());
  auto gap = a.gaps.pop();
  ASSERT_TRUE(gap) << "sink.gap not called after the restart";
  EXPECT_EQ(*gap, std::vector<std::string>{"r"});
  // The publisher reconnects on its own schedule; publishing works again within the deadline.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  Status last;
  uint64_t seq_after = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::tie(last, seq_after) = publish(*a.bus, "r", "after");
    if (last.ok()) break;
    std::this_thread::sleep_for(10ms);  // publisher in reconnect backoff
  }
  ASSERT_TRUE(last.ok()) << last.to_string();
  EXPECT_EQ(seq_after, 1u) << "the counter died with Redis";
  auto after = a.events.pop();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "after");
  EXPECT_EQ(after->seq, 1u);
  EXPECT_NE(after->epoch, first->epoch) << "same (epoch, seq) would name two events";
  EXPECT_GE(a.bus->stats().gaps, 1u);
}

TEST_F(RedisBusTest, PublishWhileRedisIsDownFailsPromptly) {
  Edge& a = edge();
  ASSERT_TRUE(publish(*a.bus, "r", "up").first.ok());
  server_->kill();
  for (int i = 0; i < 3; ++i) {  // first right after the loss, then while reconnecting
    const auto t0 = std::chrono::steady_clock::now();
    auto [st, seq] = publish(*a.bus, "r", "down", 2500ms);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  EXPECT_GE(a.bus->stats().publish_failures, 3u);
  a.bus->signal("r", "presence", "{}");  // no callback: counted (and logged sparsely) instead
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (a.bus->stats().signal_failures == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);  // the failure is reported on the io thread
  EXPECT_EQ(a.bus->stats().signal_failures, 1u);
}

TEST_F(RedisBusTest, ForeignPayloadsOnOurChannelAreDroppedAndCounted) {
  Edge& a = edge();
  a.bus->subscribe("r");
  ASSERT_TRUE(wait_numsub("r", 1));
  const std::vector<std::string> hostile = {
      "", "hello", "cb1\n", "cb1\n7:message", "cb1\n7:message0:1:10:0:",  // seq without epoch
      "cb1\n7:message1:e1:00:0:",                                           // epoch without seq
      "cb1\n0:0:1:00:0:",                                                   // no kind
      "cb1\n99999999999999999999:x", std::string("cb1\n\0\0\0", 7),
      "cb1\n7:message1:e20:184467440737095516160:0:",                     // seq overflows
      "cb1\n7:message1:e2:011:0:0:",                                        // leading zero
  };
  for (const auto& p : hostile) ASSERT_TRUE(run({"PUBLISH", bus_channel("r"), p}).ok());
  ASSERT_TRUE(publish(*a.bus, "r", "valid").first.ok());
  auto ev = a.events.pop();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->body, "valid");
  EXPECT_EQ(a.bus->stats().malformed, hostile.size());
}

TEST_F(RedisBusTest, ForeignStateEntriesAreDroppedAtReplay) {
  const std::string key = bus_channel("r") + ":state";
  ASSERT_TRUE(run({"HSET", key, "no-expiry", "not a number"}).ok());
  ASSERT_TRUE(run({"HSET", key, "junk", "99999999999999\ngarbage"}).ok());
  auto good = encode_bus_frame(BusFrame{"ban", "", 0, "someone", "ban:u1", "{}"});
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(run({"HSET", key, "ban:u1", "99999999999999\n" + *good}).ok());
  Edge& a = edge();
  a.bus->subscribe("r");
  auto ev = a.events.pop();
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->replayed);
  EXPECT_EQ(ev->kind, "ban");
  EXPECT_FALSE(a.events.pop(100ms));
  EXPECT_EQ(a.bus->stats().malformed, 1u);  // "junk"; the entry without an expiry is deleted
  auto left = run({"HEXISTS", key, "no-expiry"});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 0);
}

TEST_F(RedisBusTest, SubscribeChurnLeavesNoSubscription) {
  Edge& a = edge();
  for (int i = 0; i < 50; ++i) {
    a.bus->subscribe("churn");
    a.bus->unsubscribe("churn");
  }
  a.bus->subscribe("other");  // a barrier: the churn before it has reached Redis once this shows
  ASSERT_TRUE(wait_numsub("other", 1));
  EXPECT_EQ(numsub("churn"), 0);
  a.bus->subscribe("churn");
  ASSERT_TRUE(wait_numsub("churn", 1));
  ASSERT_TRUE(publish(*a.bus, "churn", "still works").first.ok());
  auto ev = a.events.pop();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->body, "still works");
}

TEST_F(RedisBusTest, StopFailsLaterPublishesWithCancelled) {
  Edge& a = edge();
  a.bus->stop();
  auto [st, seq] = publish(*a.bus, "r", "late");
  EXPECT_EQ(st.code(), StatusCode::kCancelled);
}

// ---------------------------------------------------------------- frame codec (no sockets)

TEST(BusFrameTest, RoundTripsBinaryBodies) {
  BusFrame f{"message", "ep.1", 42, "edge1", "", std::string("a\0b\r\n{}\xff", 8)};
  auto bytes = encode_bus_frame(f);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = parse_bus_frame(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->kind, f.kind);
  EXPECT_EQ(back->epoch, f.epoch);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->origin, f.origin);
  EXPECT_EQ(back->body, f.body);
  BusFrame s{"ban", "", 0, "edge1", "ban:u1", "{}"};
  auto sb = parse_bus_frame(*encode_bus_frame(s));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->state_key, "ban:u1");
  EXPECT_EQ(sb->seq, 0u);
}

TEST(BusFrameTest, EncoderRefusesInconsistentFrames) {
  EXPECT_FALSE(encode_bus_frame(BusFrame{"", "e", 1, "o", "", ""}).ok());
  EXPECT_FALSE(encode_bus_frame(BusFrame{"k", "", 1, "o", "", ""}).ok());
  EXPECT_FALSE(encode_bus_frame(BusFrame{"k", "e", 0, "o", "", ""}).ok());
  EXPECT_FALSE(encode_bus_frame(BusFrame{"k", "e", 1, "o", "key", ""}).ok());
  EXPECT_FALSE(encode_bus_frame(BusFrame{std::string(kMaxBusKindBytes + 1, 'k'), "", 0, "o", "", ""}).ok());
}

TEST(BusFrameTest, ParserRejectsTruncationsOfAValidFrame) {
  auto bytes = encode_bus_frame(BusFrame{"message", "ep", 7, "edge", "", "body"});
  ASSERT_TRUE(bytes.ok());
  const size_t body_at = bytes->size() - 4;
  for (size_t n = 0; n < body_at; ++n)
    EXPECT_FALSE(parse_bus_frame(std::string_view(*bytes).substr(0, n)).ok()) << "accepted a prefix of " << n;
  for (size_t n = body_at; n <= bytes->size(); ++n)
    EXPECT_TRUE(parse_bus_frame(std::string_view(*bytes).substr(0, n)).ok());  // the body is the rest
}

}  // namespace
}  // namespace chiron::chat
