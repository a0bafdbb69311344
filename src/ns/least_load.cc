#include "ns/least_load.h"

#include "ns/pool.h"

namespace chiron::ns {

ServerIndex LeastLoad::pick_eligible(const Pool& pool, const PickContext&) {
  auto eligible = pool.eligible();
  const size_t n = eligible.size();
  if (n == 1) return eligible[0];
  const size_t first = rng_.below(n);
  size_t second = rng_.below(n - 1);
  if (second >= first) ++second;
  const Server& a = pool.server(eligible[first]);
  const Server& b = pool.server(eligible[second]);
  using Wide = unsigned __int128;
  const bool a_wins = Wide{a.load()} * b.effective_weight <= Wide{b.load()} * a.effective_weight;
  return a_wins ? eligible[first] : eligible[second];
}

}  // namespace chiron::ns
