#pragma once
// Helpers shared by the ns tests: a pool on a ManualClock, and pick sequences by id.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ns/ns.h"

namespace chiron::ns::testing {

inline std::unique_ptr<Pool> make_pool(const Clock& clock, std::string_view algorithm,
                                       PoolOptions options = {}) {
  options.algorithm = std::string(algorithm);
  auto pool = Pool::create(clock, options);
  CHIRON_CHECK(pool.ok(), pool.status().to_string());
  return std::move(pool).value();
}

inline void add_all(Pool& pool, const std::vector<std::pair<std::string, uint32_t>>& servers) {
  for (const auto& [id, weight] : servers) {
    Status st = pool.add(id, ServerSpec{.weight = weight});
    CHIRON_CHECK(st.ok(), st.to_string());
  }
}

// n picks as ids joined by spaces: "a a b a c a a".
inline std::string picks(Pool& pool, int n, std::string_view key = {}) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    auto s = pool.pick(key);
    CHIRON_CHECK(s.ok(), s.status().to_string());
    if (!out.empty()) out += ' ';
    out += (*s)->id;
  }
  return out;
}

inline std::map<std::string, int> counts(Pool& pool, int n, std::string_view key = {}) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    auto s = pool.pick(key);
    CHIRON_CHECK(s.ok(), s.status().to_string());
    ++out[(*s)->id];
  }
  return out;
}

}  // namespace chiron::ns::testing
