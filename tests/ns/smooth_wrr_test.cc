#include "ns/smooth_wrr.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ns/rng.h"
#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

TEST(SmoothWrrTest, Weights511GiveNginxSequence) {
  ManualClock clock;
  auto pool = make_pool(clock, "swrr");
  add_all(*pool, {{"a", 5}, {"b", 1}, {"c", 1}});
  EXPECT_EQ(picks(*pool, 7), "a a b a c a a");
  EXPECT_EQ(picks(*pool, 7), "a a b a c a a");  // all current weights are back to 0
}

TEST(SmoothWrrTest, Weights532GiveResearchNotesSequence) {
  ManualClock clock;
  auto pool = make_pool(clock, "swrr");
  add_all(*pool, {{"a", 5}, {"b", 3}, {"c", 2}});
  EXPECT_EQ(picks(*pool, 10), "a b c a a b a c b a");
}

TEST(SmoothWrrTest, CountsStayWithinOneOfExactShareForRandomWeights) {
  ManualClock clock;
  Rng rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    auto pool = make_pool(clock, "swrr");
    const int n = 2 + static_cast<int>(rng.below(6));
    std::map<std::string, double> weight;
    double total = 0;
    for (int i = 0; i < n; ++i) {
      const auto w = static_cast<uint32_t>(1 + rng.below(20));
      add_all(*pool, {{std::string(1, char('a' + i)), w}});
      weight[std::string(1, char('a' + i))] = w;
      total += w;
    }
    std::map<std::string, int> seen;
    for (int k = 1; k <= 2 * static_cast<int>(total); ++k) {
      ++seen[(*pool->pick())->id];
      for (const auto& [id, w] : weight) ASSERT_LE(std::abs(seen[id] - k * w / total), 1.0) << id << " k=" << k;
    }
  }
}

TEST(SmoothWrrTest, KeepsProportionsAfterServerRemovedMidCycle) {
  ManualClock clock;
  auto pool = make_pool(clock, "swrr");
  add_all(*pool, {{"a", 5}, {"b", 3}, {"c", 2}});
  (void)picks(*pool, 4);
  ASSERT_TRUE(pool->remove("b").ok());
  auto counts = testing::counts(*pool, 70);  // 10 cycles of 5+2
  EXPECT_NEAR(counts["a"], 50, 2);
  EXPECT_NEAR(counts["c"], 20, 2);
  EXPECT_EQ(counts.count("b"), 0u);
}

}  // namespace
}  // namespace chiron::ns
