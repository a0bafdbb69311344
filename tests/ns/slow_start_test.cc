#include "ns/pool.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using namespace std::chrono_literals;

PoolOptions ten_second_ramp() {
  PoolOptions options;
  options.slow_start_us = 10'000'000;
  return options;
}

uint32_t ramp_after_pick(Pool& pool, std::string_view id) {
  EXPECT_TRUE(pool.pick().ok());
  return pool.find(id)->ramp_percent;
}

TEST(SlowStartTest, WeightRampsLinearlyFromTenPercentAfterDownToUp) {
  ManualClock clock;
  auto pool = make_pool(clock, "wrandom", ten_second_ramp());
  add_all(*pool, {{"a", 2}, {"b", 2}});
  ASSERT_TRUE(pool->set_health("a", Health::kDown).ok());
  ASSERT_TRUE(pool->set_health("a", Health::kUp).ok());
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 10u);
  EXPECT_EQ(pool->find("a")->effective_weight, 20u);  // 2 × 100% × 10%
  clock.advance(5s);
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 55u);
  clock.advance(2500ms);
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 75u);  // 77.5% rounded down to a 5% step
  clock.advance(2500ms);
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 100u);
  EXPECT_EQ(pool->find("a")->effective_weight, 200u);
  EXPECT_EQ(pool->find("a")->ramp_start_us, -1);
}

TEST(SlowStartTest, RecoveringServerGetsASmallShareAtFirst) {
  ManualClock clock;
  auto pool = make_pool(clock, "wrandom", ten_second_ramp());
  add_all(*pool, {{"a", 1}, {"b", 1}});
  ASSERT_TRUE(pool->set_health("a", Health::kDown).ok());
  ASSERT_TRUE(pool->set_health("a", Health::kUp).ok());
  constexpr int kPicks = 50'000;
  EXPECT_NEAR(testing::counts(*pool, kPicks)["a"] / double(kPicks), 10.0 / 110.0, 0.01);
  clock.advance(10s);
  EXPECT_NEAR(testing::counts(*pool, kPicks)["a"] / double(kPicks), 0.5, 0.01);
}

TEST(SlowStartTest, NotAppliedAtRegistrationOrFromPending) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr", ten_second_ramp());
  ASSERT_TRUE(pool->add("a").ok());
  ASSERT_TRUE(pool->add("b", ServerSpec{.health = Health::kPending}).ok());
  ASSERT_TRUE(pool->set_health("b", Health::kUp).ok());
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 100u);
  EXPECT_EQ(pool->find("b")->ramp_percent, 100u);
}

TEST(SlowStartTest, GoingDownAgainCancelsTheRamp) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr", ten_second_ramp());
  add_all(*pool, {{"a", 1}, {"b", 1}});
  ASSERT_TRUE(pool->set_health("a", Health::kDown).ok());
  ASSERT_TRUE(pool->set_health("a", Health::kUp).ok());
  ASSERT_TRUE(pool->set_health("a", Health::kDown).ok());
  EXPECT_EQ(pool->find("a")->ramp_percent, 100u);
  ASSERT_TRUE(pool->set_health("a", Health::kUp).ok());
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 10u);
}

TEST(SlowStartTest, DisabledByDefault) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 1}});
  ASSERT_TRUE(pool->set_health("a", Health::kDown).ok());
  ASSERT_TRUE(pool->set_health("a", Health::kUp).ok());
  EXPECT_EQ(ramp_after_pick(*pool, "a"), 100u);
}

}  // namespace
}  // namespace chiron::ns
