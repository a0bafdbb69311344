#include "kernel/kernel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::Leaf;
using testing::run_and_collect;
using testing::small_options;

// Upstreams n leaves and counts them in react with a plain int.
class Fanout : public Kernel {
 public:
  explicit Fanout(int n) : n_(n) {}
  void act() override {
    for (int i = 0; i < n_; ++i) upstream(std::make_unique<Leaf>());
    if (n_ == 0) commit();
  }
  void react(std::unique_ptr<Kernel> child) override {
    if (!child->result().ok()) ++errors;
    if (++count == n_) commit();
  }
  int count = 0;   // plain: react calls are serialised
  int errors = 0;
  int n_;
};

TEST(KernelTest, HundredThousandSubordinatesIncrementAPlainCounterExactly) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<Fanout>(100'000));
  EXPECT_EQ(root->count, 100'000);
  EXPECT_EQ(root->errors, 0);
  EXPECT_TRUE(root->result().ok());
}

class RecordsActOrder : public Kernel {
 public:
  void act() override {
    for (int i = 0; i < 1000; ++i) upstream(std::make_unique<Leaf>());
    act_done = true;  // plain write: react must not see it false
  }
  void react(std::unique_ptr<Kernel>) override {
    if (!act_done) ++violations;
    if (++count == 1000) commit();
  }
  bool act_done = false;
  int violations = 0;
  int count = 0;
};

TEST(KernelTest, ActHappensBeforeEveryReact) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<RecordsActOrder>());
  EXPECT_EQ(root->violations, 0);
}

class ExitsWith : public Kernel {
 public:
  explicit ExitsWith(int code) : code_(code) {}
  void act() override { commit(code_); }
  int code_;
};

TEST(KernelTest, RunReturnsTheRootExitCode) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.run(std::make_unique<ExitsWith>(42)), 42);
  EXPECT_EQ(rt.run(std::make_unique<ExitsWith>(0)), 0);
  EXPECT_EQ(rt.run(std::make_unique<Leaf>()), 0);
}

class Throws : public Kernel {
 public:
  void act() override { throw std::runtime_error("boom"); }
};

// Forwards its only child's result.
class Forwards : public Kernel {
 public:
  explicit Forwards(std::unique_ptr<Kernel> child) : child_(std::move(child)) {}
  void act() override { upstream(std::move(child_)); }
  void react(std::unique_ptr<Kernel> child) override {
    seen = child->result();
    commit(child->result());
  }
  std::unique_ptr<Kernel> child_;
  Status seen;
};

TEST(KernelTest, ExceptionInActReachesThePrincipalAsInternalError) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<Forwards>(std::make_unique<Throws>()));
  EXPECT_EQ(root->seen.code(), StatusCode::kInternal);
  EXPECT_NE(root->seen.message().find("boom"), std::string::npos) << root->seen.to_string();
  EXPECT_EQ(root->exit_code(), 1);
}

TEST(KernelTest, ExceptionInRootActEndsTheJobWithExitCodeOne) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.run(std::make_unique<Throws>()), 1);
}

class ThrowsInReact : public Kernel {
 public:
  void act() override {
    for (int i = 0; i < 10; ++i) upstream(std::make_unique<Leaf>());
  }
  void react(std::unique_ptr<Kernel>) override {
    ++reacts;
    throw std::logic_error("bad react");
  }
  int reacts = 0;
};

TEST(KernelTest, ExceptionInReactFailsThePrincipalAndDropsLaterSubordinates) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<ThrowsInReact>());
  EXPECT_EQ(root->reacts, 1);
  EXPECT_EQ(root->result().code(), StatusCode::kInternal);
  EXPECT_NE(root->result().message().find("bad react"), std::string::npos);
}

std::atomic<int> g_gated_destroyed{0};

// Waits for a gate, on the disk pipeline, then commits.
class Gated : public Kernel {
 public:
  explicit Gated(std::atomic<bool>* gate) : Kernel(Device::kDisk), gate_(gate) {}
  ~Gated() override { g_gated_destroyed.fetch_add(1); }
  void act() override {
    gate_->wait(false);
    commit();
  }
  std::atomic<bool>* gate_;
};

