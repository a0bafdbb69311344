#include "ns/chash_bounded.h"

#include <gtest/gtest.h>

#include "ns/rng.h"
#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;

std::vector<std::string> keys(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("user-" + std::to_string(i));
  return out;
}

// Owner of every key on the ring of `pool`, ignoring loads.
std::vector<std::string> owners(const Pool& pool, const std::vector<std::string>& ks) {
  ChashBounded ring{BalancerOptions{}};
  std::vector<std::string> out;
  for (const auto& k : ks) out.push_back(pool.server(*ring.pick(pool, PickContext{k})).id);
  return out;
}

void add_servers(Pool& pool, int from, int to) {
  for (int i = from; i < to; ++i) ASSERT_TRUE(pool.add("10.0.0." + std::to_string(i) + ":80").ok());
}

TEST(ChashBoundedTest, SameKeySameServerWhileLoadsAllow) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_servers(*pool, 0, 5);
  const auto ks = keys(200);
  const auto expected = owners(*pool, ks);
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < ks.size(); ++i) {
      auto s = pool->pick(ks[i]);
      ASSERT_TRUE(s.ok());
      EXPECT_EQ((*s)->id, expected[i]) << ks[i];
      ASSERT_TRUE(pool->report_load((*s)->id, 0).ok());  // the work finished: load allows
    }
  }
}

TEST(ChashBoundedTest, NoServerExceedsCeilOfFactorTimesAverageUnderSkewedKeys) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");  // c = 1.25
  add_servers(*pool, 0, 8);
  Rng rng(3);
  for (int i = 0; i < 20'000; ++i) {
    // 80% of requests hit 3 hot keys.
    const std::string key = rng.below(10) < 8 ? "hot-" + std::to_string(rng.below(3)) : "k" + std::to_string(rng.below(100000));
    ASSERT_TRUE(pool->pick(key).ok());
    const uint64_t total = pool->eligible_load();
    const uint64_t bound = (125 * total + 100 * 8 - 1) / (100 * 8);  // ceil(1.25 · total / n)
    pool->for_each([&](const Server& s) { ASSERT_LE(s.load(), bound) << s.id << " after " << i; });
  }
}

TEST(ChashBoundedTest, RespectsWeightedBound) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_all(*pool, {{"a", 3}, {"b", 1}});
  for (int i = 0; i < 4000; ++i) ASSERT_TRUE(pool->pick("same-key").ok());
  // ceil(1.25 · 4000 · w / W): a ≤ 3750, b ≤ 1250.
  EXPECT_LE(pool->find("a")->load(), 3750u);
  EXPECT_LE(pool->find("b")->load(), 1250u);
}

TEST(ChashBoundedTest, RemovingAServerMovesOnlyItsKeys) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_servers(*pool, 0, 10);
  const auto ks = keys(100'000);
  const auto before = owners(*pool, ks);
  const std::string removed = "10.0.0.3:80";
  ASSERT_TRUE(pool->remove(removed).ok());
  const auto after = owners(*pool, ks);
  int moved = 0, moved_between_others = 0;
  for (size_t i = 0; i < ks.size(); ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    if (before[i] != removed) ++moved_between_others;
  }
  EXPECT_EQ(moved_between_others, 0);
  const double fraction = moved / 100'000.0;  // ideal 10%
  EXPECT_GT(fraction, 0.05);
  EXPECT_LT(fraction, 0.15);
}

TEST(ChashBoundedTest, AddingAFourthServerMovesAboutAQuarterAndNothingBetweenOldServers) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_servers(*pool, 0, 3);
  const auto ks = keys(100'000);
  const auto before = owners(*pool, ks);
  add_servers(*pool, 3, 4);
  const auto after = owners(*pool, ks);
  int moved = 0;
  for (size_t i = 0; i < ks.size(); ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    ASSERT_EQ(after[i], "10.0.0.3:80") << ks[i] << " moved between old servers";
  }
  EXPECT_GT(moved, 18'000);  // research notes §8: 18–32% (ideal 25%)
  EXPECT_LT(moved, 32'000);
}

TEST(ChashBoundedTest, DrainedServerKeysGoToTheNextOwnerAndComeBack) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_servers(*pool, 0, 4);
  const auto ks = keys(2000);
  const auto before = owners(*pool, ks);
  ASSERT_TRUE(pool->set_admin("10.0.0.1:80", AdminState::kDrain).ok());
  const auto drained = owners(*pool, ks);
  for (size_t i = 0; i < ks.size(); ++i) {
    EXPECT_NE(drained[i], "10.0.0.1:80");
    if (before[i] != "10.0.0.1:80") {
      EXPECT_EQ(drained[i], before[i]);
    }
  }
  ASSERT_TRUE(pool->set_admin("10.0.0.1:80", AdminState::kReady).ok());
  EXPECT_EQ(owners(*pool, ks), before);
}

TEST(ChashBoundedTest, KeylessRequestsSpreadAcrossServers) {
  ManualClock clock;
  auto pool = make_pool(clock, "chash");
  add_servers(*pool, 0, 4);
  EXPECT_EQ(testing::counts(*pool, 400).size(), 4u);
}

}  // namespace
}  // namespace chiron::ns
