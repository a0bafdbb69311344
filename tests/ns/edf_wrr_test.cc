#include "ns/edf_wrr.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

TEST(EdfWrrTest, Weights511GiveEnvoySequence) {
  ManualClock clock;
  auto pool = make_pool(clock, "edf");
  add_all(*pool, {{"a", 5}, {"b", 1}, {"c", 1}});
  EXPECT_EQ(picks(*pool, 7), "a a a a b c a");
}

TEST(EdfWrrTest, EveryCycleOfTotalWeightPicksHaveExactProportions) {
  ManualClock clock;
  auto pool = make_pool(clock, "edf");
  add_all(*pool, {{"a", 5}, {"b", 3}, {"c", 2}, {"d", 7}});
  for (int cycle = 0; cycle < 20; ++cycle) {
    auto counts = testing::counts(*pool, 17);
    EXPECT_EQ(counts["a"], 5);
    EXPECT_EQ(counts["b"], 3);
    EXPECT_EQ(counts["c"], 2);
    EXPECT_EQ(counts["d"], 7);
  }
}

TEST(EdfWrrTest, IsDeterministic) {
  ManualClock clock;
  auto p1 = make_pool(clock, "edf");
  auto p2 = make_pool(clock, "edf");
  add_all(*p1, {{"a", 9}, {"b", 4}, {"c", 4}, {"d", 1}});
  add_all(*p2, {{"a", 9}, {"b", 4}, {"c", 4}, {"d", 1}});
  EXPECT_EQ(picks(*p1, 200), picks(*p2, 200));
}

TEST(EdfWrrTest, RestartsExactCyclesAfterMembershipChange) {
  ManualClock clock;
  auto pool = make_pool(clock, "edf");
  add_all(*pool, {{"a", 5}, {"b", 3}, {"c", 2}});
  (void)picks(*pool, 4);
  ASSERT_TRUE(pool->remove("b").ok());
  ASSERT_TRUE(pool->add("d", ServerSpec{.weight = 4}).ok());
  auto counts = testing::counts(*pool, 11);
  EXPECT_EQ(counts["a"], 5);
  EXPECT_EQ(counts["c"], 2);
  EXPECT_EQ(counts["d"], 4);
}

}  // namespace
}  // namespace chiron::ns
