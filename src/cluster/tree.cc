// The subordination tree as pure functions (tree.h; paper §4.2, subordination.md §2).
// Addresses are handled as 128-bit integers (IPv4 in the low 32 bits) so that one code
// path serves both families; text goes through inet_pton/inet_ntop only.

#include "cluster/tree.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/check.h"

namespace chiron::cluster {
namespace {

using U128 = unsigned __int128;

constexpr uint64_t kMaxPosition = (uint64_t{1} << 63) - 1;
constexpr size_t kMaxAddressText = 64;  // longer than any address form inet_pton accepts

int bits_of(const IpAddress& ip) { return ip.v6 ? 128 : 32; }

U128 to_int(const IpAddress& ip) {
  U128 v = 0;
  const int n = ip.v6 ? 16 : 4;
  for (int i = 0; i < n; ++i) v = (v << 8) | ip.bytes[static_cast<size_t>(i)];
  return v;
}

IpAddress from_int(U128 v, bool v6) {
  IpAddress ip;
  ip.v6 = v6;
  const int n = v6 ? 16 : 4;
  for (int i = n - 1; i >= 0; --i) {
    ip.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return ip;
}

// The host bits of a prefix of `prefix_len` within `bits` (all ones in the low part).
U128 host_mask(int bits, int prefix_len) {
  const int host_bits = bits - prefix_len;
  if (host_bits <= 0) return 0;
  if (host_bits >= 128) return ~U128{0};
  return (U128{1} << host_bits) - 1;
}

// Printable form of hostile input for error messages (bounded, control bytes escaped).
std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (text.size() > 80) out += "...";
  out += '"';
  return out;
}

// A decimal number of at most `max_digits` digits and value ≤ max; no sign, no spaces.
bool parse_decimal(std::string_view text, size_t max_digits, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > max_digits) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool is_v4_mapped(const IpAddress& ip) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return ip.v6 && std::memcmp(ip.bytes.data(), kPrefix, sizeof kPrefix) == 0;
}

// Layer l of fanout f ≥ 2 starts at 1 + Σ_{i<l} f^i and holds f^l positions.
struct Layer {
  uint64_t start = 0;
  U128 size = 0;
};

Layer layer_of(uint64_t position, uint64_t fanout, uint64_t* layer_index) {
  U128 start = 1, size = 1;
  uint64_t l = 0;
  // size ≤ position < 2^64 before each multiplication, so size·f < 2^128.
  while (U128{position} >= start + size) {
    start += size;
    size *= fanout;
    ++l;
  }
  *layer_index = l;
  return {static_cast<uint64_t>(start), size};
}

// Layer `target` ≤ the layer of `position`, walking up from the top (fanout ≥ 2).
Layer layer_at(uint64_t target, uint64_t fanout) {
  U128 start = 1, size = 1;
  for (uint64_t l = 0; l < target; ++l) {
    start += size;
    size *= fanout;
  }
  return {static_cast<uint64_t>(start), size};
}

}  // namespace

// ---- IpAddress ----

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return Status::invalid_argument("empty IP address");
  if (text.size() > kMaxAddressText) return Status::invalid_argument("IP address too long: " + quote(text));
  if (text.find('\0') != std::string_view::npos)
    return Status::invalid_argument("IP address with a NUL byte: " + quote(text));
  if (text.front() == '[') return Status::invalid_argument("IP address in brackets (give it bare): " + quote(text));
  if (text.find('%') != std::string_view::npos)
    return Status::invalid_argument("IPv6 zone ids are not supported: " + quote(text));
  const std::string z(text);
  IpAddress ip;
  if (z.find(':') != std::string::npos) {
    ip.v6 = true;
    if (inet_pton(AF_INET6, z.c_str(), ip.bytes.data()) != 1)
      return Status::invalid_argument("bad IPv6 address: " + quote(text));
    if (is_v4_mapped(ip))
      return Status::invalid_argument("IPv4-mapped IPv6 address (use the IPv4 form): " + quote(text));
    return ip;
  }
  // glibc's inet_pton(AF_INET) takes exactly four dotted decimals without leading zeros.
  if (inet_pton(AF_INET, z.c_str(), ip.bytes.data()) != 1)
    return Status::invalid_argument("bad IPv4 address: " + quote(text));
  return ip;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  const char* r = inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  CHIRON_CHECK(r != nullptr, "inet_ntop of a valid address");
  return buf;
}

// ---- Endpoint ----

Result<Endpoint> Endpoint::parse(std::string_view text) {
  if (text.empty()) return Status::invalid_argument("empty endpoint");
  if (text.size() > kMaxAddressText + 8) return Status::invalid_argument("endpoint too long: " + quote(text));
  std::string_view host, port;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos)
      return Status::invalid_argument("endpoint without ']': " + quote(text));
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return Status::invalid_argument("endpoint without a port after ']' (want [addr]:port): " + quote(text));
    port = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos)
      return Status::invalid_argument("brackets are for IPv6 addresses only: " + quote(text));
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return Status::invalid_argument("endpoint without a port (want addr:port): " + quote(text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return Status::invalid_argument("an IPv6 endpoint needs brackets ([addr]:port): " + quote(text));
  }
  Endpoint ep;
  auto ip = IpAddress::parse(host);
  if (!ip.ok()) return std::move(ip).status().context("endpoint " + quote(text));
  ep.ip = *ip;
  uint64_t p = 0;
  if (!parse_decimal(port, 5, 65535, &p))
    return Status::invalid_argument("bad port (want 0..65535) in endpoint " + quote(text));
  ep.port = static_cast<uint16_t>(p);
  return ep;
}

