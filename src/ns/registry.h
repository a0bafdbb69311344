#pragma once
// Registry: the name server's services, service name → Pool, with leases, registration
// secrets and a change feed. Server ids are "ip:port" (validated by the protocol layer).
// A service is created by its first REG (or by set_service), with RegistryOptions::pool
// (algorithm "rr" by default) and a per-service PRNG seed, and lives until remove_service:
// REM of its last server keeps its ALG choice and secret.
//
// Liveness (research notes §3, §7.8):
// - A new server is `pending` until proven: by its first HB (lease-only servers) or by its
//   active check (servers with a non-empty `check`, reported through set_health()).
// - Lease-only servers hold a lease of options.lease_ttl_us from REG and from every HB; a
//   sweep() after the deadline marks them `down` ("lease expired"). An HB brings them back.
//   Actively checked servers have no lease: the check decides (HB still carries load/weight%).
// - A server `down` (or still `pending`) for options.deregister_after_us is deregistered by
//   sweep(). Panic guard: one sweep never deregisters more than half of a pool (at least one
//   server may always go); the rest wait for later sweeps and the pool reports panic=true,
//   so a network partition that silences everyone cannot empty the registry at once.
// - restore_server() (start-up, from the store) gives restored servers health `up` and a full
//   new lease (etcd's Promote): a name-server restart never causes an outage by itself.
//
// Change feed: every state change bumps version() and is passed to the observer, under the
// registry lock, in version order — the name server uses it to journal durable changes
// (Change::durable) in the same order as memory and to push deltas to dashboards. The
// observer must be quick and must not call back into the Registry.
//
// No pointer into a Pool escapes: every call copies what it returns.
//
// Thread-safe: all state is guarded by one mutex `mu_`, held only for in-memory work (never
// across I/O). A pick is O(1)..O(n) per the pool's algorithm (see ns.h); sweep() is
// O(servers) and runs about once a second.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ns/pool.h"
#include "ns/server.h"

