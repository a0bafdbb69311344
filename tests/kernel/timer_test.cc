#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "kernel/kernel.h"
#include "kernel/timer_heap.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::run_and_collect;
using testing::small_options;

TEST(TimerHeapTest, NeverPopsAnEntryBeforeItsDueTime) {
  internal::TimerHeap heap;
  Kernel* a = reinterpret_cast<Kernel*>(uintptr_t{0x10});
  Kernel* b = reinterpret_cast<Kernel*>(uintptr_t{0x20});
  Kernel* c = reinterpret_cast<Kernel*>(uintptr_t{0x30});
  heap.push(200, b);
  heap.push(100, a);
  heap.push(200, c);
  std::vector<Kernel*> out;
  EXPECT_EQ(heap.pop_due(99, out), 0u);
  EXPECT_EQ(heap.pop_due(100, out), 1u);
  EXPECT_EQ(heap.pop_due(199, out), 0u);
  EXPECT_EQ(heap.pop_due(1000, out), 2u);
  EXPECT_EQ(out, (std::vector<Kernel*>{a, b, c}));  // due order, FIFO among equals
  EXPECT_TRUE(heap.empty());
}

// Records the clock when it runs.
class Stamp : public Kernel {
 public:
  explicit Stamp(Device d = Device::kCpu) : Kernel(d) {}
  void act() override {
    ran_at_us = runtime().clock().steady_us();
    commit();
  }
  int64_t ran_at_us = -1;
};

class Delays : public Kernel {
 public:
  explicit Delays(std::chrono::microseconds d, Device device = Device::kCpu) : delay_(d), device_(device) {}
  void act() override {
    armed_at_us = runtime().clock().steady_us();
    auto s = std::make_unique<Stamp>(device_);
    s->after(delay_);
    upstream(std::move(s));
    armed.store(true);
    armed.notify_all();
  }
  void react(std::unique_ptr<Kernel> child) override {
    ran_at_us = static_cast<Stamp*>(child.get())->ran_at_us;
    commit(child->result());
  }
  std::chrono::microseconds delay_;
  Device device_;
  int64_t armed_at_us = -1;
  int64_t ran_at_us = -1;
  std::atomic<bool> armed{false};
};

TEST(TimerTest, DelayedKernelNeverRunsEarlyOnTheSystemClock) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  for (Device d : {Device::kCpu, Device::kDisk, Device::kTimer}) {
    auto root = run_and_collect(rt, std::make_unique<Delays>(std::chrono::milliseconds(15), d));
    ASSERT_TRUE(root->result().ok());
    EXPECT_GE(root->ran_at_us - root->armed_at_us, 15'000);
  }
}

TEST(TimerTest, DelayedKernelRunsOnlyOnceTheManualClockReachesItsDueTime) {
  ManualClock clock;
  RuntimeOptions o = small_options();
  o.clock = &clock;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  std::promise<std::unique_ptr<Kernel>> done;
  auto future = done.get_future();
  const int64_t start_us = clock.steady_us();
  auto job = std::make_unique<Delays>(std::chrono::milliseconds(50));
  std::atomic<bool>& armed = job->armed;
  rt.submit(std::move(job), [&done](std::unique_ptr<Kernel> k) { done.set_value(std::move(k)); });
  armed.wait(false);
  // Move time in 1 ms steps, each once the previous one had a chance to fire; the kernel
  // records the manual time it saw.
  for (int step = 0; step < 1000 && future.wait_for(std::chrono::microseconds(200)) != std::future_status::ready;
       ++step) {
    clock.advance(std::chrono::milliseconds(1));
    rt.wake_timers();
  }
  auto root = future.get();
  auto* d = static_cast<Delays*>(root.get());
  EXPECT_GE(d->armed_at_us, start_us);
  EXPECT_GE(d->ran_at_us - d->armed_at_us, 50'000);
}

class AtDeadline : public Kernel {
 public:
  void act() override {
    due_us = runtime().clock().steady_us() + 10'000;
    auto s = std::make_unique<Stamp>();
    s->at(std::chrono::steady_clock::time_point(std::chrono::microseconds(due_us)));
    upstream(std::move(s));
  }
  void react(std::unique_ptr<Kernel> child) override {
    ran_at_us = static_cast<Stamp*>(child.get())->ran_at_us;
    commit();
  }
  int64_t due_us = 0;
  int64_t ran_at_us = -1;
};

TEST(TimerTest, KernelWithAbsoluteDueTimeNeverRunsEarly) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<AtDeadline>());
  EXPECT_GE(root->ran_at_us, root->due_us);
}

TEST(TimerTest, DelayedRootRunsNoEarlierThanItsDelay) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto stamp = std::make_unique<Stamp>();
  stamp->after(std::chrono::milliseconds(10));
  const int64_t submitted_us = rt.clock().steady_us();
  auto root = run_and_collect(rt, std::move(stamp));
  EXPECT_GE(root->ran_at_us - submitted_us, 10'000);
}

class ArmsForever : public Kernel {
 public:
  explicit ArmsForever(std::atomic<bool>* armed) : armed_(armed) {}
  void act() override {
    auto s = std::make_unique<Stamp>();
    s->after(std::chrono::hours(1));
    upstream(std::move(s));
    armed_->store(true);
    armed_->notify_all();
  }
  void react(std::unique_ptr<Kernel> child) override {
    child_result = child->result();
    child_ran = static_cast<Stamp*>(child.get())->ran_at_us >= 0;
    commit(child->result());
  }
  std::atomic<bool>* armed_;
  Status child_result;
  bool child_ran = true;
};

TEST(TimerTest, StopDeliversPendingTimersAsCancelled) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  std::atomic<bool> armed{false};
  std::unique_ptr<Kernel> finished;
  rt.submit(std::make_unique<ArmsForever>(&armed), [&finished](std::unique_ptr<Kernel> k) { finished = std::move(k); });
  armed.wait(false);
  rt.stop();  // drains: the callback has run when stop() returns
  ASSERT_NE(finished, nullptr);
  auto* root = static_cast<ArmsForever*>(finished.get());
  EXPECT_EQ(root->child_result.code(), StatusCode::kCancelled);
  EXPECT_FALSE(root->child_ran);
  EXPECT_EQ(rt.stats().timers_cancelled, 1u);
}

}  // namespace
}  // namespace chiron::kernel
