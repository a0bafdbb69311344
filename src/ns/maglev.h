#pragma once
// Maglev ("maglev"): Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
// Network Load Balancer", NSDI'16 §3.4; Envoy source/extensions/load_balancing_policies/maglev;
// research notes §2.7). Table size M is prime (default 65537). Backend i has
// offset = h1(id) mod M and skip = h2(id) mod (M−1) + 1, so its preference list
// perm[j] = (offset + j·skip) mod M visits every slot. Backends take turns claiming their next
// preferred empty slot until the table is full; a lookup is table[hash(key) mod M].
// Weights as Envoy: on iteration t a backend claims only if t·w ≥ its target, which then grows
// by the largest weight, so a backend of weight max/k claims every k-th turn.
// Backends are sorted by id first, so the table depends on the set, not the order of REGs.
// Keyless REQs take a random slot (weighted random). O(1) per pick; O(M log M) rebuild.
// Not thread-safe.

#include <cstdint>
#include <span>
#include <vector>

#include "ns/balancer.h"
#include "ns/rng.h"

namespace chiron::ns {

struct MaglevEntry {
  uint64_t offset;  // < table size
  uint64_t skip;    // 1 .. table size − 1
  uint64_t weight;  // > 0
};

// The Maglev population (paper Pseudocode 1, with Envoy's weights): table[slot] = index into
// entries. Pure; exposed so the paper's M=7 example can be checked exactly.
std::vector<uint32_t> build_maglev_table(std::span<const MaglevEntry> entries, uint32_t table_size);

class Maglev final : public Balancer {
 public:
  Maglev(uint32_t table_size, uint64_t seed) : table_size_(table_size), rng_(seed) {}
  std::string_view name() const override { return "maglev"; }

  // table()[slot] = server; valid after the first pick.
  std::span<const ServerIndex> table() const { return table_; }
  ServerIndex owner(std::string_view key) const;

 protected:
  void rebuild(const Pool& pool) override;
  ServerIndex pick_eligible(const Pool& pool, const PickContext& ctx) override;

 private:
  uint32_t table_size_;
  Rng rng_;
  std::vector<ServerIndex> table_;
};

}  // namespace chiron::ns
