// The parking protocol of the cpu pool: a worker that pushes to its own deque must wake a
// parked worker, or work that only another worker can run would sit there. Here the owner
// blocks in one child until a sibling (only reachable by stealing) has run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::small_options;

class SetsFlag : public Kernel {
 public:
  explicit SetsFlag(std::atomic<bool>* flag) : flag_(flag) {}
  void act() override {
    flag_->store(true);
    commit();
  }
  std::atomic<bool>* flag_;
};

// Spins (bounded) until the flag is set; fails instead of hanging.
class AwaitsFlag : public Kernel {
 public:
  explicit AwaitsFlag(std::atomic<bool>* flag) : flag_(flag) {}
  void act() override {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!flag_->load()) {
      if (std::chrono::steady_clock::now() > deadline) return commit(Status::deadline_exceeded("sibling never ran"));
      std::this_thread::yield();
    }
    commit();
  }
  std::atomic<bool>* flag_;
};

class Pair : public Kernel {
 public:
  void act() override {
    upstream(std::make_unique<SetsFlag>(&flag_));    // pushed first: a thief takes it
    upstream(std::make_unique<AwaitsFlag>(&flag_));  // popped first (LIFO) by this worker
  }
  void react(std::unique_ptr<Kernel> child) override {
    if (!child->result().ok()) failed_ = true;
    if (++n_ == 2) commit(failed_ ? 1 : 0);
  }
  std::atomic<bool> flag_{false};
  int n_ = 0;
  bool failed_ = false;
};

TEST(WakeupTest, ParkedWorkerIsWokenToStealWhileTheOwnerBlocks) {
  RuntimeOptions o = small_options();
  o.cpu_threads = 2;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(rt.run(std::make_unique<Pair>()), 0) << "round " << i;
  }
}

}  // namespace
}  // namespace chiron::kernel
