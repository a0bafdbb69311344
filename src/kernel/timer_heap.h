#pragma once
// TimerHeap: kernels ordered by due time (µs on the runtime's Clock), FIFO among equal
// due times. pop_due(now) never returns an entry whose due time is after `now` — the
// "never early" rule of the timer pipeline lives here. Not thread-safe (TimerPipeline
// guards it with its mutex).

#include <cstdint>
#include <optional>
#include <vector>

namespace chiron::kernel {
class Kernel;
}  // namespace chiron::kernel

namespace chiron::kernel::internal {

class TimerHeap {
 public:
  void push(int64_t due_us, Kernel* k);
  // Appends to `out`, in due order, every kernel with due_us <= now_us; returns how many.
  size_t pop_due(int64_t now_us, std::vector<Kernel*>& out);
  std::optional<int64_t> next_due_us() const;
  std::vector<Kernel*> take_all();
  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Entry {
    int64_t due_us;
    uint64_t seq;
    Kernel* kernel;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.due_us != b.due_us ? a.due_us > b.due_us : a.seq > b.seq;
    }
  };
  std::vector<Entry> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace chiron::kernel::internal
