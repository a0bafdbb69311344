#pragma once
// MpmcRing<T>: bounded lock-free multi-producer multi-consumer queue (D. Vyukov's
// "bounded MPMC queue": each slot carries a sequence number, producers and consumers
// claim positions with one CAS each). Capacity is a power of two. Thread-safe.
// enqueued()/dequeued() are monotonic counters used for parking and quiescence checks;
// the CAS on them is seq_cst so "push then read sleepers" pairs with "announce sleep then
// read enqueued()" without a separate fence.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace chiron::kernel::internal {

template <class T>
class MpmcRing {
 public:
  explicit MpmcRing(size_t min_capacity)
      : capacity_(std::bit_ceil(min_capacity < 2 ? size_t{2} : min_capacity)),
        mask_(capacity_ - 1),
        slots_(std::make_unique<Slot[]>(capacity_)) {
    for (size_t i = 0; i < capacity_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }

  bool try_push(const T& value) {
    size_t pos = enq_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      size_t seq = slot->seq.load(std::memory_order_acquire);
      auto dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (dif == 0) {
        if (enq_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed))
          break;
      } else if (dif < 0) {
        return false;  // full
      } else {
        pos = enq_.load(std::memory_order_relaxed);
      }
    }
    slot->value = value;
    slot->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  bool try_pop(T& out) {
    size_t pos = deq_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & mask_];
      size_t seq = slot->seq.load(std::memory_order_acquire);
      auto dif = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
      if (dif == 0) {
        if (deq_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed))
          break;
      } else if (dif < 0) {
        return false;  // empty (or the producer of this slot has not published yet)
      } else {
        pos = deq_.load(std::memory_order_relaxed);
      }
    }
    out = slot->value;
    slot->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  size_t capacity() const { return capacity_; }
  uint64_t enqueued() const { return enq_.load(std::memory_order_seq_cst); }
  uint64_t dequeued() const { return deq_.load(std::memory_order_seq_cst); }
  // True if a push has claimed a position no pop has claimed yet (maybe not published).
  bool maybe_nonempty() const { return enqueued() != dequeued(); }

 private:
  struct Slot {
    std::atomic<size_t> seq;
    T value;
  };
  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<size_t> enq_{0};
  alignas(64) std::atomic<size_t> deq_{0};
};

}  // namespace chiron::kernel::internal
