#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::Leaf;
using testing::small_options;

TEST(StopTest, StopRunsEverythingQueuedBeforeItReturns) {
  RuntimeOptions o = small_options();
  o.cpu_threads = 1;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  std::atomic<bool> gate{false};
  ASSERT_TRUE(rt.post(Device::kCpu, [&gate] { gate.wait(false); }));  // occupies the only worker
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 100; ++i) {
    rt.submit(std::make_unique<Leaf>(), [&](std::unique_ptr<Kernel> k) { (k->result().ok() ? ok : failed)++; });
  }
  std::thread stopper([&rt] { rt.stop(); });
  while (rt.running()) std::this_thread::yield();
  EXPECT_FALSE(rt.post(Device::kCpu, [] {}));  // refused while draining
  gate.store(true);
  gate.notify_all();
  stopper.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(rt.stats().live_roots, 0u);
}

TEST(StopTest, AfterStopNewWorkIsRefused) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  rt.stop();
  EXPECT_FALSE(rt.running());
  EXPECT_FALSE(rt.post(Device::kCpu, [] {}));
  Status seen;
  rt.submit(std::make_unique<Leaf>(), [&seen](std::unique_ptr<Kernel> k) { seen = k->result(); });
  EXPECT_EQ(seen.code(), StatusCode::kCancelled);
  EXPECT_EQ(rt.run(std::make_unique<Leaf>()), 1);
}

TEST(StopTest, StopIsIdempotentAndWorksWithoutStart) {
  Runtime never_started(small_options());
  never_started.stop();
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  rt.stop();
  rt.stop();
  SUCCEED();
}

TEST(StopTest, StartTwiceFailsAndBadOptionsAreRejected) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.start().code(), StatusCode::kFailedPrecondition);
  RuntimeOptions bad = small_options();
  bad.disk_threads = 0;
  Runtime rt2(bad);
  EXPECT_EQ(rt2.start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chiron::kernel
