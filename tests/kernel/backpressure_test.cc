#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::Leaf;
using testing::small_options;

RuntimeOptions tiny_queue() {
  RuntimeOptions o = small_options();
  o.cpu_threads = 1;
  o.disk_threads = 1;
  o.queue_capacity = 2;
  return o;
}

TEST(BackpressureTest, ExternalSubmitterBlocksWhileTheQueueIsFull) {
  Runtime rt(tiny_queue());
  ASSERT_TRUE(rt.start().ok());
  std::atomic<bool> gate{false};
  std::atomic<bool> started{false};
  ASSERT_TRUE(rt.post(Device::kCpu, [&] {
    started = true;
    started.notify_all();
    gate.wait(false);
  }));
  started.wait(false);  // the worker is busy, the ring is empty
  std::atomic<int> ran{0};
  ASSERT_TRUE(rt.post(Device::kCpu, [&ran] { ++ran; }));
  ASSERT_TRUE(rt.post(Device::kCpu, [&ran] { ++ran; }));  // ring full now
  std::atomic<bool> returned{false};
  std::thread submitter([&] {
    EXPECT_TRUE(rt.post(Device::kCpu, [&ran] { ++ran; }));
    returned = true;
  });
  while (rt.stats().blocked_submitters == 0) std::this_thread::yield();
  EXPECT_FALSE(returned.load());
  gate = true;
  gate.notify_all();
  submitter.join();
  rt.stop();
  EXPECT_EQ(ran.load(), 3);
}

class Fanout : public Kernel {
 public:
  Fanout(int n, Device child_device) : n_(n), child_device_(child_device) {}
  void act() override {
    for (int i = 0; i < n_; ++i) upstream(std::make_unique<Leaf>(child_device_));
  }
  void react(std::unique_ptr<Kernel>) override {
    if (++count_ == n_) commit();
  }
  int n_;
  Device child_device_;
  int count_ = 0;
};

TEST(BackpressureTest, WorkerRunsQueuedTasksInlineWhenItsOwnQueueIsFull) {
  Runtime rt(tiny_queue());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.run(std::make_unique<Fanout>(2000, Device::kCpu)), 0);
  EXPECT_GT(rt.stats().inline_runs, 0u);
}

// Disk kernels that each fan out to cpu kernels, with both queues tiny: cpu and disk
// workers push into each other's full queues.
class DiskFanout : public Fanout {
 public:
  DiskFanout() : Fanout(8, Device::kCpu) { set_device(Device::kDisk); }
};

class CrossFlood : public Kernel {
 public:
  void act() override {
    for (int i = 0; i < 300; ++i) upstream(std::make_unique<DiskFanout>());
  }
  void react(std::unique_ptr<Kernel> child) override {
    if (!child->result().ok()) ++errors;
    if (++count_ == 300) commit(errors);
  }
  int count_ = 0;
  int errors = 0;
};

TEST(BackpressureTest, CrossDeviceFloodWithTinyQueuesCompletes) {
  Runtime rt(tiny_queue());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.run(std::make_unique<CrossFlood>()), 0);
}

}  // namespace
}  // namespace chiron::kernel
