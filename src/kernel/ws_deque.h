#pragma once
// WsDeque<T>: bounded Chase–Lev work-stealing deque (Chase & Lev, SPAA 2005; C11 memory
// orders after Lê, Pop, Cohen & Zappa Nardelli, PPoPP 2013). The owner pushes and pops at
// the bottom (LIFO, no RMW except on the last element); thieves take from the top with one
// CAS. T must be trivially copyable and fit in a lock-free atomic.
// Thread-safety: push/pop/full only by the owner thread; steal/size from any thread.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace chiron::kernel::internal {

template <class T>
class WsDeque {
 public:
  explicit WsDeque(size_t min_capacity)
      : capacity_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity)),
        mask_(static_cast<int64_t>(capacity_ - 1)),
        slots_(std::make_unique<std::atomic<T>[]>(capacity_)) {}

  // Owner only.
  bool full() const {
    return bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_acquire) >=
           static_cast<int64_t>(capacity_);
  }

  // Owner only. The release store of bottom_ pairs with steal()'s load; the StoreLoad
  // ordering the eventcount needs comes from WorkerPool (asymmetric_fence.h).
  bool push(T value) {
    const int64_t b = bottom_.load(std::memory_order_relaxed);
    const int64_t t = top_.load(std::memory_order_acquire);
    if (b - t >= static_cast<int64_t>(capacity_)) return false;
    slots_[b & mask_].store(value, std::memory_order_relaxed);
    bottom_.store(b + 1, std::memory_order_release);
    return true;
  }

  // Owner only.
  bool pop(T& out) {
    const int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    bottom_.store(b, std::memory_order_seq_cst);
    int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return false;
    }
    out = slots_[b & mask_].load(std::memory_order_relaxed);
    if (t == b) {  // last element: race the thieves for it
      const bool won = top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
      bottom_.store(b + 1, std::memory_order_relaxed);
      return won;
    }
    return true;
  }

  // Any thread.
  bool steal(T& out) {
    int64_t t = top_.load(std::memory_order_seq_cst);
    const int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return false;
    T value = slots_[t & mask_].load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return false;
    out = value;
    return true;
  }

  // Any thread; approximate while others operate.
  bool maybe_nonempty() const {
    return bottom_.load(std::memory_order_seq_cst) > top_.load(std::memory_order_seq_cst);
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  const int64_t mask_;
  std::unique_ptr<std::atomic<T>[]> slots_;
  alignas(64) std::atomic<int64_t> top_{0};
  alignas(64) std::atomic<int64_t> bottom_{0};
};

}  // namespace chiron::kernel::internal
