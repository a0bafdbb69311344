// libFuzzer target for the cluster's address parsers (src/cluster/tree.h): IpAddress::parse,
// Endpoint::parse and Subnet::parse on arbitrary bytes. Checks their promises: no crash, an
// error always has a message, an accepted value prints to a form that parses back to the
// same value, and positions within a subnet round-trip through address_of.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cluster/tree.h"
#include "common/check.h"

using chiron::cluster::Endpoint;
using chiron::cluster::IpAddress;
using chiron::cluster::Subnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto ip = IpAddress::parse(in);
  if (!ip.ok()) {
    CHIRON_CHECK(!ip.status().message().empty(), "IpAddress error without a message");
  } else {
    auto again = IpAddress::parse(ip->to_string());
    CHIRON_CHECK(again.ok() && *again == *ip, "IpAddress does not round-trip");
    if (!ip->v6) {
      for (size_t i = 4; i < 16; ++i) CHIRON_CHECK(ip->bytes[i] == 0, "IPv4 with stray bytes");
    }
  }

  auto ep = Endpoint::parse(in);
  if (!ep.ok()) {
    CHIRON_CHECK(!ep.status().message().empty(), "Endpoint error without a message");
  } else {
    auto again = Endpoint::parse(ep->to_string());
    CHIRON_CHECK(again.ok() && *again == *ep, "Endpoint does not round-trip");
  }

  auto net = Subnet::parse(in);
  if (!net.ok()) {
    CHIRON_CHECK(!net.status().message().empty(), "Subnet error without a message");
  } else {
    auto again = Subnet::parse(net->to_string());
    CHIRON_CHECK(again.ok() && again->network == net->network && again->prefix_len == net->prefix_len,
                 "Subnet does not round-trip");
    CHIRON_CHECK(net->contains(net->network), "Subnet does not contain its network");
    const uint64_t max = chiron::cluster::max_position(*net);
    for (uint64_t p : {uint64_t{1}, max / 2 + 1, max}) {
      if (p == 0 || p > max) continue;
      const IpAddress a = chiron::cluster::address_of(*net, p);
      auto back = chiron::cluster::position_of(*net, a);
      CHIRON_CHECK(back.ok() && *back == p, "position does not round-trip");
    }
  }
  return 0;
}
