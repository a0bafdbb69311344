#include "ns/round_robin.h"

#include "ns/pool.h"

namespace chiron::ns {

ServerIndex RoundRobin::pick_eligible(const Pool& pool, const PickContext&) {
  auto eligible = pool.eligible();
  return eligible[counter_++ % eligible.size()];
}

}  // namespace chiron::ns
