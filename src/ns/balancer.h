#pragma once
// Balancer: the strategy that picks one eligible server of a Pool for a REQ.
// One subclass per algorithm (round_robin.h, random.h, ...), made by name with make_balancer().
// A balancer reads the pool's eligible list and effective weights; it rebuilds its lookup
// structures lazily, on the first pick after Pool::version() changed, so a burst of REG/REM/HB
// changes costs one rebuild. Picks never change the pool: Pool::pick() records the assignment.
// Not thread-safe: owned by one Pool and confined to that pool's thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "common/result.h"
#include "ns/server.h"

namespace chiron::ns {

class Pool;

struct PickContext {
  std::string_view key;  // REQ's optional key; used by chash and maglev, ignored by the others
  int64_t now_us = 0;    // steady-clock time of the request
};

struct BalancerOptions {
  uint64_t seed = 0x243f6a8885a308d3ULL;  // PRNG seed (random, wrandom, least, keyless hashing)
  uint32_t maglev_table_size = 65537;     // must be prime (Maglev §3.4); ≥ 100 × servers is ideal
  uint32_t hash_balance_factor_percent = 125;  // chash bound c as a percentage; 0 = unbounded
  uint32_t ring_points_per_weight = 160;  // chash points of a weight-1 server at 100% (ketama: 160)
  uint32_t ring_min_points = 0;           // Envoy uses 1024; see chash_bounded.h for the cost
  uint32_t ring_max_points = 1u << 20;    // caps memory (8 B per point) for 10,000+ servers
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // Canonical ALG name ("rr", "swrr", ...).
  virtual std::string_view name() const = 0;

  // Picks an eligible server. Fails with kUnavailable when none is eligible.
  Result<ServerIndex> pick(const Pool& pool, const PickContext& ctx);

 protected:
  Balancer() = default;
  // Called before a pick when the pool's version differs from the last rebuild.
  virtual void rebuild(const Pool& pool) = 0;
  // Called with a non-empty eligible set and up-to-date lookup structures.
  virtual ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) = 0;

 private:
  uint64_t built_version_ = ~uint64_t{0};
  const Pool* built_for_ = nullptr;
};

// Makes a balancer by ALG name, case-insensitively, with aliases:
//   rr      round robin               (roundrobin, round_robin, round-robin)
//   random  uniform random            (rand)
//   wrandom weighted random           (weighted_random, weighted-random, wrand)
//   swrr    nginx smooth weighted RR  (wrr, smooth_wrr, smooth-wrr)
//   edf     Envoy EDF weighted RR     (edf_wrr, edf-wrr)
//   least   least load, P2C           (least_load, least-load, leastload, least_assigned, leastconn, p2c)
//   chash   ring hash, bounded loads  (consistent, consistent_hash, ring, ring_hash, chash_bounded)
//   maglev  Maglev hashing
Result<std::unique_ptr<Balancer>> make_balancer(std::string_view name, const BalancerOptions& options = {});

// The canonical names, in the order above.
std::span<const std::string_view> algorithm_names();
// One line for people (dashboards, help); "" for an unknown name.
std::string_view algorithm_description(std::string_view canonical_name);

}  // namespace chiron::ns
