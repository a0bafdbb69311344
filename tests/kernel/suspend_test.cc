// Kernel::suspend()/resume(): a run() may suspend its kernel; resume() from any thread —
// even before that run() returned — runs it again, and act() ordering rules still hold.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kernel/kernel.h"

namespace chiron::kernel {
namespace {

class Leaf final : public Kernel {
 public:
  void act() override { commit(); }
};

// First run(): suspends and hands the resume to another thread (sleeping `delay_us` first,
// 0 = at once, racing the end of run()). Second run(): spawns children and counts them.
class Waiter final : public Kernel {
 public:
  explicit Waiter(int delay_us) : delay_us_(delay_us) {}
  int runs = 0;
  int reacts = 0;
  std::thread resumer;

 protected:
  void run() override {
    if (++runs == 1) {
      suspend();
      resumer = std::thread([this] {
        if (delay_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
        resume();
      });
      return;
    }
    for (int i = 0; i < 8; ++i) upstream(std::make_unique<Leaf>());
  }
  void react(std::unique_ptr<Kernel>) override {
    if (++reacts == 8) commit();
  }

 private:
  int delay_us_;
};

class Root final : public Kernel {
 public:
  explicit Root(int delay_us) : delay_us_(delay_us) {}
  std::vector<Waiter*> seen;
  bool ok = true;
  void act() override {
    for (int i = 0; i < 16; ++i) upstream(std::make_unique<Waiter>(i % 2 == 0 ? 0 : delay_us_));
  }
  void react(std::unique_ptr<Kernel> child) override {
    auto* w = static_cast<Waiter*>(child.get());
    w->resumer.join();
    ok = ok && w->runs == 2 && w->reacts == 8;
    if (++returned_ == 16) commit(ok ? Status{} : Status::internal("a suspended kernel ran wrong"));
  }

 private:
  int delay_us_;
  int returned_ = 0;
};

TEST(SuspendTest, ResumedKernelsRunAgainAndFinish) {
  Runtime rt(RuntimeOptions{.cpu_threads = 2});
  ASSERT_TRUE(rt.start().ok());
  for (int round = 0; round < 20; ++round) EXPECT_EQ(rt.run(std::make_unique<Root>(200)), 0);
  rt.stop();
}

}  // namespace
}  // namespace chiron::kernel
