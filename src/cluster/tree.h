#pragma once
// CONTRACT (owner: tree) — the subordination tree as pure functions (paper §4.2,
// ../shared/research/subordination.md §2).
//
// A node's position is the host part of its address within the cluster subnet: the first
// host (network + 1) has position 1 and is the root. With fanout f, positions fill layers
// 0, 1, 2, … of sizes 1, f, f², …; the ideal superior of p ≥ 2 is ⌊(p−2)/f⌋ + 1. When it is
// unreachable a node tries, in order: the other nodes of the superior's layer, then each
// higher layer up to the root, then the lower positions of its own layer. Only lower
// positions are ever candidates, so no cycle can form.
// Worked examples (unit-tested): fanout 2, hosts .1–.11: superiors 2→1, 3→1, 4→2, 5→2, 6→3,
// 7→3, 8→4, 9→4, 10→5, 11→5; probe order of .10 is 5,4,6,7,2,3,1,8,9; of .8 is 4,5,6,7,2,3,1.
// Fanout 3: order of .12 is 4,2,3,1,5..11.
// Pure functions; thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron::cluster {

// An IPv4 or IPv6 address (IPv4 kept as 4 bytes; no v4-mapped forms).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  bool v6 = false;

  // "10.0.0.3", "fd00::3" (no brackets, no zone). Errors name the offending text (quoted,
  // control bytes escaped); IPv4-mapped IPv6 ("::ffff:10.0.0.3") is refused.
  static Result<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Address + port (0..65535; 0 = pick when listening). Text form "10.0.0.3:7070" or
// "[fd00::3]:7070"; an unbracketed IPv6 endpoint is refused as ambiguous.
struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;

  static Result<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// The cluster's subnet: "10.0.0.0/24", "fd00::/64". Host bits of the text are cleared.
struct Subnet {
  IpAddress network;
  int prefix_len = 0;

  static Result<Subnet> parse(std::string_view text);
  // The subnet of `ip` with this prefix length (the default cluster subnet of a node);
  // prefix_len is clamped to 0..32 (IPv4) or 0..128 (IPv6).
  static Subnet of(const IpAddress& ip, int prefix_len);
  bool contains(const IpAddress& ip) const;
  std::string to_string() const;
};

// Host part of ip in subnet (≥ 1). Errors: outside the subnet, the network address itself
// (0), IPv4 broadcast, or a host part that does not fit 63 bits.
Result<uint64_t> position_of(const Subnet& subnet, const IpAddress& ip);
// Inverse of position_of. position must fit the host part (≤ max_position, or the IPv4
// broadcast); anything larger is a broken invariant (CHIRON_CHECK).
IpAddress address_of(const Subnet& subnet, uint64_t position);
// The largest usable position (IPv4 /24 → 254; capped at 2^63 − 1).
uint64_t max_position(const Subnet& subnet);

struct TreePlace {
  uint64_t layer = 0;
  uint64_t offset = 0;  // 0-based within the layer
  friend bool operator==(const TreePlace&, const TreePlace&) = default;
};
// Layer and offset of position p ≥ 1 with fanout f ≥ 1 (fanout 0 or position 0 is a broken
// invariant: CHIRON_CHECK — validate --fanout before calling).
TreePlace place_of(uint64_t position, uint64_t fanout);
// Ideal superior; 0 for the root (p == 1).
uint64_t ideal_superior(uint64_t position, uint64_t fanout);
// Probe order (see above), without duplicates, every entry < position; at most `limit`
// entries (huge IPv6 prefixes).
std::vector<uint64_t> candidate_order(uint64_t position, uint64_t fanout, size_t limit = 4096);

}  // namespace chiron::cluster
