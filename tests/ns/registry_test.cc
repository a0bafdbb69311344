#include "ns/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace chiron::ns {
namespace {

TEST(RegistryTest, FirstRegisterCreatesServiceWithRoundRobin) {
  ManualClock clock;
  Registry r(clock);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  EXPECT_EQ(r.service_count(), 1u);
  EXPECT_EQ(r.algorithm("web").value(), "rr");
}

TEST(RegistryTest, ReRegisterUpdatesWeight) {
  ManualClock clock;
  Registry r(clock);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 7).ok());
  auto servers = r.list("web");
  ASSERT_TRUE(servers.ok());
  ASSERT_EQ(servers->size(), 1u);
  EXPECT_EQ((*servers)[0].weight, 7u);
  EXPECT_EQ((*servers)[0].health, Health::kPending);
}

TEST(RegistryTest, UnknownServiceIsNotFound) {
  ManualClock clock;
  Registry r(clock);
  EXPECT_EQ(r.pick("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.remove_server("nope", "1.2.3.4:5").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.list("nope").status().code(), StatusCode::kNotFound);
}

TEST(RegistryTest, RemoveLastServerKeepsServiceAndAlgorithm) {
  ManualClock clock;
  Registry r(clock);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  ASSERT_TRUE(r.set_algorithm("web", "swrr").ok());
  EXPECT_TRUE(r.remove_server("web", "10.0.0.1:80").value());
  EXPECT_FALSE(r.remove_server("web", "10.0.0.1:80").value());
  EXPECT_EQ(r.algorithm("web").value(), "swrr");
  EXPECT_EQ(r.pick("web").status().code(), StatusCode::kUnavailable);
}

TEST(RegistryTest, HeartbeatWithBadPercentChangesNothing) {
  ManualClock clock;
  Registry r(clock);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  Heartbeat hb;
  hb.load = 5;
  hb.weight_percent = 101;
  hb.drain = true;
  EXPECT_FALSE(r.heartbeat("web", "10.0.0.1:80", hb).ok());
  auto s = r.list("web").value();
  EXPECT_EQ(s[0].reported_load, 0u);
  EXPECT_EQ(s[0].admin, AdminState::kReady);
}

TEST(RegistryTest, ConcurrentPicksAndRegistrationsAreSafe) {
  ManualClock clock;
  Registry r(clock);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  ASSERT_TRUE(r.heartbeat("web", "10.0.0.1:80", {}).ok());
  std::thread writer([&r] {
    for (int i = 0; i < 2000; ++i) {
      std::string id = "10.0.1." + std::to_string(i % 50) + ":80";
      (void)r.register_server("web", id, 1 + static_cast<uint32_t>(i % 10));
      if (i % 3 == 0) (void)r.remove_server("web", id);
    }
  });
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(r.pick("web").ok());
  writer.join();
}

}  // namespace
}  // namespace chiron::ns