std::string Endpoint::to_string() const {
  const std::string host = ip.to_string();
  return (ip.v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// ---- Subnet ----

Result<Subnet> Subnet::parse(std::string_view text) {
  if (text.empty()) return Status::invalid_argument("empty subnet");
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return Status::invalid_argument("subnet without a prefix length (want addr/len): " + quote(text));
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip.ok()) return std::move(ip).status().context("subnet " + quote(text));
  uint64_t len = 0;
  if (!parse_decimal(text.substr(slash + 1), 3, static_cast<uint64_t>(bits_of(*ip)), &len))
    return Status::invalid_argument("bad prefix length (want 0.." + std::to_string(bits_of(*ip)) +
                                    ") in subnet " + quote(text));
  return Subnet::of(*ip, static_cast<int>(len));
}

Subnet Subnet::of(const IpAddress& ip, int prefix_len) {
  const int bits = bits_of(ip);
  Subnet s;
  s.prefix_len = std::clamp(prefix_len, 0, bits);
  s.network = from_int(to_int(ip) & ~host_mask(bits, s.prefix_len), ip.v6);
  return s;
}

bool Subnet::contains(const IpAddress& ip) const {
  if (ip.v6 != network.v6) return false;
  const U128 net_mask = ~host_mask(bits_of(ip), prefix_len);
  return (to_int(ip) & net_mask) == (to_int(network) & net_mask);
}

std::string Subnet::to_string() const { return network.to_string() + "/" + std::to_string(prefix_len); }

// ---- positions ----

Result<uint64_t> position_of(const Subnet& subnet, const IpAddress& ip) {
  if (!subnet.contains(ip))
    return Status::invalid_argument(ip.to_string() + " is outside the cluster subnet " + subnet.to_string());
  const U128 mask = host_mask(bits_of(ip), subnet.prefix_len);
  const U128 host = to_int(ip) & mask;
  if (host == 0)
    return Status::invalid_argument(ip.to_string() + " is the network address of " + subnet.to_string() +
                                    " (no position)");
  // RFC 3021: a /31 has no broadcast address; /32 has only the network address.
  if (!ip.v6 && subnet.prefix_len <= 30 && host == mask)
    return Status::invalid_argument(ip.to_string() + " is the broadcast address of " + subnet.to_string());
  if (host > kMaxPosition)
    return Status::out_of_range(ip.to_string() + ": host part does not fit 63 bits in " + subnet.to_string());
  return static_cast<uint64_t>(host);
}

IpAddress address_of(const Subnet& subnet, uint64_t position) {
  const int bits = bits_of(subnet.network);
  const U128 mask = host_mask(bits, subnet.prefix_len);
  CHIRON_CHECK(U128{position} <= mask, "address_of: position outside the subnet");
  return from_int((to_int(subnet.network) & ~mask) | position, subnet.network.v6);
}

uint64_t max_position(const Subnet& subnet) {
  const U128 mask = host_mask(bits_of(subnet.network), subnet.prefix_len);
  U128 max = mask;
  if (!subnet.network.v6 && subnet.prefix_len <= 30) max = mask - 1;  // broadcast
  return static_cast<uint64_t>(std::min<U128>(max, kMaxPosition));
}

// ---- the tree ----

TreePlace place_of(uint64_t position, uint64_t fanout) {
  CHIRON_CHECK(position >= 1, "place_of: positions start at 1");
  CHIRON_CHECK(fanout >= 1, "place_of: fanout must be ≥ 1");
  if (fanout == 1) return {position - 1, 0};  // a chain: one position per layer
  uint64_t l = 0;
  const Layer layer = layer_of(position, fanout, &l);
  return {l, position - layer.start};
}

uint64_t ideal_superior(uint64_t position, uint64_t fanout) {
  CHIRON_CHECK(fanout >= 1, "ideal_superior: fanout must be ≥ 1");
  if (position <= 1) return 0;
  return (position - 2) / fanout + 1;
}

std::vector<uint64_t> candidate_order(uint64_t position, uint64_t fanout, size_t limit) {
  CHIRON_CHECK(fanout >= 1, "candidate_order: fanout must be ≥ 1");
  std::vector<uint64_t> out;
  if (position <= 1 || limit == 0) return out;
  const uint64_t superior = ideal_superior(position, fanout);
  out.reserve(static_cast<size_t>(std::min<uint64_t>(limit, position - 1)));
  out.push_back(superior);
  const auto full = [&] { return out.size() >= limit; };
  // Every position of [start, start + size) except `skip`, in order; stops at the limit.
  const auto add_range = [&](uint64_t start, U128 size, uint64_t skip) {
    for (U128 i = 0; i < size && !full(); ++i) {
      const auto p = static_cast<uint64_t>(start + i);
      if (p != skip) out.push_back(p);
    }
  };
  if (fanout == 1) {
    for (uint64_t p = superior - 1; p >= 1 && !full(); --p) out.push_back(p);
    return out;
  }
  uint64_t self_layer = 0, sup_layer = 0;
  const Layer own = layer_of(position, fanout, &self_layer);
  const Layer sup = layer_of(superior, fanout, &sup_layer);
  // 1. the ideal superior (above); 2. the rest of its layer from offset 0;
  add_range(sup.start, sup.size, superior);
  // 3. each higher layer, nearest first, up to the root;
  for (uint64_t l = sup_layer; l-- > 0 && !full();) {
    const Layer layer = layer_at(l, fanout);
    add_range(layer.start, layer.size, 0);
  }
  // 4. the lower positions of the node's own layer.
  add_range(own.start, position - own.start, 0);
  return out;
}

}  // namespace chiron::cluster
