#include "ns/least_load.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

TEST(LeastLoadTest, TwoServersAlwaysPicksTheLessLoaded) {
  ManualClock clock;
  auto pool = make_pool(clock, "least");
  add_all(*pool, {{"a", 1}, {"b", 1}});
  ASSERT_TRUE(pool->report_load("b", 10).ok());
  EXPECT_EQ(picks(*pool, 10), "a a a a a a a a a a");  // a's load climbs 0 → 10
}

TEST(LeastLoadTest, NeverPicksTheHeavierOfTheSampledPair) {
  ManualClock clock;
  auto pool = make_pool(clock, "least");
  add_all(*pool, {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  ASSERT_TRUE(pool->report_load("d", 1'000'000).ok());
  // d is heavier than any partner it can be sampled with, so it never wins.
  auto counts = testing::counts(*pool, 3000);
  EXPECT_EQ(counts.count("d"), 0u);
}

TEST(LeastLoadTest, CountsAssignmentsSinceTheLastReport) {
  ManualClock clock;
  auto pool = make_pool(clock, "least");
  add_all(*pool, {{"a", 1}, {"b", 1}});
  ASSERT_TRUE(pool->report_load("a", 3).ok());
  EXPECT_EQ(picks(*pool, 3), "b b b");
  (void)picks(*pool, 100);
  const auto la = pool->find("a")->load();
  const auto lb = pool->find("b")->load();
  EXPECT_LE(la > lb ? la - lb : lb - la, 1u);
  ASSERT_TRUE(pool->report_load("b", 0).ok());  // b finished its work
  EXPECT_EQ(pool->find("b")->assigned_since_report, 0u);
  EXPECT_EQ(picks(*pool, 1), "b");
}

TEST(LeastLoadTest, ComparesLoadPerWeight) {
  ManualClock clock;
  auto pool = make_pool(clock, "least");
  add_all(*pool, {{"a", 4}, {"b", 1}});
  ASSERT_TRUE(pool->report_load("a", 2).ok());
  ASSERT_TRUE(pool->report_load("b", 1).ok());
  EXPECT_EQ(picks(*pool, 1), "a");  // 2/4 < 1/1 (research notes §2.4)
}

TEST(LeastLoadTest, SpreadsEvenlyWithoutReports) {
  ManualClock clock;
  auto pool = make_pool(clock, "least");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pool->add("s" + std::to_string(i)).ok());
  (void)picks(*pool, 20'000);
  uint64_t lo = UINT64_MAX, hi = 0;
  pool->for_each([&](const Server& s) {
    lo = std::min(lo, s.load());
    hi = std::max(hi, s.load());
  });
  EXPECT_LE(hi - lo, 5u);  // P2C keeps the max within O(log log n) of the mean
}

}  // namespace
}  // namespace chiron::ns
