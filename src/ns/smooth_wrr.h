#pragma once
// SmoothWrr ("swrr"): nginx's smooth weighted round robin (nginx commit 52327e0,
// src/http/upstream/ngx_http_upstream_round_robin.c; research notes §2.2). On each pick every
// eligible server adds its effective weight to its current weight; the largest current weight
// wins (strict >, so the first in list order wins ties) and gives back the total.
// Weights 5,1,1 give a a b a c a a. nginx's failure-lowered effective_weight does not apply:
// a name server sees no failures, so the pool's effective weight is used as is.
//
// Cost: O(n) per pick. Use "edf" for large pools (O(log n), burstier sequence).
// Current weights survive rebuilds (per slot, reset when a slot is reused). Not thread-safe.

#include <vector>

#include "ns/balancer.h"

namespace chiron::ns {

class SmoothWrr final : public Balancer {
 public:
  std::string_view name() const override { return "swrr"; }

 protected:
  void rebuild(const Pool& pool) override;
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  struct Peer {
    int64_t current_weight = 0;
    uint32_t generation = 0;
  };
  std::vector<Peer> peers_;  // by slot
};

}  // namespace chiron::ns
