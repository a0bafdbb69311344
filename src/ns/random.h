#pragma once
// RandomBalancer ("random"): a uniform draw over the eligible list from a seeded Rng.
// Ignores weights. O(1) per pick. Not thread-safe.

#include "ns/balancer.h"
#include "ns/rng.h"

namespace chiron::ns {

class RandomBalancer final : public Balancer {
 public:
  explicit RandomBalancer(uint64_t seed) : rng_(seed) {}
  std::string_view name() const override { return "random"; }

 protected:
  void rebuild(const Pool&) override {}
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  Rng rng_;
};

}  // namespace chiron::ns
