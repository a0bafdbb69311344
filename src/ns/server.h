#pragma once
// Server: one registered instance of a service ("ip:port") and its balancing state.
// Admin state and health are separate axes (HAProxy `set server state`, Consul checks):
// only admin=ready AND health=up servers with a non-zero effective weight are eligible.
// Plain data owned by its Pool; not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::ns {

// Index of a server's slot in its Pool. Stable while the server is registered; a slot is
// reused after REM, so hold ServerIndex only until the next membership change.
using ServerIndex = uint32_t;

enum class AdminState : uint8_t {
  kReady,  // takes new picks
  kDrain,  // no new picks (sticky keys included, see ns.h); still health-checked
  kMaint,  // no picks, no checks
};

enum class Health : uint8_t {
  kPending,  // registered, not yet proven healthy: no picks
  kUp,
  kDown,
};

std::string_view to_string(AdminState s);
std::string_view to_string(Health h);
Result<AdminState> parse_admin_state(std::string_view s);  // "ready" | "drain" | "maint"
Result<Health> parse_health(std::string_view s);           // "pending" | "up" | "down"

constexpr uint32_t kMaxWeight = 10'000;
constexpr uint32_t kMaxWeightPercent = 100;
constexpr uint32_t kSlowStartMinPercent = 10;

struct ServerCounters {
  uint64_t picks = 0;  // REQ answers that named this server
};

struct Server {
  std::string id;
  uint32_t weight = 1;              // configured weight, 0..kMaxWeight; 0 = no new picks
  uint32_t weight_percent = 100;    // heartbeat override "weight=NN%", 0..100
  AdminState admin = AdminState::kReady;
  Health health = Health::kPending;
  int64_t lease_deadline_us = 0;    // steady-clock deadline of the lease; 0 = no lease
  int64_t health_since_us = 0;      // steady-clock time of the last health change
  std::string health_detail;        // why: "lease expired", "HTTP 503", "heartbeat", ...
  std::string check;                // active-check spec (opaque JSON, nameserver layer); "" = lease only
  uint64_t reported_load = 0;       // last load the server reported
  uint64_t assigned_since_report = 0;
  ServerCounters counters;

  // Derived by the Pool; read-only for balancers.
  uint32_t ramp_percent = 100;      // slow start: 10..100 after down→up
  int64_t ramp_start_us = -1;       // -1: not ramping
  uint64_t effective_weight = 0;    // weight × weight_percent × ramp_percent / 100; see pool.h
  uint32_t generation = 0;          // bumped when the slot is reused
  bool live = false;                // slot holds a registered server
  bool eligible = false;            // member of Pool::eligible()

  // The least-load estimate (research notes §2.9): what the server last told us plus what
  // we sent it since, because a look-aside name server never sees connections close.
  uint64_t load() const { return reported_load + assigned_since_report; }
};

}  // namespace chiron::ns
