// Failure paths of the fluxion runtime: exceptions, undeclared streams, overload, shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flux/runtime.h"
#include "runtime_testutil.h"

namespace chiron::flux {
namespace {

using kernel::Device;
using testing::Countdown;
using testing::Gate;

// A message owning heap memory, so ASan sees a leak or a double free of a lost message.
struct Req {
  int64_t id = 0;
  std::unique_ptr<std::string> payload = std::make_unique<std::string>(64, 'x');
};

struct Failure {
  std::string fluxion;
  Status status;
  int64_t id = 0;
  bool payload = false;
};

class Failures {
 public:
  void add(const FluxionError& e, Req& r) {
    std::lock_guard lock(mu_);
    list_.push_back({std::string(e.fluxion), e.status, r.id, r.payload != nullptr});
  }
  std::vector<Failure> list() {
    std::lock_guard lock(mu_);
    return list_;
  }

 private:
  std::mutex mu_;
  std::vector<Failure> list_;
};

Stream post_to(std::string dest) { return Stream{StreamType::kPost, {std::move(dest)}, {"id"}}; }

TEST(FluxRuntimeErrorsTest, AnExceptionCountsAsFailedAndReachesTheErrorHandler) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Failures failures;
  Countdown done(10);
  Graph<Req> g("throws", *rt);
  ASSERT_TRUE(g.add({.id = "maybe_throw", .device = Device::kCpu}, [&](Req& r, Emitter<Req>&) {
                done.hit();
                if (r.id % 5 == 0) throw std::runtime_error("bad id " + std::to_string(r.id));
                return Status();
              }).ok());
  g.on_error([&](const FluxionError& e, Req& r) { failures.add(e, r); });
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.inject("maybe_throw", Req{i}).ok());
  ASSERT_TRUE(done.wait());
  g.stop();
  auto stats = g.stats();
  EXPECT_EQ(stats[0].handled, 8u);
  EXPECT_EQ(stats[0].failed, 2u);
  auto list = failures.list();
  ASSERT_EQ(list.size(), 2u);
  for (const Failure& f : list) {
    EXPECT_EQ(f.fluxion, "maybe_throw");
    EXPECT_EQ(f.status.code(), StatusCode::kInternal);
    EXPECT_EQ(f.status.message(), "bad id " + std::to_string(f.id));
    EXPECT_TRUE(f.payload) << "the error handler gets the message itself";
  }
}

