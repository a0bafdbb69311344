#pragma once
// Rng: a small seeded PRNG (SplitMix64, Steele/Lea/Flood 2014) with an unbiased bounded draw
// (Lemire, "Fast random integer generation in an interval", 2019). The sequence is fixed by the
// seed on every platform, unlike std::uniform_int_distribution, so tests can assert on it.
// Not thread-safe.

#include <cstdint>

#include "common/check.h"

namespace chiron::ns {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n); n must be > 0.
  uint64_t below(uint64_t n) {
    CHIRON_CHECK(n > 0, "Rng::below(0)");
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    auto low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace chiron::ns
