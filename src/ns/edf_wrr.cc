#include "ns/edf_wrr.h"

#include <algorithm>

#include "ns/pool.h"

namespace chiron::ns {
namespace {

constexpr unsigned __int128 kOne = static_cast<unsigned __int128>(1) << 40;

// std heap helpers build a max-heap; "later" as less-than makes the earliest entry the top.
struct Later {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
  }
};

unsigned __int128 period(uint64_t weight) { return (kOne + weight - 1) / weight; }

}  // namespace

void EdfWrr::push(Deadline deadline, ServerIndex server) {
  heap_.push_back(Entry{deadline, next_order_++, server});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

void EdfWrr::rebuild(const Pool& pool) {
  heap_.clear();
  for (ServerIndex i : pool.eligible()) push(now_ + period(pool.server(i).effective_weight), i);
}

ServerIndex EdfWrr::pick_eligible(const Pool& pool, const PickContext&) {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Entry top = heap_.back();
  heap_.pop_back();
  now_ = top.deadline;
  push(now_ + period(pool.server(top.server).effective_weight), top.server);
  return top.server;
}

}  // namespace chiron::ns