TEST(FluxRuntimeErrorsTest, SendingOnAnUndeclaredStreamIsAStatusAndTheMessageStaysIntact) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Failures failures;
  Countdown done(1);
  Graph<Req> g("undeclared", *rt);
  ASSERT_TRUE(g.add({.id = "first", .streams = {post_to("second")}}, [&](Req& r, Emitter<Req>& out) {
                return out.emit("third", std::move(r));  // declared: second only
              }).ok());
  ASSERT_TRUE(g.add({.id = "second"}, [](Req&, Emitter<Req>&) { return Status(); }).ok());
  ASSERT_TRUE(g.add({.id = "third"}, [](Req&, Emitter<Req>&) { return Status(); }).ok());
  g.on_error([&](const FluxionError& e, Req& r) {
    failures.add(e, r);
    done.hit();
  });
  ASSERT_TRUE(g.start().ok());
  ASSERT_TRUE(g.inject("first", Req{42}).ok());
  ASSERT_TRUE(done.wait());
  auto list = failures.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].fluxion, "first");
  EXPECT_EQ(list[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(list[0].status.message(), "fluxion 'first' has no stream to 'third' (declared: second)");
  EXPECT_EQ(list[0].id, 42);
  EXPECT_TRUE(list[0].payload);
  g.stop();
  EXPECT_EQ(g.stats()[2].handled, 0u);
}

TEST(FluxRuntimeErrorsTest, AFullMailboxRefusesAsOverloadedAndKeepsTheMessage) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Gate release, running;
  Countdown done(5);
  Graph<Req> g("bounded", *rt);
  ASSERT_TRUE(g.add({.id = "slow", .device = Device::kCpu, .ctx = {"n"}, .queue_capacity = 4}, [&](Req&, Emitter<Req>&) {
                running.open();
                EXPECT_TRUE(release.wait());
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  ASSERT_TRUE(g.inject("slow", Req{0}).ok());
  ASSERT_TRUE(running.wait());  // message 0 is in the handler: 4 more fit in the mailbox
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(g.inject("slow", Req{i}).ok()) << i;
  Req extra{99};
  Status st = g.inject("slow", std::move(extra));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("overloaded"), std::string::npos) << st.to_string();
  EXPECT_EQ(extra.id, 99);
  ASSERT_NE(extra.payload, nullptr) << "a refused message is handed back";
  auto stats = g.stats();
  EXPECT_EQ(stats[0].rejected, 1u);
  EXPECT_EQ(stats[0].queued, 4);
  release.open();
  ASSERT_TRUE(done.wait());
  g.stop();
  EXPECT_EQ(g.stats()[0].queued, 0);
  EXPECT_EQ(g.stats()[0].handled, 5u);
}

TEST(FluxRuntimeErrorsTest, AFullDownstreamMailboxFailsTheEmitIntoTheErrorPath) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Gate release, running;
  Failures failures;
  Countdown failed(1);
  Graph<Req> g("bounded_emit", *rt);
  ASSERT_TRUE(g.add({.id = "front", .device = Device::kCpu, .ctx = {"n"}, .streams = {post_to("back")}},
                    [](Req& r, Emitter<Req>& out) { return out.emit("back", std::move(r)); }).ok());
  ASSERT_TRUE(g.add({.id = "back", .device = Device::kDisk, .ctx = {"n"}, .queue_capacity = 1},
                    [&](Req&, Emitter<Req>&) {
                      running.open();
                      EXPECT_TRUE(release.wait());
                      return Status();
                    }).ok());
  g.on_error([&](const FluxionError& e, Req& r) {
    failures.add(e, r);
    failed.hit();
  });
  ASSERT_TRUE(g.start().ok());
  // back holds one in its handler and one queued; the third emit is refused.
  ASSERT_TRUE(g.inject("front", Req{0}).ok());
  ASSERT_TRUE(running.wait());
  for (int i = 1; i < 3; ++i) ASSERT_TRUE(g.inject("front", Req{i}).ok());
  ASSERT_TRUE(failed.wait());
  release.open();
  g.stop();
  auto list = failures.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].fluxion, "front");
  EXPECT_EQ(list[0].status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(list[0].payload);
  EXPECT_EQ(g.stats()[1].handled, 2u);
  EXPECT_EQ(g.stats()[1].rejected, 1u);
}

