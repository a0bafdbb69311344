#pragma once
// EdfWrr ("edf"): earliest-deadline-first weighted round robin, as Envoy's EdfScheduler
// (envoyproxy/envoy source/common/upstream/edf_scheduler.h; research notes §2.3). A min-heap of
// (deadline, insertion order); a pick takes the earliest deadline, sets now = deadline and
// re-inserts the server at now + 1/w. Equal deadlines leave first-in-first-out.
// Weights 5,1,1 give a a a a b c a: exact proportions, burstier than swrr, O(log n) per pick.
//
// Deadlines are fixed point (unit 2^-40, 128-bit so they never wrap) with 1/w rounded up,
// which keeps k·(1/w) ≥ k/w exactly and so reproduces the exact-arithmetic order on ties.
// A rebuild (membership or weight change) re-inserts every eligible server at now + 1/w.
// Not thread-safe.

#include <vector>

#include "ns/balancer.h"

namespace chiron::ns {

class EdfWrr final : public Balancer {
 public:
  std::string_view name() const override { return "edf"; }

 protected:
  void rebuild(const Pool& pool) override;
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  using Deadline = unsigned __int128;
  struct Entry {
    Deadline deadline;
    uint64_t order;
    ServerIndex server;
  };
  void push(Deadline deadline, ServerIndex server);

  std::vector<Entry> heap_;
  Deadline now_ = 0;
  uint64_t next_order_ = 0;
};

}  // namespace chiron::ns
