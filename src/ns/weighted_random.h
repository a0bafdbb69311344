#pragma once
// WeightedRandom ("wrandom"), as nginx's random module: cumulative ranges
// [0,w0), [w0,w0+w1), ... over the eligible list; draw x uniform in [0, W) and binary-search
// the range holding x (research notes §2.1). O(log n) per pick, O(n) rebuild. Not thread-safe.

#include <vector>

#include "ns/balancer.h"
#include "ns/rng.h"

namespace chiron::ns {

class WeightedRandom final : public Balancer {
 public:
  explicit WeightedRandom(uint64_t seed) : rng_(seed) {}
  std::string_view name() const override { return "wrandom"; }

 protected:
  void rebuild(const Pool& pool) override;
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  Rng rng_;
  std::vector<uint64_t> range_end_;  // exclusive end of each server's range
  std::vector<ServerIndex> servers_;
};

}  // namespace chiron::ns