// Commits in act while its three subordinates are still running.
class CommitsEarly : public Kernel {
 public:
  CommitsEarly(std::atomic<bool>* gate, std::atomic<bool>* committed) : gate_(gate), committed_flag_(committed) {}
  void act() override {
    for (int i = 0; i < 3; ++i) upstream(std::make_unique<Gated>(gate_));
    commit();
    committed_flag_->store(true);
    committed_flag_->notify_all();
  }
  void react(std::unique_ptr<Kernel>) override { ++reacts; }
  std::atomic<bool>* gate_;
  std::atomic<bool>* committed_flag_;
  int reacts = 0;
};

class ChecksDelivery : public Kernel {
 public:
  explicit ChecksDelivery(std::unique_ptr<CommitsEarly> mid) : mid_(std::move(mid)) {}
  void act() override { upstream(std::move(mid_)); }
  void react(std::unique_ptr<Kernel> child) override {
    destroyed_at_delivery = g_gated_destroyed.load();
    mid_reacts = static_cast<CommitsEarly*>(child.get())->reacts;
    commit();
  }
  std::unique_ptr<CommitsEarly> mid_;
  int destroyed_at_delivery = -1;
  int mid_reacts = -1;
};

TEST(KernelTest, PrincipalThatCommitsEarlyIsDeliveredAfterItsLastSubordinateWithoutReacts) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  g_gated_destroyed = 0;
  std::atomic<bool> gate{false}, committed{false};
  std::promise<std::unique_ptr<Kernel>> done;
  auto future = done.get_future();
  rt.submit(std::make_unique<ChecksDelivery>(std::make_unique<CommitsEarly>(&gate, &committed)),
            [&done](std::unique_ptr<Kernel> k) { done.set_value(std::move(k)); });
  committed.wait(false);
  gate.store(true);
  gate.notify_all();
  auto root = future.get();
  auto* checks = static_cast<ChecksDelivery*>(root.get());
  EXPECT_EQ(checks->destroyed_at_delivery, 3);
  EXPECT_EQ(checks->mid_reacts, 0);
}

// Commits from another pipeline's thread after act returned.
class CommitsFromDisk : public Kernel {
 public:
  void act() override {
    bool posted = runtime().post(Device::kDisk, [this] { commit(7); });
    if (!posted) commit(1);
  }
};

TEST(KernelTest, CommitFromAnotherThreadIsDelivered) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<Forwards>(std::make_unique<CommitsFromDisk>()));
  EXPECT_EQ(root->seen.code(), StatusCode::kAborted);
  EXPECT_EQ(root->exit_code(), 1);
}

class CountsActs : public Kernel {
 public:
  void act() override {
    ++acts;
    commit();
  }
  int acts = 0;
};

class Reuses : public Kernel {
 public:
  void act() override { upstream(std::make_unique<CountsActs>()); }
  void react(std::unique_ptr<Kernel> child) override {
    if (++rounds < 3) {
      upstream(std::move(child));
      return;
    }
    acts = static_cast<CountsActs*>(child.get())->acts;
    commit();
  }
  int rounds = 0;
  int acts = 0;
};

TEST(KernelTest, ReturnedKernelCanBeUpstreamedAgain) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<Reuses>());
  EXPECT_EQ(root->acts, 3);
}

// Each link upstreams the next; the chain unwinds through every react.
class Chain : public Kernel {
 public:
  explicit Chain(int depth) : depth_(depth) {}
  void act() override {
    if (depth_ == 0) return commit();
    upstream(std::make_unique<Chain>(depth_ - 1));
  }
  void react(std::unique_ptr<Kernel> child) override { commit(child->result()); }
  int depth_;
};

TEST(KernelTest, DeepChainUnwindsWithoutExhaustingTheStack) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  EXPECT_EQ(rt.run(std::make_unique<Chain>(20'000)), 0);
}

TEST(KernelTest, KernelIdsAreUniqueAndTypeNameIsShort) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto a = run_and_collect(rt, std::make_unique<Leaf>());
  auto b = run_and_collect(rt, std::make_unique<Leaf>());
  EXPECT_NE(a->id(), 0u);
  EXPECT_NE(a->id(), b->id());
  EXPECT_EQ(a->type_name(), "Leaf");
}

}  // namespace
}  // namespace chiron::kernel
