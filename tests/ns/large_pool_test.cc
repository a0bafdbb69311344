// Every algorithm with 10,000 servers, and under random membership churn.

#include "ns/pool.h"

#include <gtest/gtest.h>

#include <set>

#include "ns/rng.h"
#include "ns_testutil.h"

namespace chiron::ns {
namespace {

using testing::make_pool;

class EveryAlgorithmTest : public ::testing::TestWithParam<std::string_view> {};

std::string server_id(int i) { return "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:8080"; }

TEST_P(EveryAlgorithmTest, TenThousandServerPoolServesEveryPickFromEligibleServers) {
  ManualClock clock;
  auto pool = make_pool(clock, GetParam());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(pool->add(server_id(i), ServerSpec{.weight = static_cast<uint32_t>(1 + i % 3)}).ok());
  for (int i = 0; i < 10'000; i += 10) ASSERT_TRUE(pool->set_admin(server_id(i), AdminState::kDrain).ok());
  std::set<std::string> seen;
  for (int i = 0; i < 20'000; ++i) {
    auto s = pool->pick("key" + std::to_string(i));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    ASSERT_EQ((*s)->admin, AdminState::kReady);
    seen.insert((*s)->id);
  }
  EXPECT_GT(seen.size(), 5'000u) << "picks should spread over the pool";
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool->remove(server_id(i)).ok());
  for (int i = 10'000; i < 10'100; ++i) ASSERT_TRUE(pool->add(server_id(i)).ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool->pick("k" + std::to_string(i)).ok());
}

TEST_P(EveryAlgorithmTest, RandomChurnNeverYieldsAnIneligibleOrRemovedServer) {
  ManualClock clock;
  PoolOptions options;
  options.slow_start_us = 1'000'000;
  options.balancer.maglev_table_size = 251;
  auto pool = make_pool(clock, GetParam(), options);
  Rng rng(11);
  std::set<std::string> live;
  for (int step = 0; step < 5'000; ++step) {
    const std::string id = "s" + std::to_string(rng.below(40));
    switch (rng.below(8)) {
      case 0:
        if (pool->add(id, ServerSpec{.weight = static_cast<uint32_t>(rng.below(5))}).ok()) live.insert(id);
        break;
      case 1:
        if (pool->remove(id).ok()) live.erase(id);
        break;
      case 2:
        (void)pool->set_admin(id, static_cast<AdminState>(rng.below(3)));
        break;
      case 3:
        (void)pool->set_health(id, static_cast<Health>(rng.below(3)));
        break;
      case 4:
        (void)pool->report_load(id, rng.below(50));
        break;
      default: {
        clock.advance(std::chrono::milliseconds(rng.below(100)));
        auto s = pool->pick(rng.below(2) ? std::string_view("k") : std::string_view());
        if (!s.ok()) {
          ASSERT_EQ(s.status().code(), StatusCode::kUnavailable);
          ASSERT_TRUE(pool->eligible().empty());
          break;
        }
        ASSERT_TRUE(live.contains((*s)->id));
        ASSERT_EQ((*s)->admin, AdminState::kReady);
        ASSERT_EQ((*s)->health, Health::kUp);
        ASSERT_GT((*s)->effective_weight, 0u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ns, EveryAlgorithmTest, ::testing::ValuesIn(algorithm_names()),
                         [](const auto& param_info) { return std::string(param_info.param); });

}  // namespace
}  // namespace chiron::ns
