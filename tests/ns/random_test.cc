#include "ns/random.h"
#include "ns/weighted_random.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

// Pearson's chi-square of observed counts against expected shares.
double chi_square(const std::map<std::string, int>& observed, const std::map<std::string, double>& share, int n) {
  double chi = 0;
  for (const auto& [id, p] : share) {
    auto it = observed.find(id);
    const double o = it == observed.end() ? 0 : it->second;
    const double e = p * n;
    chi += (o - e) * (o - e) / e;
  }
  return chi;
}

TEST(RandomTest, SameSeedGivesSameSequence) {
  ManualClock clock;
  PoolOptions options;
  options.balancer.seed = 42;
  auto p1 = make_pool(clock, "random", options);
  auto p2 = make_pool(clock, "random", options);
  add_all(*p1, {{"a", 1}, {"b", 1}, {"c", 1}});
  add_all(*p2, {{"a", 1}, {"b", 1}, {"c", 1}});
  EXPECT_EQ(picks(*p1, 50), picks(*p2, 50));
}

TEST(RandomTest, UniformPassesChiSquareOverSeededPicks) {
  ManualClock clock;
  auto pool = make_pool(clock, "random");
  std::map<std::string, double> share;
  for (int i = 0; i < 10; ++i) {
    add_all(*pool, {{"s" + std::to_string(i), static_cast<uint32_t>(i + 1)}});  // weights ignored
    share["s" + std::to_string(i)] = 0.1;
  }
  constexpr int kPicks = 1'000'000;
  // 9 degrees of freedom: 27.88 is the 0.1% critical value.
  EXPECT_LT(chi_square(testing::counts(*pool, kPicks), share, kPicks), 27.88);
}

TEST(WeightedRandomTest, ProportionsFollowWeightsWithinChiSquare) {
  ManualClock clock;
  auto pool = make_pool(clock, "wrandom");
  add_all(*pool, {{"a", 5}, {"b", 3}, {"c", 2}});
  constexpr int kPicks = 1'000'000;
  auto counts = testing::counts(*pool, kPicks);
  // 2 degrees of freedom: 13.82 is the 0.1% critical value.
  EXPECT_LT(chi_square(counts, {{"a", 0.5}, {"b", 0.3}, {"c", 0.2}}, kPicks), 13.82);
  EXPECT_NEAR(counts["a"] / double(kPicks), 0.5, 0.005);
}

TEST(WeightedRandomTest, FollowsWeightChangesAndSkipsIneligible) {
  ManualClock clock;
  auto pool = make_pool(clock, "wrandom");
  add_all(*pool, {{"a", 1}, {"b", 1}, {"c", 1}});
  ASSERT_TRUE(pool->set_weight("a", 3).ok());
  ASSERT_TRUE(pool->set_admin("c", AdminState::kMaint).ok());
  constexpr int kPicks = 100'000;
  auto counts = testing::counts(*pool, kPicks);
  EXPECT_EQ(counts.count("c"), 0u);
  EXPECT_NEAR(counts["a"] / double(kPicks), 0.75, 0.01);
}

TEST(WeightedRandomTest, WeightPercentOverrideScalesShare) {
  ManualClock clock;
  auto pool = make_pool(clock, "wrandom");
  add_all(*pool, {{"a", 1}, {"b", 1}});
  ASSERT_TRUE(pool->set_weight_percent("a", 25).ok());  // HB weight=25%
  constexpr int kPicks = 100'000;
  EXPECT_NEAR(testing::counts(*pool, kPicks)["a"] / double(kPicks), 0.2, 0.01);
}

}  // namespace
}  // namespace chiron::ns
