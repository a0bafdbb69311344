#include "ns/chash_bounded.h"

#include <algorithm>

#include "ns/hash.h"
#include "ns/pool.h"

namespace chiron::ns {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint32_t key_point(std::string_view key) { return static_cast<uint32_t>(hash64(key) >> 32); }

}  // namespace

void ChashBounded::rebuild(const Pool& pool) {
  auto eligible = pool.eligible();
  std::vector<uint64_t> points(eligible.size());
  uint64_t total = 0;
  for (size_t k = 0; k < eligible.size(); ++k) {
    const uint64_t w = pool.server(eligible[k]).effective_weight;
    points[k] = std::max<uint64_t>(1, (uint64_t{options_.ring_points_per_weight} * w + 99) / 100);
    total += points[k];
  }
  uint64_t multiplier = 1;
  uint64_t divisor = 1;
  while (total * multiplier < options_.ring_min_points) multiplier *= 2;
  while (total / divisor > options_.ring_max_points) divisor *= 2;
  ring_.clear();
  ring_.reserve(total * multiplier / divisor + eligible.size());
  for (size_t k = 0; k < eligible.size(); ++k) {
    const uint64_t n = std::max<uint64_t>(1, points[k] * multiplier / divisor);
    const uint64_t base = hash64(pool.server(eligible[k]).id);
    for (uint64_t j = 0; j < n; ++j)
      ring_.push_back(Point{static_cast<uint32_t>(mix64(base + j * kGolden) >> 32), eligible[k]});
  }
  std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.server < b.server;
  });
}

size_t ChashBounded::first_at_or_after(uint32_t hash) const {
  auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                             [](const Point& p, uint32_t h) { return p.hash < h; });
  return it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
}

ServerIndex ChashBounded::owner(std::string_view key) const {
  CHIRON_CHECK(!ring_.empty(), "ChashBounded::owner before the first pick");
  return ring_[first_at_or_after(key_point(key))].server;
}

ServerIndex ChashBounded::pick_eligible(const Pool& pool, const PickContext& ctx) {
  const uint32_t h = ctx.key.empty() ? static_cast<uint32_t>(rng_.next() >> 32) : key_point(ctx.key);
  const size_t start = first_at_or_after(h);
  const uint64_t factor = options_.hash_balance_factor_percent;
  if (factor == 0) return ring_[start].server;
  using Wide = unsigned __int128;
  const Wide scaled = Wide{pool.eligible_load() + 1} * factor;  // c·(m+1), ×100
  const Wide denominator = Wide{pool.eligible_weight()} * 100;
  for (size_t step = 0; step < ring_.size(); ++step) {
    const ServerIndex i = ring_[(start + step) % ring_.size()].server;
    const Server& s = pool.server(i);
    Wide capacity = (scaled * s.effective_weight + denominator - 1) / denominator;
    if (capacity == 0) capacity = 1;
    if (Wide{s.load()} < capacity) return i;
  }
  // Unreachable while factor >= 100 (capacities sum past the load); stay available anyway.
  return ring_[start].server;
}

}  // namespace chiron::ns
