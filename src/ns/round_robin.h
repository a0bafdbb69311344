#pragma once
// RoundRobin ("rr"): idx = counter++ mod n over the eligible list (research notes §2.1).
// Ignores weights. O(1) per pick. The counter survives membership changes, so a change
// shifts the cycle but never skips more than the servers that left. Not thread-safe.

#include "ns/balancer.h"

namespace chiron::ns {

class RoundRobin final : public Balancer {
 public:
  std::string_view name() const override { return "rr"; }

 protected:
  void rebuild(const Pool&) override {}
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  uint64_t counter_ = 0;
};

}  // namespace chiron::ns
