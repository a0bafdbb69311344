#pragma once
// ChashBounded ("chash"): a ketama ring with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
// "Consistent Hashing with Bounded Loads", arXiv:1608.01350; HAProxy hash-balance-factor,
// haproxy src/lb_chash.c chash_server_is_eligible; research notes §2.6).
//
// Ring: each eligible server owns ceil(V × effective_weight / 100) points (V =
// ring_points_per_weight, 160 as ketama), point k at mix64(hash64(id) + k·φ) >> 32. A server's
// point set depends only on its own id and weight, so adding or removing a server moves only
// the keys it gains or loses, never keys between two other servers. Optional exception:
// a ring smaller than ring_min_points (Envoy's minimum is 1024; off by default because of
// this) is multiplied by the smallest power of two that reaches it, and one larger than
// ring_max_points is divided by the smallest power of two that fits; crossing one of those
// thresholds remaps keys between old servers too.
//
// Pick: hash the key (a keyless REQ draws a random point), walk clockwise and take the first
// server whose load (Server::load()) is below its capacity ceil(c·(m+1)·wᵢ/W), where m is the
// total load of the eligible servers and c = hash_balance_factor_percent/100 (≥ 1, default
// 1.25). Capacities sum to ≥ m+1 > m, so some server always has room. c = 0 disables the bound.
// O(log P) per pick while loads allow; a rebuild is O(P log P) for P points.
// Not thread-safe.

#include <vector>

#include "ns/balancer.h"
#include "ns/rng.h"

namespace chiron::ns {

class ChashBounded final : public Balancer {
 public:
  explicit ChashBounded(const BalancerOptions& options) : options_(options), rng_(options.seed) {}
  std::string_view name() const override { return "chash"; }

  // The server owning `key` on the ring, ignoring loads (for tests and LIST/explain).
  ServerIndex owner(std::string_view key) const;
  size_t ring_points() const { return ring_.size(); }

 protected:
  void rebuild(const Pool& pool) override;
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  struct Point {
    uint32_t hash;
    ServerIndex server;
  };
  size_t first_at_or_after(uint32_t hash) const;

  BalancerOptions options_;
  Rng rng_;
  std::vector<Point> ring_;
};

}  // namespace chiron::ns
