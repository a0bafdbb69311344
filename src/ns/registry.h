#pragma once
// Registry: the name server's services, service name → Pool, for the data-plane verbs.
// Server ids are "ip:port" (validated by the protocol layer). A service is created by its first
// REG, with RegistryOptions::pool (algorithm "rr" by default) and a per-service PRNG seed,
// and lives until the process exits: REM of its last server keeps its ALG choice.
// Newly registered servers are health "up". When health checks exist they must start as
// "pending until proven" (the rule); then pass Health::kPending here.
//
// No pointer into a Pool escapes: every call copies what it returns, so a reply can be
// encoded after the lock is released.
//
// Thread-safe: LineServer connections run on several io_contexts, so all state is guarded
// by one mutex `mu_`, held only for in-memory work (never across I/O). A pick is O(1)..O(n)
// per the pool's algorithm (see ns.h), so one lock is cheap enough for now; per-service
// strands are the next step if it shows up in profiles.

#include <cstdint>
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
};

// One heartbeat's optional fields (HB service ip:port [load=N] [weight=NN%] [drain]).
struct Heartbeat {
  std::optional<uint64_t> load;
  std::optional<uint32_t> weight_percent;  // 0..100
  bool drain = false;  // sets admin drain; sticky until STATE ready
};

class Registry {
 public:
  // The clock is borrowed and must outlive the registry.
  explicit Registry(const Clock& clock, RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // REG: registers id in service (created on first use) with weight, or updates the weight of
  // an existing registration. Fails with kInvalidArgument on a bad weight.
  Status register_server(std::string_view service, std::string_view id, uint32_t weight);
  // REM: true if id was registered. Fails with kNotFound for an unknown service.
  Result<bool> remove_server(std::string_view service, std::string_view id);
  // HB: applies all fields or none. kNotFound for an unknown service or server.
  Status heartbeat(std::string_view service, std::string_view id, const Heartbeat& hb);
  // STATE: ready | drain | maint.
  Status set_admin(std::string_view service, std::string_view id, AdminState state);
  // ALG: switches the service's algorithm. kInvalidArgument for an unknown name.
  Status set_algorithm(std::string_view service, std::string_view algorithm);
  // REQ: the id of the picked server. kNotFound (unknown service) or kUnavailable (none eligible).
  Result<std::string> pick(std::string_view service, std::string_view key = {});
  // LIST: copies of the service's servers, in slot order.
  Result<std::vector<Server>> list(std::string_view service) const;
  Result<std::string> algorithm(std::string_view service) const;

  size_t service_count() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PoolMap = std::unordered_map<std::string, std::unique_ptr<Pool>, StringHash, std::equal_to<>>;

  Result<Pool*> find_locked(std::string_view service) const;

  const Clock& clock_;
  const RegistryOptions options_;
  mutable std::mutex mu_;
  PoolMap pools_;  // Guarded by mu_
};

}  // namespace chiron::ns
