#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <future>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::run_and_collect;
using testing::small_options;

class NetProbe : public Kernel {
 public:
  NetProbe() : Kernel(Device::kNet) {}
  void act() override {
    act_context = Runtime::current_net_context();
    running_in_context = act_context != nullptr && act_context->get_executor().running_in_this_thread();
    upstream(std::make_unique<testing::Leaf>());
  }
  void react(std::unique_ptr<Kernel>) override {
    react_context = Runtime::current_net_context();
    commit();
  }
  boost::asio::io_context* act_context = nullptr;
  boost::asio::io_context* react_context = nullptr;
  bool running_in_context = false;
};

TEST(DeviceTest, NetKernelRunsActAndReactOnOneIoContextThread) {
  RuntimeOptions o = small_options();
  o.net_threads = 2;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  auto contexts = rt.net_contexts();
  ASSERT_EQ(contexts.size(), 2u);
  for (int i = 0; i < 4; ++i) {
    auto probe = run_and_collect(rt, std::make_unique<NetProbe>());
    EXPECT_TRUE(probe->running_in_context);
    EXPECT_NE(std::find(contexts.begin(), contexts.end(), probe->act_context), contexts.end());
    EXPECT_EQ(probe->react_context, probe->act_context);
  }
}

TEST(DeviceTest, CpuKernelIsNotOnAnIoContext) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  std::promise<boost::asio::io_context*> seen;
  ASSERT_TRUE(rt.post(Device::kCpu, [&seen] { seen.set_value(Runtime::current_net_context()); }));
  EXPECT_EQ(seen.get_future().get(), nullptr);
}

TEST(DeviceTest, PostToNetRunsOnAnIoContextThread) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  std::promise<bool> seen;
  ASSERT_TRUE(rt.post(Device::kNet, [&seen] {
    auto* ctx = Runtime::current_net_context();
    seen.set_value(ctx != nullptr && ctx->get_executor().running_in_this_thread());
  }));
  EXPECT_TRUE(seen.get_future().get());
}

class OnDevice : public Kernel {
 public:
  explicit OnDevice(Device d) : Kernel(d) {}
  void act() override { commit(); }
};

class Spread : public Kernel {
 public:
  void act() override {
    for (Device d : {Device::kCpu, Device::kDisk, Device::kNet, Device::kTimer})
      upstream(std::make_unique<OnDevice>(d));
  }
  void react(std::unique_ptr<Kernel>) override {
    if (++n == 4) commit();
  }
  int n = 0;
};

TEST(DeviceTest, EachKernelRunsOnALaneOfItsDevice) {
  RuntimeOptions o = small_options();
  o.trace = true;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  ASSERT_EQ(rt.run(std::make_unique<Spread>()), 0);
  std::string path = ::testing::TempDir() + "/device_lanes.jsonl";
  ASSERT_TRUE(rt.write_trace(path).ok());
  auto trace = read_trace_file(path);
  ASSERT_TRUE(trace.ok());
  int checked = 0;
  for (const TraceRecord& r : trace->records) {
    if (r.event != "act_begin" || r.type != "OnDevice") continue;
    EXPECT_EQ(r.lane.substr(0, r.lane.find('/')), r.device) << r.lane;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace chiron::kernel
