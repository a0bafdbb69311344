#pragma once
// LeastLoad ("least"): least load by the power of two choices (Mitzenmacher; Envoy
// least_request with choice_count=2; HAProxy random(2); research notes §2.5, §2.9).
// Load is Server::load() = reported load + assignments since that report, since a look-aside
// name server never sees connections close. Two DISTINCT eligible servers are drawn (so a
// two-server pool always compares both) and the one with the lower load/weight wins, compared
// as load_a·w_b ≤ load_b·w_a (nginx least_conn, no division); ties keep the first draw.
// P2C rather than a global minimum: with stale load figures a global minimum sends every
// request to the same server. O(1) per pick. Not thread-safe.

#include "ns/balancer.h"
#include "ns/rng.h"

namespace chiron::ns {

class LeastLoad final : public Balancer {
 public:
  explicit LeastLoad(uint64_t seed) : rng_(seed) {}
  std::string_view name() const override { return "least"; }

 protected:
  void rebuild(const Pool&) override {}
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  Rng rng_;
};

}  // namespace chiron::ns
