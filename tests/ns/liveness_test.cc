// Leases, pending-until-proven, deregistration with the panic guard, restore and the change
// feed (registry.h DESIGN block).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "ns/registry.h"

namespace chiron::ns {
namespace {

using std::chrono::seconds;

class LivenessTest : public ::testing::Test {
 protected:
  LivenessTest() : registry_(clock_, options()) {
    registry_.set_observer([this](const Change& c) { changes_.push_back(c); });
  }
  static RegistryOptions options() {
    RegistryOptions o;
    o.lease_ttl_us = 15'000'000;
    o.deregister_after_us = 60'000'000;
    return o;
  }
  Health health(std::string_view id, std::string_view service = "web") {
    const std::vector<Server> servers = registry_.list(service).value();
    for (const Server& s : servers)
      if (s.id == id) return s.health;
    ADD_FAILURE() << "no server " << id;
    return Health::kPending;
  }
  void reg_up(std::string_view id, std::string_view service = "web") {
    ASSERT_TRUE(registry_.register_server(service, id, 1).ok());
    ASSERT_TRUE(registry_.heartbeat(service, id, {}).ok());
  }
  void advance(seconds s) { clock_.advance(s); }

  ManualClock clock_;
  Registry registry_;
  std::vector<Change> changes_;
};

TEST_F(LivenessTest, NewServerIsPendingUntilFirstHeartbeat) {
  ASSERT_TRUE(registry_.register_server("web", "10.0.0.1:80", 1).ok());
  EXPECT_EQ(health("10.0.0.1:80"), Health::kPending);
  EXPECT_EQ(registry_.pick("web").status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", {}).ok());
  EXPECT_EQ(health("10.0.0.1:80"), Health::kUp);
  EXPECT_EQ(registry_.pick("web").value(), "10.0.0.1:80");
}

TEST_F(LivenessTest, LeaseExpiresWithoutHeartbeatAndHeartbeatRevives) {
  reg_up("10.0.0.1:80");
  advance(seconds(14));
  EXPECT_EQ(registry_.sweep().expired, 0u);
  EXPECT_EQ(health("10.0.0.1:80"), Health::kUp);
  advance(seconds(2));
  EXPECT_EQ(registry_.sweep().expired, 1u);
  EXPECT_EQ(health("10.0.0.1:80"), Health::kDown);
  EXPECT_EQ(registry_.list("web").value()[0].health_detail, "lease expired");
  EXPECT_EQ(registry_.pick("web").status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", {}).ok());
  EXPECT_EQ(health("10.0.0.1:80"), Health::kUp);
}

TEST_F(LivenessTest, HeartbeatRenewsTheLease) {
  reg_up("10.0.0.1:80");
  for (int i = 0; i < 10; ++i) {
    advance(seconds(5));
    ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", {}).ok());
    EXPECT_EQ(registry_.sweep().expired, 0u);
  }
  EXPECT_EQ(health("10.0.0.1:80"), Health::kUp);
}

TEST_F(LivenessTest, PendingServerThatNeverBeatsGoesDownThenIsDeregistered) {
  ASSERT_TRUE(registry_.register_server("web", "10.0.0.1:80", 1).ok());
  advance(seconds(16));
  EXPECT_EQ(registry_.sweep().expired, 1u);
  advance(seconds(59));
  EXPECT_EQ(registry_.sweep().deregistered, 0u);
  advance(seconds(2));
  EXPECT_EQ(registry_.sweep().deregistered, 1u);
  EXPECT_TRUE(registry_.list("web").value().empty());
  // The service (and its algorithm) stays.
  EXPECT_EQ(registry_.algorithm("web").value(), "rr");
}

TEST_F(LivenessTest, PanicGuardRemovesAtMostHalfAPoolPerSweep) {
  for (int i = 1; i <= 6; ++i) reg_up("10.0.0." + std::to_string(i) + ":80");
  advance(seconds(16));
  EXPECT_EQ(registry_.sweep().expired, 6u);
  advance(seconds(61));
  SweepReport r = registry_.sweep();
  EXPECT_EQ(r.deregistered, 3u);
  EXPECT_EQ(r.held_back, 3u);
  EXPECT_TRUE(registry_.service("web").value().panic);
  EXPECT_EQ(registry_.list("web").value().size(), 3u);
  r = registry_.sweep();
  EXPECT_EQ(r.deregistered, 1u);  // half of 3, at least one
  r = registry_.sweep();
  EXPECT_EQ(r.deregistered, 1u);
  r = registry_.sweep();
  EXPECT_EQ(r.deregistered, 1u);
  EXPECT_EQ(r.held_back, 0u);
  EXPECT_FALSE(registry_.service("web").value().panic);
  EXPECT_TRUE(registry_.list("web").value().empty());
}

TEST_F(LivenessTest, MaintenanceServersAreNeverDeregistered) {
  reg_up("10.0.0.1:80");
  ASSERT_TRUE(registry_.set_admin("web", "10.0.0.1:80", AdminState::kMaint).ok());
  advance(seconds(500));
  registry_.sweep();
  EXPECT_EQ(registry_.list("web").value().size(), 1u);
}

TEST_F(LivenessTest, DeregistrationCanBeDisabled) {
  RegistryOptions o = options();
  o.deregister_after_us = 0;
  Registry r(clock_, o);
  ASSERT_TRUE(r.register_server("web", "10.0.0.1:80", 1).ok());
  advance(seconds(1000));
  EXPECT_EQ(r.sweep().deregistered, 0u);
  EXPECT_EQ(r.list("web").value().size(), 1u);
}

TEST_F(LivenessTest, ActivelyCheckedServersHaveNoLease) {
  ASSERT_TRUE(registry_
                  .register_server("web", "127.0.0.1:9000",
                                   Registration{.weight = 1, .check = std::string(R"({"type":"tcp"})")})
                  .ok());
  EXPECT_EQ(registry_.list("web").value()[0].lease_deadline_us, 0);
  // A heartbeat does not prove an actively checked server: the check does.
  ASSERT_TRUE(registry_.heartbeat("web", "127.0.0.1:9000", {}).ok());
  EXPECT_EQ(health("127.0.0.1:9000"), Health::kPending);
  ASSERT_TRUE(registry_.set_health("web", "127.0.0.1:9000", Health::kUp, "TCP connect ok").ok());
  advance(seconds(100));
  EXPECT_EQ(registry_.sweep().expired, 0u);
  EXPECT_EQ(health("127.0.0.1:9000"), Health::kUp);
  ASSERT_TRUE(registry_.set_health("web", "127.0.0.1:9000", Health::kDown, "HTTP 503").ok());
  EXPECT_EQ(registry_.list("web").value()[0].health_detail, "HTTP 503");
}

TEST_F(LivenessTest, RestoredServersAreUpWithAFullLeaseAndSilent) {
  Registry r(clock_, options());
  int calls = 0;
  r.set_observer([&calls](const Change&) { ++calls; });
  ASSERT_TRUE(r.restore_service("web", "swrr", "s3cret").ok());
  ASSERT_TRUE(r.restore_server("web", "10.0.0.1:80", 5, AdminState::kDrain, "").ok());
  ASSERT_TRUE(r.restore_server("web", "10.0.0.2:80", 1, AdminState::kReady, "").ok());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(r.version(), 0u);
  EXPECT_EQ(r.algorithm("web").value(), "swrr");
  EXPECT_EQ(r.secret("web").value(), "s3cret");
  EXPECT_EQ(r.pick("web").value(), "10.0.0.2:80");  // up at once; the drained one gets nothing
  advance(seconds(14));
  EXPECT_EQ(r.sweep().expired, 0u);
  advance(seconds(2));
  EXPECT_EQ(r.sweep().expired, 2u);
  EXPECT_FALSE(r.restore_server("web", "10.0.0.2:80", 1, AdminState::kReady, "").ok());
  EXPECT_FALSE(r.restore_service("web", "fastest", "").ok());
}

TEST_F(LivenessTest, ChangeFeedIsVersionedAndMarksDurableChanges) {
  ASSERT_TRUE(registry_.register_server("web", "10.0.0.1:80", 2).ok());  // service + upsert
  ASSERT_TRUE(registry_.register_server("web", "10.0.0.1:80", 2).ok());  // idempotent: silent
  ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", {}).ok());       // pending → up
  ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", {}).ok());       // plain renewal: silent
  ASSERT_TRUE(registry_.heartbeat("web", "10.0.0.1:80", Heartbeat{.load = std::nullopt, .weight_percent = std::nullopt, .drain = true}).ok());
  ASSERT_TRUE(registry_.set_algorithm("web", "edf").ok());
  ASSERT_TRUE(registry_.remove_server("web", "10.0.0.1:80").value());
  ASSERT_TRUE(registry_.remove_service("web"));

  ASSERT_EQ(changes_.size(), 7u);
  for (size_t i = 0; i < changes_.size(); ++i) EXPECT_EQ(changes_[i].version, i + 1);
  EXPECT_EQ(registry_.version(), 7u);
  EXPECT_EQ(changes_[0].op, Change::Op::kService);
  EXPECT_TRUE(changes_[0].durable);
  EXPECT_EQ(changes_[1].op, Change::Op::kUpsert);
  EXPECT_TRUE(changes_[1].durable);
  EXPECT_EQ(changes_[1].server.weight, 2u);
  EXPECT_EQ(changes_[2].server.health, Health::kUp);
  EXPECT_FALSE(changes_[2].durable);  // health is re-learnt, not stored
  EXPECT_EQ(changes_[3].server.admin, AdminState::kDrain);
  EXPECT_TRUE(changes_[3].durable);   // drain is an admin state: stored
  EXPECT_EQ(changes_[4].op, Change::Op::kService);
  EXPECT_EQ(changes_[4].algorithm, "edf");
  EXPECT_EQ(changes_[5].op, Change::Op::kRemove);
  EXPECT_EQ(changes_[5].id, "10.0.0.1:80");
  EXPECT_EQ(changes_[6].op, Change::Op::kRemoveService);
}

TEST_F(LivenessTest, SetServiceIsAllOrNothing) {
  EXPECT_FALSE(registry_.set_service("new", std::string_view("fastest"), std::nullopt).ok());
  EXPECT_EQ(registry_.service_count(), 0u);
  ASSERT_TRUE(registry_.set_service("new", std::string_view("maglev"), std::string_view("k")).ok());
  EXPECT_EQ(registry_.algorithm("new").value(), "maglev");
  EXPECT_EQ(registry_.secret("new").value(), "k");
  ASSERT_TRUE(registry_.set_service("new", std::nullopt, std::string_view("")).ok());
  EXPECT_EQ(registry_.secret("new").value(), "");
}

TEST_F(LivenessTest, SnapshotIsSortedAndCarriesTheVersion) {
  reg_up("10.0.0.1:80", "zeta");
  reg_up("10.0.0.2:80", "alpha");
  uint64_t version = 0;
  auto snap = registry_.snapshot(&version);
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].name, "alpha");
  EXPECT_EQ(snap[1].name, "zeta");
  EXPECT_EQ(version, registry_.version());
  EXPECT_TRUE(snap[0].servers[0].eligible);
}

}  // namespace
}  // namespace chiron::ns
