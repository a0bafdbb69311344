#include "ns/maglev.h"

#include <algorithm>

#include "ns/hash.h"
#include "ns/pool.h"

namespace chiron::ns {
namespace {

constexpr uint32_t kEmpty = UINT32_MAX;
// Seeds of h1/h2; the key hash uses seed 0.
constexpr uint64_t kOffsetSeed = 1;
constexpr uint64_t kSkipSeed = 2;

}  // namespace

std::vector<uint32_t> build_maglev_table(std::span<const MaglevEntry> entries, uint32_t table_size) {
  CHIRON_CHECK(table_size > 1, "maglev table size must be > 1");
  std::vector<uint32_t> table(table_size, kEmpty);
  if (entries.empty()) return table;
  uint64_t max_weight = 0;
  for (const MaglevEntry& e : entries) {
    CHIRON_CHECK(e.offset < table_size && e.skip >= 1 && e.skip < table_size && e.weight > 0,
                 "maglev entry out of range");
    max_weight = std::max(max_weight, e.weight);
  }
  std::vector<uint64_t> position(entries.size());  // perm[next] of each entry
  std::vector<uint64_t> target(entries.size(), 0);
  for (size_t i = 0; i < entries.size(); ++i) position[i] = entries[i].offset;
  uint64_t filled = 0;
  for (uint64_t iteration = 1; filled < table_size; ++iteration) {
    for (size_t i = 0; i < entries.size() && filled < table_size; ++i) {
      if (iteration * entries[i].weight < target[i]) continue;
      target[i] += max_weight;
      // Walk the preference list to the next empty slot; M prime makes it a permutation.
      while (table[position[i]] != kEmpty) position[i] = (position[i] + entries[i].skip) % table_size;
      table[position[i]] = static_cast<uint32_t>(i);
      position[i] = (position[i] + entries[i].skip) % table_size;
      ++filled;
    }
  }
  return table;
}

void Maglev::rebuild(const Pool& pool) {
  std::vector<ServerIndex> servers(pool.eligible().begin(), pool.eligible().end());
  std::sort(servers.begin(), servers.end(),
            [&](ServerIndex a, ServerIndex b) { return pool.server(a).id < pool.server(b).id; });
  std::vector<MaglevEntry> entries;
  entries.reserve(servers.size());
  for (ServerIndex i : servers) {
    const Server& s = pool.server(i);
    entries.push_back(MaglevEntry{hash64(s.id, kOffsetSeed) % table_size_,
                                  hash64(s.id, kSkipSeed) % (table_size_ - 1) + 1, s.effective_weight});
  }
  const std::vector<uint32_t> table = build_maglev_table(entries, table_size_);
  table_.resize(table.size());
  for (size_t slot = 0; slot < table.size(); ++slot) table_[slot] = servers[table[slot]];
}

ServerIndex Maglev::owner(std::string_view key) const {
  CHIRON_CHECK(!table_.empty(), "Maglev::owner before the first pick");
  return table_[hash64(key) % table_size_];
}

ServerIndex Maglev::pick_eligible(const Pool&, const PickContext& ctx) {
  if (ctx.key.empty()) return table_[rng_.below(table_size_)];
  return owner(ctx.key);
}

}  // namespace chiron::ns
