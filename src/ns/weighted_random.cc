#include "ns/weighted_random.h"

#include <algorithm>

#include "ns/pool.h"

namespace chiron::ns {

void WeightedRandom::rebuild(const Pool& pool) {
  range_end_.clear();
  servers_.clear();
  uint64_t total = 0;
  for (ServerIndex i : pool.eligible()) {
    total += pool.server(i).effective_weight;
    range_end_.push_back(total);
    servers_.push_back(i);
  }
}

ServerIndex WeightedRandom::pick_eligible(const Pool&, const PickContext&) {
  const uint64_t x = rng_.below(range_end_.back());
  auto it = std::upper_bound(range_end_.begin(), range_end_.end(), x);
  return servers_[static_cast<size_t>(it - range_end_.begin())];
}

}  // namespace chiron::ns
