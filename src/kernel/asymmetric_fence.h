#pragma once
// Asymmetric fences for the eventcount in WorkerPool: a worker pushing to its own deque
// (hot path) needs a StoreLoad barrier between publishing and reading the sleeper count;
// a parking worker (cold path) issues membarrier(2) PRIVATE_EXPEDITED instead, which
// runs a full barrier on every running thread of the process, so the pusher only needs a
// compiler barrier (the folly::asymmetric_thread_fence technique). Falls back to
// ordinary seq_cst fences where membarrier is unavailable. Thread-safe.

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define CHIRON_KERNEL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHIRON_KERNEL_TSAN 1
#endif
#endif

namespace chiron::kernel::internal {

#ifdef CHIRON_KERNEL_TSAN
// ThreadSanitizer does not model fences (g++ warns -Wtsan). Under TSan both sides instead do a
// seq_cst read-modify-write of one shared word: RMWs of one location are totally ordered, so
// whichever side comes second reads from the first and sees the store made before it — the
// same StoreLoad guarantee, expressed as happens-before that TSan understands.
inline std::atomic<unsigned> g_tsan_fence_word{0};
inline bool asymmetric_fences() { return false; }
inline void light_fence() { g_tsan_fence_word.fetch_add(0, std::memory_order_seq_cst); }
inline void heavy_fence() { g_tsan_fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else

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
#endif

}  // namespace chiron::kernel::internal
