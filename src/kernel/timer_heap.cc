#include "kernel/timer_heap.h"

#include <algorithm>

namespace chiron::kernel::internal {

void TimerHeap::push(int64_t due_us, Kernel* k) {
  heap_.push_back(Entry{due_us, next_seq_++, k});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

size_t TimerHeap::pop_due(int64_t now_us, std::vector<Kernel*>& out) {
  size_t n = 0;
  while (!heap_.empty() && heap_.front().due_us <= now_us) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    out.push_back(heap_.back().kernel);
    heap_.pop_back();
    ++n;
  }
  return n;
}

std::optional<int64_t> TimerHeap::next_due_us() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due_us;
}

std::vector<Kernel*> TimerHeap::take_all() {
  std::sort(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return Later{}(b, a); });
  std::vector<Kernel*> out;
  out.reserve(heap_.size());
  for (const Entry& e : heap_) out.push_back(e.kernel);
  heap_.clear();
  return out;
}

}  // namespace chiron::kernel::internal
