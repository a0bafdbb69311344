#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>

#include "kernel/kernel.h"
#include "kernel_testutil.h"

namespace chiron::kernel {
namespace {

using testing::Leaf;
using testing::small_options;

class Boom : public Kernel {
 public:
  void act() override { throw std::runtime_error("x"); }
};

class Job : public Kernel {
 public:
  void act() override {
    for (int i = 0; i < 20; ++i) upstream(std::make_unique<Leaf>(i % 2 ? Device::kDisk : Device::kCpu));
    upstream(std::make_unique<Boom>());
  }
  void react(std::unique_ptr<Kernel>) override {
    if (++n == 21) commit();
  }
  int n = 0;
};

TEST(TraceTest, OffRecordsNothingAndRefusesToWrite) {
  Runtime rt(small_options());
  ASSERT_TRUE(rt.start().ok());
  ASSERT_EQ(rt.run(std::make_unique<Job>()), 0);
  EXPECT_EQ(rt.stats().trace_events, 0u);
  EXPECT_EQ(rt.write_trace(::testing::TempDir() + "/off.jsonl").code(), StatusCode::kFailedPrecondition);
}

TEST(TraceTest, RecordsEveryTransitionAsParsableJsonLines) {
  RuntimeOptions o = small_options();
  o.trace = true;
  Runtime rt(o);
  ASSERT_TRUE(rt.start().ok());
  ASSERT_EQ(rt.run(std::make_unique<Job>()), 0);
  std::string path = ::testing::TempDir() + "/job.jsonl";
  ASSERT_TRUE(rt.write_trace(path).ok());
  auto trace = read_trace_file(path);
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->skipped_lines, 0u) << trace->first_error;
  std::set<std::string> events;
  std::map<std::pair<std::string, uint64_t>, int> open;
  int64_t last_ts = -1;
  for (const TraceRecord& r : trace->records) {
    events.insert(r.event);
    EXPECT_GE(r.ts_us, last_ts);
    last_ts = r.ts_us;
    if (r.event == "act_begin") ++open[{r.lane, r.kernel}];
    if (r.event == "act_end") --open[{r.lane, r.kernel}];
  }
  EXPECT_EQ(events, (std::set<std::string>{"queued", "act_begin", "act_end", "react", "committed", "failed"}));
  for (auto& [key, n] : open) EXPECT_EQ(n, 0) << key.first << " " << key.second;
  EXPECT_EQ(rt.stats().trace_events, trace->records.size());
}

}  // namespace
}  // namespace chiron::kernel
