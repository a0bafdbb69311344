#pragma once
// Asymmetric fences for the eventcount in WorkerPool: a worker pushing to its own deque
// (hot path) needs a StoreLoad barrier between publishing and reading the sleeper count;
// a parking worker (cold path) issues membarrier(2) PRIVATE_EXPEDITED instead, which
// runs a full barrier on every running thread of the process, so the pusher only needs a
// compiler barrier (the folly::asymmetric_thread_fence technique). Falls back to
// ordinary seq_cst fences where membarrier is unavailable. Thread-safe.

#include <atomic>

namespace chiron::kernel::internal {

// True if membarrier PRIVATE_EXPEDITED was registered for this process (at static init).
extern const bool g_asymmetric_fences;
inline bool asymmetric_fences() { return g_asymmetric_fences; }

inline void light_fence() {
  if (asymmetric_fences()) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

void heavy_fence();

}  // namespace chiron::kernel::internal