namespace chiron::ns {

struct RegistryOptions {
  PoolOptions pool;  // for new services; pool.balancer.seed is mixed with the service name
  int64_t lease_ttl_us = 15'000'000;          // HB every TTL/3
  int64_t deregister_after_us = 60'000'000;   // down/pending this long → removed; 0 = never
};

// One heartbeat's optional fields (HB service ip:port [load=N] [weight=NN%] [drain]).
struct Heartbeat {
  std::optional<uint64_t> load;
  std::optional<uint32_t> weight_percent;  // 0..100
  bool drain = false;  // sets admin drain; sticky until STATE ready
};

// REG's fields. check: nullopt keeps the current check of an existing server.
struct Registration {
  uint32_t weight = 1;
  std::optional<std::string> check;  // opaque active-check spec; "" = lease only
};

// A service's settings and servers, copied under the lock.
struct ServiceView {
  std::string name;
  std::string algorithm;
  bool has_secret = false;
  bool panic = false;  // the last sweep held back deregistrations (panic guard)
  uint64_t picks = 0;  // REQ answers since the service was created
  uint64_t errors = 0; // REQs answered with an error (no eligible server)
  std::vector<Server> servers;
};

// Counters for a dashboard's per-second frame: cheap to take under the lock (no Server copies).
struct ServerStats {
  std::string id;
  uint64_t picks = 0;
  uint64_t load = 0;
  Health health = Health::kPending;
};
struct ServiceStats {
  std::string name;
  uint64_t picks = 0;
  uint64_t errors = 0;
  size_t servers = 0;
  std::vector<ServerStats> per_server;  // empty when the pool is larger than the limit asked for
};

struct Change {
  enum class Op : uint8_t {
    kUpsert,         // server added or changed (server is set)
    kRemove,         // server removed (id is set)
    kService,        // algorithm or secret changed (algorithm, has_secret are set)
    kRemoveService,  // service removed with all its servers
  };
  uint64_t version = 0;
  Op op = Op::kUpsert;
  // True when the change alters what the store keeps (membership, weight, admin, check,
  // algorithm, secret); false for health, leases, load and weight% — re-learnt after restart.
  bool durable = false;
  std::string service;
  std::string id;
  Server server;
  std::string algorithm;
  std::string secret;
  bool has_secret = false;
};

using ChangeObserver = std::function<void(const Change&)>;

struct SweepReport {
  size_t expired = 0;       // lease-only servers marked down
  size_t deregistered = 0;  // servers removed after deregister_after
  size_t held_back = 0;     // removals deferred by the panic guard
};

class Registry {
 public:
  // The clock is borrowed and must outlive the registry.
  explicit Registry(const Clock& clock, RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Installs the change observer (nullptr removes it). Call before serving.
  void set_observer(ChangeObserver observer);
  const RegistryOptions& options() const { return options_; }

  // REG: registers id in service (created on first use), `pending` with a fresh lease, or
  // updates weight (and check, if given) of an existing registration, keeping its health.
  // Fails with kInvalidArgument on a bad weight.
  Status register_server(std::string_view service, std::string_view id, const Registration& reg);
  Status register_server(std::string_view service, std::string_view id, uint32_t weight) {
    return register_server(service, id, Registration{.weight = weight, .check = std::nullopt});
  }
  // REM: true if id was registered. Fails with kNotFound for an unknown service.
  Result<bool> remove_server(std::string_view service, std::string_view id);
  // HB: renews the lease, proves a pending/down lease-only server up, applies all fields or
  // none. kNotFound for an unknown service or server (the client should REG again).
  Status heartbeat(std::string_view service, std::string_view id, const Heartbeat& hb);
  // STATE: ready | drain | maint.
  Status set_admin(std::string_view service, std::string_view id, AdminState state);
  // Admin API: the configured weight alone.
  Status set_weight(std::string_view service, std::string_view id, uint32_t weight);
  // Active-check verdicts (up/down) with a human-readable detail.
  Status set_health(std::string_view service, std::string_view id, Health health, std::string_view detail);
  // ALG: switches the service's algorithm. kInvalidArgument for an unknown name.
  Status set_algorithm(std::string_view service, std::string_view algorithm);
  // Creates the service if needed; sets algorithm and/or secret ("" clears the secret).
  Status set_service(std::string_view service, std::optional<std::string_view> algorithm,
                     std::optional<std::string_view> secret);
  // Removes the service and all its servers. false if it did not exist.
  bool remove_service(std::string_view service);

  // REQ: the id of the picked server. kNotFound (unknown service) or kUnavailable (none eligible).
  Result<std::string> pick(std::string_view service, std::string_view key = {});
  // Same, appending the id to *out (no allocation once out has capacity): the data-plane path.
  Status pick_into(std::string_view service, std::string_view key, std::string* out);

  // The service's registration secret; "" when none (registration is open). kNotFound if unknown.
  Result<std::string> secret(std::string_view service) const;

  // One server's copy (eligibility current). kNotFound for an unknown service or server.
  Result<Server> server(std::string_view service, std::string_view id) const;
  // LIST: copies of the service's servers, in slot order.
  Result<std::vector<Server>> list(std::string_view service) const;
  Result<std::string> algorithm(std::string_view service) const;
  Result<ServiceView> service(std::string_view name) const;
  // All services (sorted by name) and the version they reflect, taken atomically.
  std::vector<ServiceView> snapshot(uint64_t* version = nullptr) const;
  uint64_t version() const;
  size_t service_count() const;
  // Per-service counters, with per-server ones only for pools of at most max_per_server_pool
  // servers (a chart of 10,000 lines helps nobody, and copying them every second would hold
  // the lock REQ needs). Sorted by service name.
  std::vector<ServiceStats> stats(size_t max_per_server_pool) const;

  // Expires leases and deregisters long-dead servers as of the clock's now. Run about once a
  // second; see the DESIGN block for the rules.
  SweepReport sweep();

  // Start-up only (no observer calls, no version bumps): re-creates stored state.
  Status restore_service(std::string_view service, std::string_view algorithm, std::string_view secret);
  Status restore_server(std::string_view service, std::string_view id, uint32_t weight, AdminState admin,
                        std::string_view check);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Service {
    std::unique_ptr<Pool> pool;
    std::string secret;
    bool panic = false;
    uint64_t errors = 0;
  };
  using ServiceMap = std::unordered_map<std::string, Service, StringHash, std::equal_to<>>;

  Result<Service*> find_locked(std::string_view service);
  Result<Service*> find_or_create_locked(std::string_view service);
  Result<Pool*> pool_locked(std::string_view service) const;
  ServiceView view_locked(const std::string& name, const Service& svc) const;
  // Observer notifications; each bumps version_.
  void emit_server_locked(std::string_view service, const Pool& pool, std::string_view id, bool durable);
  void emit_remove_locked(std::string_view service, std::string_view id);
  void emit_service_locked(std::string_view service, const Service& svc);

  const Clock& clock_;
  const RegistryOptions options_;
  mutable std::mutex mu_;
  ServiceMap services_;      // Guarded by mu_
  uint64_t version_ = 0;     // Guarded by mu_
  ChangeObserver observer_;  // Guarded by mu_
};

}  // namespace chiron::ns
