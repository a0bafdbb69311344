#pragma once
// hash64: the key and server-name hash used by the hashing balancers (ring, Maglev).
// FNV-1a over the bytes, then the MurmurHash3 fmix64 finaliser so that similar names
// ("10.0.0.1:80", "10.0.0.2:80") land far apart. Stable across platforms and releases:
// changing it remaps every key, so treat it as part of the wire behaviour. Pure; thread-safe.

#include <cstdint>
#include <string_view>

namespace chiron::ns {

constexpr uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

constexpr uint64_t hash64(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed + 0x9e3779b97f4a7c15ULL);
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

}  // namespace chiron::ns
