#include "ns/pool.h"

#include <gtest/gtest.h>

#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::add_all;
using testing::make_pool;
using testing::picks;

TEST(PoolTest, EmptyPoolPickIsUnavailableForEveryAlgorithm) {
  ManualClock clock;
  for (std::string_view alg : algorithm_names()) {
    auto pool = make_pool(clock, alg);
    auto r = pool->pick("k");
    ASSERT_FALSE(r.ok()) << alg;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << alg;
  }
}

TEST(PoolTest, AllDrainedOrDownIsUnavailableForEveryAlgorithm) {
  ManualClock clock;
  for (std::string_view alg : algorithm_names()) {
    auto pool = make_pool(clock, alg);
    add_all(*pool, {{"a", 1}, {"b", 1}, {"c", 1}});
    ASSERT_TRUE(pool->pick("k").ok());
    ASSERT_TRUE(pool->set_admin("a", AdminState::kDrain).ok());
    ASSERT_TRUE(pool->set_admin("b", AdminState::kMaint).ok());
    ASSERT_TRUE(pool->set_health("c", Health::kDown).ok());
    auto r = pool->pick("k");
    ASSERT_FALSE(r.ok()) << alg;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << alg;
  }
}

TEST(PoolTest, PendingServersAreNotPicked) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  ASSERT_TRUE(pool->add("a", ServerSpec{.health = Health::kPending}).ok());
  ASSERT_TRUE(pool->add("b").ok());
  EXPECT_EQ(picks(*pool, 3), "b b b");
}

TEST(PoolTest, ZeroWeightServersAreNotPicked) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 0}, {"b", 1}});
  EXPECT_EQ(picks(*pool, 2), "b b");
  ASSERT_TRUE(pool->set_weight_percent("b", 0).ok());
  EXPECT_FALSE(pool->pick().ok());
}

TEST(PoolTest, RejectsDuplicatesUnknownIdsAndBadValues) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  ASSERT_TRUE(pool->add("a").ok());
  EXPECT_EQ(pool->add("a").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(pool->add("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->add("b", ServerSpec{.weight = kMaxWeight + 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->remove("zz").code(), StatusCode::kNotFound);
  EXPECT_EQ(pool->set_weight("zz", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(pool->set_weight_percent("a", 101).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->report_load("zz", 1).code(), StatusCode::kNotFound);
}

TEST(PoolTest, PickRecordsAssignmentsUntilTheNextLoadReport) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 1}});
  (void)picks(*pool, 3);
  EXPECT_EQ(pool->find("a")->assigned_since_report, 3u);
  EXPECT_EQ(pool->find("a")->counters.picks, 3u);
  EXPECT_EQ(pool->eligible_load(), 3u);
  ASSERT_TRUE(pool->report_load("a", 10).ok());
  EXPECT_EQ(pool->find("a")->load(), 10u);
  EXPECT_EQ(pool->eligible_load(), 10u);
  (void)picks(*pool, 1);
  EXPECT_EQ(pool->find("a")->load(), 11u);
  EXPECT_EQ(pool->find("a")->counters.picks, 4u);
}

TEST(PoolTest, SlotsAreReusedAfterRemoveWithFreshState) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 1}, {"b", 1}});
  (void)picks(*pool, 4);
  ASSERT_TRUE(pool->remove("a").ok());
  ASSERT_TRUE(pool->add("c").ok());
  EXPECT_EQ(pool->size(), 2u);
  EXPECT_EQ(pool->find("a"), nullptr);
  EXPECT_EQ(pool->find("c")->counters.picks, 0u);
  EXPECT_EQ(pool->eligible().size(), 2u);
}

TEST(PoolTest, SetAlgorithmSwitchesAndRejectsUnknownNames) {
  ManualClock clock;
  auto pool = make_pool(clock, "rr");
  add_all(*pool, {{"a", 5}, {"b", 1}, {"c", 1}});
  EXPECT_EQ(pool->algorithm(), "rr");
  ASSERT_TRUE(pool->set_algorithm("SMOOTH_WRR").ok());
  EXPECT_EQ(pool->algorithm(), "swrr");
  EXPECT_EQ(picks(*pool, 7), "a a b a c a a");
  Status st = pool->set_algorithm("fastest");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("known: rr, random"), std::string::npos) << st.message();
  EXPECT_EQ(pool->algorithm(), "swrr");
}

TEST(BalancerFactoryTest, AcceptsCanonicalNamesAndAliases) {
  for (std::string_view alg : algorithm_names()) {
    auto b = make_balancer(alg);
    ASSERT_TRUE(b.ok()) << alg;
    EXPECT_EQ((*b)->name(), alg);
  }
  const std::pair<std::string_view, std::string_view> aliases[] = {
      {"round-robin", "rr"}, {"RoundRobin", "rr"}, {"wrr", "swrr"},      {"p2c", "least"},
      {"leastconn", "least"}, {"ring_hash", "chash"}, {"weighted_random", "wrandom"}, {" edf ", "edf"}};
  for (auto [alias, name] : aliases) {
    auto b = make_balancer(alias);
    ASSERT_TRUE(b.ok()) << alias;
    EXPECT_EQ((*b)->name(), name) << alias;
  }
}

TEST(BalancerFactoryTest, RejectsNonPrimeMaglevTableAndBadChashFactor) {
  EXPECT_FALSE(make_balancer("maglev", BalancerOptions{.maglev_table_size = 65536}).ok());
  EXPECT_TRUE(make_balancer("maglev", BalancerOptions{.maglev_table_size = 7}).ok());
  EXPECT_FALSE(make_balancer("chash", BalancerOptions{.hash_balance_factor_percent = 90}).ok());
}

TEST(ServerStateTest, ParsesAndPrintsStates) {
  EXPECT_EQ(*parse_admin_state("DRAIN"), AdminState::kDrain);
  EXPECT_EQ(to_string(AdminState::kMaint), "maint");
  EXPECT_EQ(*parse_health("up"), Health::kUp);
  EXPECT_EQ(to_string(Health::kPending), "pending");
  EXPECT_FALSE(parse_admin_state("offline").ok());
  EXPECT_FALSE(parse_health("").ok());
}

}  // namespace
}  // namespace chiron::ns
