#include "ns/round_robin.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

TEST(RoundRobinTest, CyclesThroughServersInListOrder) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 5}, {"b", 1}, {"c", 1}});
  EXPECT_EQ(picks(*pool, 7), "a b c a b c a");
}

TEST(RoundRobinTest, SkipsDrainedAndDownServers) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  ASSERT_TRUE(pool->set_admin("b", AdminState::kDrain).ok());
  ASSERT_TRUE(pool->set_health("d", Health::kDown).ok());
  EXPECT_EQ(picks(*pool, 4), "a c a c");
  ASSERT_TRUE(pool->set_admin("b", AdminState::kReady).ok());
  auto counts = testing::counts(*pool, 30);
  EXPECT_EQ(counts["a"], 10);
  EXPECT_EQ(counts["b"], 10);
  EXPECT_EQ(counts["c"], 10);
  EXPECT_EQ(counts.count("d"), 0u);
}

TEST(RoundRobinTest, EveryServerOnceInAnyCycleAfterMembershipChanges) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}});
  (void)picks(*pool, 3);
  ASSERT_TRUE(pool->remove("b").ok());
  ASSERT_TRUE(pool->add("f").ok());
  ASSERT_TRUE(pool->remove("d").ok());
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto counts = testing::counts(*pool, 4);
    EXPECT_EQ(counts.size(), 4u);
    for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  }
}

}  // namespace
}  // namespace chiron::ns
