// Placement and ordering of the fluxion runtime: strands serialise, replicas overlap, a
// strand keeps FIFO order, contexts are private and persistent.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "flux/runtime.h"
#include "runtime_testutil.h"

namespace chiron::flux {
namespace {

using kernel::Device;
using testing::Countdown;
using testing::Gate;
using testing::InFlight;

struct Msg {
  int64_t seq = 0;
  int sender = 0;
  int64_t value = 0;
};

Stream post_to(std::string dest, std::vector<std::string> vars = {}) {
  return Stream{StreamType::kPost, {std::move(dest)}, std::move(vars)};
}

// A little CPU work so overlapping runs would be visible.
void spin(int n) {
  volatile uint64_t x = 0;
  for (int i = 0; i < n; ++i) x = x * 31 + static_cast<uint64_t>(i);
}

TEST(FluxRuntimeStrandTest, TaggedFluxionsNeverRunConcurrentlyUnderLoad) {
  auto rt = testing::start_runtime(4, 2, 2);
  ASSERT_NE(rt, nullptr);
  constexpr int kThreads = 8, kPerThread = 400;
  InFlight group;
  Countdown done(2 * kThreads * kPerThread);
  Graph<Msg> g("tagged", *rt, {.queue_capacity = 8192});  // b never overflows: a failed emit would lose a count
  // a (cpu) and b (disk) share tag `shared`: one strand across two devices; a also forwards to b.
  ASSERT_TRUE(g.add({.id = "a", .device = Device::kCpu, .tags = {"shared"}, .streams = {post_to("b", {"seq"})}},
                    [&](Msg& m, Emitter<Msg>& out) {
                      group.enter();
                      spin(200);
                      group.leave();
                      done.hit();
                      return out.emit("b", std::move(m));
                    }).ok());
  ASSERT_TRUE(g.add({.id = "b", .device = Device::kDisk, .tags = {"shared"}}, [&](Msg&, Emitter<Msg>&) {
                group.enter();
                spin(200);
                group.leave();
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  std::vector<std::thread> senders;
  std::atomic<int> refused{0};
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // The mailbox is bounded: retry politely when it is full.
        Msg m{i, t, 0};
        while (!g.inject("a", std::move(m)).ok()) {
          refused.fetch_add(1);
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_TRUE(done.wait());
  g.stop();  // the last run's counters are bumped after its handler returned
  EXPECT_EQ(group.max.load(), 1);
  auto stats = g.stats();
  EXPECT_EQ(stats[0].handled, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats[1].handled, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats[0].replicas, 1u);
  EXPECT_EQ(stats[0].rejected, static_cast<uint64_t>(refused.load()));
}

TEST(FluxRuntimeStrandTest, StatelessFluxionsRunConcurrentlyOnACpuPool) {
  auto rt = testing::start_runtime(4, 1, 1);
  ASSERT_NE(rt, nullptr);
  InFlight runs;
  Countdown done(8);
  Graph<Msg> g("replicated", *rt);
  ASSERT_TRUE(g.add({.id = "work", .device = Device::kCpu}, [&](Msg&, Emitter<Msg>&) {
                runs.enter();
                // Wait (bounded) until a second run overlaps this one.
                auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
                while (runs.max.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
                runs.leave();
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(g.inject("work", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  EXPECT_GE(runs.max.load(), 2);
  EXPECT_EQ(g.stats()[0].replicas, 4u);
}

TEST(FluxRuntimeStrandTest, ReplicasOptionCapsConcurrentRuns) {
  auto rt = testing::start_runtime(4, 1, 1);
  ASSERT_NE(rt, nullptr);
  InFlight runs;
  Countdown done(64);
  Graph<Msg> g("capped", *rt);
  ASSERT_TRUE(g.add({.id = "work2", .device = Device::kCpu, .replicas = 2}, [&](Msg&, Emitter<Msg>&) {
                runs.enter();
                spin(20000);
                runs.leave();
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(g.inject("work2", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  EXPECT_LE(runs.max.load(), 2);
  EXPECT_EQ(g.stats()[0].replicas, 2u);
}

TEST(FluxRuntimeStrandTest, AStrandHandlesMessagesInSendOrder) {
  auto rt = testing::start_runtime(2, 2, 1);
  ASSERT_NE(rt, nullptr);
  constexpr int kN = 3000;
  Countdown done(kN);
  std::vector<int64_t> seen;  // touched only by the sink's strand
  Graph<Msg> g("ordered", *rt, {.queue_capacity = kN, .batch = 7});
  // source (cpu, own strand) re-numbers and forwards to sink (disk, own strand).
  ASSERT_TRUE(g.add_with_context({.id = "source", .device = Device::kCpu, .ctx = {"next"}, .streams = {post_to("sink", {"seq"})}},
                                 int64_t{0}, [](int64_t& next, Msg& m, Emitter<Msg>& out) {
                                   m.value = next++;
                                   return out.emit("sink", std::move(m));
                                 }).ok());
  ASSERT_TRUE(g.add({.id = "sink", .device = Device::kDisk, .ctx = {"seen"}}, [&](Msg& m, Emitter<Msg>&) {
                seen.push_back(m.seq * 1'000'000 + m.value);
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(g.inject("source", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  g.stop();
  ASSERT_EQ(seen.size(), size_t{kN});
  for (int i = 0; i < kN; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], int64_t{i} * 1'000'000 + i) << "at " << i;
}

TEST(FluxRuntimeStrandTest, ContextIsPrivateAndPersistsAcrossMessages) {
  auto rt = testing::start_runtime(4, 1, 1);
  ASSERT_NE(rt, nullptr);
  constexpr int kN = 500;
  Countdown done(2 * kN);
  std::atomic<int64_t> last_a{0}, last_b{0};
  struct Tally {
    int64_t count = 0;
  };
  Graph<Msg> g("contexts", *rt);
  auto counter = [&](std::atomic<int64_t>& last) {
    return [&](Tally& t, Msg&, Emitter<Msg>&) {
      last.store(++t.count);
      done.hit();
      return Status();
    };
  };
  ASSERT_TRUE(g.add_with_context({.id = "count_a", .device = Device::kCpu, .ctx = {"count"}}, Tally{}, counter(last_a)).ok());
  ASSERT_TRUE(g.add_with_context({.id = "count_b", .device = Device::kCpu, .ctx = {"count"}}, Tally{}, counter(last_b)).ok());
  ASSERT_TRUE(g.start().ok());
  std::thread other([&] {
    for (int i = 0; i < kN; ++i) {
      Msg m{i};
      while (!g.inject("count_b", std::move(m)).ok()) std::this_thread::yield();
    }
  });
  for (int i = 0; i < kN; ++i) {
    Msg m{i};
    while (!g.inject("count_a", std::move(m)).ok()) std::this_thread::yield();
  }
  other.join();
  ASSERT_TRUE(done.wait());
  // Each fluxion saw exactly its own messages: no lost update, no sharing.
  EXPECT_EQ(last_a.load(), kN);
  EXPECT_EQ(last_b.load(), kN);
  EXPECT_EQ(g.stats()[0].replicas, 1u);
}

TEST(FluxRuntimeStrandTest, ContextWithoutNamesIsRefused) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Graph<Msg> g("bad_ctx", *rt);
  Status st = g.add_with_context({.id = "x"}, 0, [](int&, Msg&, Emitter<Msg>&) { return Status(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

TEST(FluxRuntimeStrandTest, TaggedFluxionCannotBeReplicated) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Graph<Msg> g("bad_replicas", *rt);
  Status st = g.add({.id = "x", .tags = {"t"}, .replicas = 3}, [](Msg&, Emitter<Msg>&) { return Status(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("one strand"), std::string::npos) << st.to_string();
}

TEST(FluxRuntimeStrandTest, UnknownDestinationFailsStart) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Graph<Msg> g("bad_dest", *rt);
  ASSERT_TRUE(g.add({.id = "x", .streams = {post_to("nowhere")}}, [](Msg&, Emitter<Msg>&) { return Status(); }).ok());
  Status st = g.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nowhere"), std::string::npos) << st.to_string();
  Msg m{1};
  EXPECT_EQ(g.inject("x", std::move(m)).code(), StatusCode::kFailedPrecondition);
}

TEST(FluxRuntimeStrandTest, GroupsAreConnectedComponentsOfSharedTags) {
  auto rt = testing::start_runtime(4, 1, 1);
  ASSERT_NE(rt, nullptr);
  // p & t1 — q & t1, t2 — r & t2: one strand for all three although p and r share no tag.
  InFlight group;
  Countdown done(3 * 300);
  Graph<Msg> g("chain", *rt);
  auto body = [&](Msg&, Emitter<Msg>&) {
    group.enter();
    spin(500);
    group.leave();
    done.hit();
    return Status();
  };
  ASSERT_TRUE(g.add({.id = "p", .tags = {"t1"}}, body).ok());
  ASSERT_TRUE(g.add({.id = "q", .tags = {"t1", "t2"}}, body).ok());
  ASSERT_TRUE(g.add({.id = "r", .tags = {"t2"}}, body).ok());
  ASSERT_TRUE(g.start().ok());
  std::vector<std::thread> senders;
  for (const char* id : {"p", "q", "r"}) {
    senders.emplace_back([&, id] {
      for (int i = 0; i < 300; ++i) {
        Msg m{i};
        while (!g.inject(id, std::move(m)).ok()) std::this_thread::yield();
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_TRUE(done.wait());
  EXPECT_EQ(group.max.load(), 1);
}

TEST(FluxRuntimeStrandTest, AStrandYieldsBetweenBatchesAndABatchOfZeroStillProgresses) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Countdown done(100);
  Graph<Msg> g("tiny_batches", *rt, {.batch = 0});
  ASSERT_TRUE(g.add({.id = "one_at_a_time", .ctx = {"n"}}, [&](Msg&, Emitter<Msg>&) {
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(g.inject("one_at_a_time", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  g.stop();
  EXPECT_EQ(g.stats()[0].handled, 100u);
}

}  // namespace
}  // namespace chiron::flux
