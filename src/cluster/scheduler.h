#pragma once
// CONTRACT (owner: sched) — where the next kernel of a job runs: here, or over one of the
// node's tree links (paper §4.1; research/subordination.md §1.4, §6.5).
//
// Capacity: this node has local_threads × slots_per_thread slots; a link has
// weight × slots_per_thread, where weight is the number of threads behind it (NodeTable).
// A kernel goes to the place with the lowest relative load (in flight / threads), local on
// ties; a kernel never goes back over the link it came from (`exclude`). When every place
// is full the kernel waits in its job's queue; queues are served round-robin across jobs
// (fair share: two busy jobs each get half the slots), and a job's queue is bounded
// (max_pending_per_job): submit() refuses beyond it so the caller can push back.
// Thread-safe (one mutex); callbacks run outside the lock, on the calling thread of
// submit()/release()/set_link(). A callback may call back into the scheduler: the
// dispatches that this causes run on the same thread right after the callback returns
// (not inside it), so a chain of synchronous completions never deepens the stack.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "common/status.h"

namespace chiron::cluster {

inline constexpr uint64_t kLocalPlace = 0;  // links are neighbour positions (≥ 1)

struct SchedulerOptions {
  uint32_t local_threads = 1;
  uint32_t slots_per_thread = 2;
  size_t max_pending_per_job = 1 << 16;
};

struct PlaceLoad {
  uint64_t place = kLocalPlace;
  uint64_t threads = 0;
  uint64_t in_flight = 0;
  uint64_t capacity = 0;
  uint64_t sent_total = 0;
};

struct SchedulerStats {
  std::vector<PlaceLoad> places;  // local first, then links by position
  std::map<uint64_t, size_t> pending_by_job;
  uint64_t dispatched = 0;
};

class ClusterScheduler {
 public:
  // Called with the chosen place when the kernel may run there.
  using Dispatch = std::function<void(uint64_t place)>;

  explicit ClusterScheduler(SchedulerOptions options);

  // A kernel of `job` is ready. `dispatch` is called with its place at once (on this
  // thread) if a slot is free, else later from release()/set_link() in fair order.
  // resource_exhausted when the job's queue is full (the kernel is not taken).
  // prefer_link: a link with a free slot wins over this node (a kernel carrying its
  // parent protects the principal only if it runs on another node).
  Status submit(uint64_t job, uint64_t exclude, Dispatch dispatch, bool prefer_link = false);
  // A kernel placed at `place` finished (returned, failed or was moved): frees its slot
  // and dispatches waiting kernels.
  void release(uint64_t place);
  // Adds a link or changes its weight (threads behind it); may dispatch waiting kernels.
  // set_link(kLocalPlace, n) changes the local thread count.
  void set_link(uint64_t link, uint64_t threads);
  // The link is gone. Its in-flight kernels are the caller's to re-submit (recovery); the
  // slots they held are forgotten (release() of them is ignored — but once the link is
  // set again, do not release kernels placed on its previous incarnation).
  void remove_link(uint64_t link);
  // Drops the job's waiting kernels and returns their dispatch functions (the caller
  // finishes them as cancelled).
  std::vector<Dispatch> cancel_job(uint64_t job);

  // Some place other than `exclude` has a free slot right now (a hint: it may be taken
  // by the time submit() runs).
  bool has_free_slot(uint64_t exclude) const;

  SchedulerStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chiron::cluster
