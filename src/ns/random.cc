#include "ns/random.h"

#include "ns/pool.h"

namespace chiron::ns {

ServerIndex RandomBalancer::pick_eligible(const Pool& pool, const PickContext&) {
  auto eligible = pool.eligible();
  return eligible[rng_.below(eligible.size())];
}

}  // namespace chiron::ns
