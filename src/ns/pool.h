#pragma once
// Pool: the servers of one service and the balancer that picks among them.
// Servers live in stable slots (vector + free list) with a hash index by id, so REG/REM are
// O(1) and there is no fixed limit. The eligible list (admin ready, health up, effective
// weight > 0, in slot order) is rebuilt lazily after a change; version() tells balancers
// when to rebuild their own tables.
//
// Effective weight = weight × weight_percent × ramp_percent / 100 (so weight 1 at 100% is 100),
// clamped to ≥ 1 while weight and weight_percent are non-zero. The ×100 scale lets slow start
// and "weight=NN%" act on weight-1 servers without changing any algorithm's proportions.
//
// Slow start (HAProxy `slowstart`, research notes §2.9): after health goes down→up, the ramp
// rises linearly from 10% to 100% over PoolOptions::slow_start_us, in 5% steps so the
// table-based balancers rebuild at most 18 times per ramp. Not applied at registration.
//
// Not thread-safe: a Pool is confined to one thread (the name server serialises each service).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ns/balancer.h"
#include "ns/server.h"

namespace chiron::ns {

struct PoolOptions {
  std::string algorithm = "rr";
  BalancerOptions balancer;
  int64_t slow_start_us = 0;  // 0 disables slow start
};

struct ServerSpec {
  uint32_t weight = 1;
  AdminState admin = AdminState::kReady;
  Health health = Health::kUp;  // the name server passes kPending when checks decide
};

class Pool {
 public:
  // The clock is borrowed and must outlive the pool. Fails if options.algorithm is unknown.
  static Result<std::unique_ptr<Pool>> create(const Clock& clock, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Membership. add fails with kAlreadyExists / kInvalidArgument; the others with kNotFound.
  Status add(std::string_view id, ServerSpec spec = {});
  Status remove(std::string_view id);
  Status set_weight(std::string_view id, uint32_t weight);
  Status set_weight_percent(std::string_view id, uint32_t percent);
  Status set_admin(std::string_view id, AdminState state);
  // Records detail and the time of the change (Server::health_since_us) when health changes.
  Status set_health(std::string_view id, Health health, std::string_view detail = {});
  Status set_check(std::string_view id, std::string check);
  Status set_lease_deadline(std::string_view id, int64_t deadline_us);
  // A heartbeat's load figure; resets the assignments counted since the previous report.
  Status report_load(std::string_view id, uint64_t load);

  // Switches the algorithm (ALG); the new balancer starts from fresh state.
  Status set_algorithm(std::string_view name);
  std::string_view algorithm() const;

  // Picks a server for one REQ and records the assignment (counters, load estimate).
  // Fails with kUnavailable when no server is eligible; never crashes.
  Result<const Server*> pick(std::string_view key = {});

  // Read access, for balancers, LIST and the dashboard.
  const Server* find(std::string_view id) const;
  const Server& server(ServerIndex i) const { return slots_[i]; }
  size_t size() const { return index_.size(); }
  std::span<const ServerIndex> eligible() const;  // rebuilt lazily
  uint64_t eligible_weight() const;               // Σ effective weight over eligible()
  uint64_t eligible_load() const;                 // Σ load() over eligible()
  uint64_t version() const;                       // changes when eligible() or a weight changes
  uint64_t total_picks() const { return total_picks_; }
  const Clock& clock() const { return clock_; }
  template <class F>
  void for_each(F&& f) const {
    for (const Server& s : slots_)
      if (s.live) f(s);
  }

 private:
  Pool(const Clock& clock, PoolOptions options, std::unique_ptr<Balancer> balancer);
  Server* find_mut(std::string_view id);
  void recompute_weight(Server& s);
  void mark_dirty() { dirty_ = true; }
  void refresh() const;
  void refresh_ramps(int64_t now_us);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const Clock& clock_;
  PoolOptions options_;
  std::unique_ptr<Balancer> balancer_;
  std::vector<Server> slots_;
  std::vector<ServerIndex> free_slots_;
  std::unordered_map<std::string, ServerIndex, StringHash, std::equal_to<>> index_;
  std::vector<ServerIndex> ramping_;
  int64_t next_ramp_check_us_ = 0;
  uint64_t total_picks_ = 0;
  uint64_t algorithm_switches_ = 0;

  // Lazily rebuilt view (mutable: refreshed on read; the pool is single-threaded).
  mutable bool dirty_ = true;
  mutable uint64_t version_ = 0;
  mutable std::vector<ServerIndex> eligible_;
  mutable uint64_t eligible_weight_ = 0;
  mutable uint64_t eligible_load_ = 0;
};

}  // namespace chiron::ns
