#include "ns/smooth_wrr.h"

#include "ns/pool.h"

namespace chiron::ns {

void SmoothWrr::rebuild(const Pool& pool) {
  for (ServerIndex i : pool.eligible()) {
    if (i >= peers_.size()) peers_.resize(i + 1);
    const uint32_t generation = pool.server(i).generation;
    if (peers_[i].generation != generation) peers_[i] = Peer{0, generation};
  }
}

ServerIndex SmoothWrr::pick_eligible(const Pool& pool, const PickContext&) {
  int64_t total = 0;
  ServerIndex best = 0;
  Peer* best_peer = nullptr;
  for (ServerIndex i : pool.eligible()) {
    const auto weight = static_cast<int64_t>(pool.server(i).effective_weight);
    Peer& p = peers_[i];
    p.current_weight += weight;
    total += weight;
    if (best_peer == nullptr || p.current_weight > best_peer->current_weight) {
      best = i;
      best_peer = &p;
    }
  }
  best_peer->current_weight -= total;
  return best;
}

}  // namespace chiron::ns
