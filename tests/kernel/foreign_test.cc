// Kernels driven from outside their act/react: Asio completion handlers that commit or
// upstream (the service pattern), and posted functions that throw.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <memory>
#include <stdexcept>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::Leaf;
using testing::run_and_collect;
using testing::small_options;

// Starts an Asio timer in act; the completion handler commits.
class WaitsOnAsio : public Kernel {
 public:
  WaitsOnAsio() : Kernel(Device::kNet) {}
  void act() override {
    auto* ctx = Runtime::current_net_context();
    timer_ = std::make_unique<boost::asio::steady_timer>(*ctx, std::chrono::milliseconds(1));
    timer_->async_wait([this](const boost::system::error_code& ec) {
      handler_on_context = Runtime::current_net_context() != nullptr;
      commit(ec ? Status::internal(ec.message()) : Status());
    });
  }
  std::unique_ptr<boost::asio::steady_timer> timer_;
  bool handler_on_context = false;
};

class Collects : public Kernel {
 public:
  explicit Collects(std::unique_ptr<Kernel> child) : child_(std::move(child)) {}
  void act() override { upstream(std::move(child_)); }
  void react(std::unique_ptr<Kernel> child) override {
    returned = std::move(child);
    commit(returned->result());
  }
  std::unique_ptr<Kernel> child_;
  std::unique_ptr<Kernel> returned;
};

TEST(ForeignTest, CommitFromAnAsioCompletionHandlerReturnsTheKernel) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<Collects>(std::make_unique<WaitsOnAsio>()));
  ASSERT_NE(root->returned, nullptr);
  EXPECT_TRUE(root->returned->result().ok());
  EXPECT_TRUE(static_cast<WaitsOnAsio*>(root->returned.get())->handler_on_context);
}

// Upstreams its subordinates from an Asio handler, after act returned.
class SpawnsFromHandler : public Kernel {
 public:
  SpawnsFromHandler() : Kernel(Device::kNet) {}
  void act() override {
    timer_ = std::make_unique<boost::asio::steady_timer>(*Runtime::current_net_context(), std::chrono::milliseconds(1));
    timer_->async_wait([this](const boost::system::error_code&) {
      for (int i = 0; i < 50; ++i) upstream(std::make_unique<Leaf>());
    });
  }
  void react(std::unique_ptr<Kernel>) override {
    if (++count == 50) commit();
  }
  std::unique_ptr<boost::asio::steady_timer> timer_;
  int count = 0;
};

TEST(ForeignTest, SubordinatesUpstreamedFromAHandlerAreCollected) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  auto root = run_and_collect(rt, std::make_unique<SpawnsFromHandler>());
  EXPECT_EQ(root->count, 50);
  EXPECT_TRUE(root->result().ok());
}

TEST(ForeignTest, PostedFunctionThatThrowsDoesNotStopThePipeline) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  for (Device d : {Device::kCpu, Device::kDisk, Device::kNet, Device::kTimer}) {
    ASSERT_TRUE(rt.post(d, [] { throw std::runtime_error("posted boom"); }));
    std::promise<void> after;
    ASSERT_TRUE(rt.post(d, [&after] { after.set_value(); }));
    after.get_future().get();
  }
}

}  // namespace
}  // namespace chiron::kernel