TEST(FluxRuntimeErrorsTest, StopLetsMessagesInFlightFinishAndRefusesNewOnes) {
  auto rt = testing::start_runtime(2, 2, 1);
  ASSERT_NE(rt, nullptr);
  std::atomic<int> finished{0};
  Graph<Req> g("draining", *rt, {.queue_capacity = 10000});
  ASSERT_TRUE(g.add({.id = "hop1", .device = Device::kCpu, .streams = {post_to("hop2")}},
                    [](Req& r, Emitter<Req>& out) { return out.emit("hop2", std::move(r)); }).ok());
  ASSERT_TRUE(g.add({.id = "hop2", .device = Device::kDisk, .tags = {"end"}}, [&](Req&, Emitter<Req>&) {
                finished.fetch_add(1);
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(g.inject("hop1", Req{i}).ok());
  g.stop();
  EXPECT_EQ(finished.load(), 2000);
  Req late{1};
  EXPECT_EQ(g.inject("hop1", std::move(late)).code(), StatusCode::kUnavailable);
  EXPECT_NE(late.payload, nullptr);
}

TEST(FluxRuntimeErrorsTest, RuntimeStoppingWithMessagesInFlightDropsThemToTheErrorHandler) {
  auto rt = testing::start_runtime(2, 2, 1);
  ASSERT_NE(rt, nullptr);
  std::atomic<int> handled{0};
  Failures failures;
  constexpr int kN = 3000;
  {
    Graph<Req> g("killed", *rt, {.queue_capacity = kN, .batch = 4});
    ASSERT_TRUE(g.add({.id = "k1", .device = Device::kCpu, .ctx = {"n"}, .streams = {post_to("k2")}},
                      [](Req& r, Emitter<Req>& out) { return out.emit("k2", std::move(r)); }).ok());
    ASSERT_TRUE(g.add({.id = "k2", .device = Device::kDisk, .ctx = {"n"}}, [&](Req&, Emitter<Req>&) {
                  handled.fetch_add(1);
                  return Status();
                }).ok());
    g.on_error([&](const FluxionError& e, Req& r) { failures.add(e, r); });
    ASSERT_TRUE(g.start().ok());
    std::thread sender([&] {
      for (int i = 0; i < kN; ++i) {
        Req r{i};
        if (!g.inject("k1", std::move(r)).ok()) failures.add(FluxionError{"killed", "inject", Status()}, r);
      }
    });
    rt->stop();  // while the sender still sends and strands still drain
    sender.join();
    auto stats = g.stats();
    EXPECT_EQ(stats[0].queued + stats[1].queued, 0);
  }  // the graph goes away after the runtime: nothing may be left to free or to run
  // Every message was handled, refused at inject, or handed to the error handler.
  EXPECT_EQ(handled.load() + static_cast<int>(failures.list().size()), kN);
  for (const Failure& f : failures.list()) EXPECT_TRUE(f.payload);
}

TEST(FluxRuntimeErrorsTest, AGraphOnAStoppedRuntimeRefusesAndKeepsTheMessage) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  rt->stop();
  Graph<Req> g("dead", *rt);
  ASSERT_TRUE(g.add({.id = "dead_end", .ctx = {"n"}}, [](Req&, Emitter<Req>&) { return Status(); }).ok());
  ASSERT_TRUE(g.start().ok());
  Req r{7};
  EXPECT_EQ(g.inject("dead_end", std::move(r)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.id, 7);
  EXPECT_NE(r.payload, nullptr);
  EXPECT_EQ(g.stats()[0].queued, 0);
}

// A replicated fluxion whose drain the runtime refuses: the message was enqueued and is the
// graph's (another drain may have run and freed it — it is never looked for by address), so
// inject succeeds and, with no drain left, the error handler gets it intact.
TEST(FluxRuntimeErrorsTest, AReplicatedFluxionOnAStoppedRuntimeHandsTheMessageToTheErrorHandler) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  rt->stop();
  Failures failures;
  Graph<Req> g("dead_replicated", *rt);
  ASSERT_TRUE(g.add({.id = "dead_any", .replicas = 2}, [](Req&, Emitter<Req>&) { return Status(); }).ok());
  g.on_error([&](const FluxionError& e, Req& r) { failures.add(e, r); });
  ASSERT_TRUE(g.start().ok());
  ASSERT_TRUE(g.inject("dead_any", Req{9}).ok());
  auto list = failures.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].fluxion, "dead_any");
  EXPECT_EQ(list[0].status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(list[0].id, 9);
  EXPECT_TRUE(list[0].payload);
  auto stats = g.stats();
  EXPECT_EQ(stats[0].queued, 0);
  EXPECT_EQ(stats[0].failed, 1u);
}

// Same, while another drain of the lane still runs: the refused drain leaves the message in the
// mailbox and that drain runs it — nothing fails, nothing is taken back.
TEST(FluxRuntimeErrorsTest, AReplicatedFluxionRefusedADrainLetsARunningDrainTakeTheMessage) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Failures failures;
  Gate entered, release;
  std::atomic<int> handled{0};
  Graph<Req> g("half_dead", *rt);
  ASSERT_TRUE(g.add({.id = "slow_any", .replicas = 2}, [&](Req& r, Emitter<Req>&) {
                if (r.id == 1) {
                  entered.open();
                  EXPECT_TRUE(release.wait());
                }
                handled.fetch_add(1);
                return Status();
              }).ok());
  g.on_error([&](const FluxionError& e, Req& r) { failures.add(e, r); });
  ASSERT_TRUE(g.start().ok());
  ASSERT_TRUE(g.inject("slow_any", Req{1}).ok());
  ASSERT_TRUE(entered.wait());  // one drain is inside the handler
  std::thread stopper([&] { rt->stop(); });
  for (int i = 0; i < 30'000 && rt->running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(rt->running());
  Req two{2};
  EXPECT_TRUE(g.inject("slow_any", std::move(two)).ok()) << "the running drain will take it";
  EXPECT_EQ(two.payload, nullptr) << "moved: the graph owns it";
  release.open();
  stopper.join();
  g.stop();
  EXPECT_EQ(handled.load(), 2);
  EXPECT_TRUE(failures.list().empty());
  EXPECT_EQ(g.stats()[0].queued, 0);
}

}  // namespace
}  // namespace chiron::flux
