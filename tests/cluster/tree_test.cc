// The subordination tree functions against the worked examples of subordination.md §2
// (fanout 2 with 11 hosts, fanout 3, the 2017 ranking cases) and address parsing.

#include "cluster/tree.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace chiron::cluster {
namespace {

using Positions = std::vector<uint64_t>;

Positions range(uint64_t from, uint64_t to) {
  Positions out;
  for (uint64_t p = from; p <= to; ++p) out.push_back(p);
  return out;
}

Positions concat(Positions a, const Positions& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ---- the fanout-2 table, hosts .1–.11 ----

struct TableRow {
  uint64_t position;
  TreePlace place;
  uint64_t superior;
  Positions order;
};

class Fanout2TableTest : public ::testing::TestWithParam<TableRow> {};

TEST_P(Fanout2TableTest, PlaceSuperiorAndProbeOrder) {
  const TableRow& row = GetParam();
  EXPECT_EQ(place_of(row.position, 2), row.place);
  EXPECT_EQ(ideal_superior(row.position, 2), row.superior);
  EXPECT_EQ(candidate_order(row.position, 2), row.order);
}

INSTANTIATE_TEST_SUITE_P(
    Hosts1To11, Fanout2TableTest,
    ::testing::Values(TableRow{1, {0, 0}, 0, {}},                        //
                      TableRow{2, {1, 0}, 1, {1}},                       //
                      TableRow{3, {1, 1}, 1, {1, 2}},                    //
                      TableRow{4, {2, 0}, 2, {2, 3, 1}},                 //
                      TableRow{5, {2, 1}, 2, {2, 3, 1, 4}},              //
                      TableRow{6, {2, 2}, 3, {3, 2, 1, 4, 5}},           //
                      TableRow{7, {2, 3}, 3, {3, 2, 1, 4, 5, 6}},        //
                      TableRow{8, {3, 0}, 4, {4, 5, 6, 7, 2, 3, 1}},     //
                      TableRow{9, {3, 1}, 4, {4, 5, 6, 7, 2, 3, 1, 8}},  //
                      TableRow{10, {3, 2}, 5, {5, 4, 6, 7, 2, 3, 1, 8, 9}},
                      TableRow{11, {3, 3}, 5, {5, 4, 6, 7, 2, 3, 1, 8, 9, 10}}),
    [](const auto& tp) { return "p" + std::to_string(tp.param.position); });

// ---- fanout 3 and the 2017 ranking cases ----

TEST(TreeTest, Fanout3OrderOf12) {
  EXPECT_EQ(place_of(12, 3), (TreePlace{2, 7}));
  EXPECT_EQ(candidate_order(12, 3), concat({4, 2, 3, 1}, range(5, 11)));
}

TEST(TreeTest, Fanout3OrderOf8) { EXPECT_EQ(candidate_order(8, 3), (Positions{3, 2, 4, 1, 5, 6, 7})); }

struct RankingCase {
  uint64_t fanout, position, superior;
};

class RankingTest : public ::testing::TestWithParam<RankingCase> {};

TEST_P(RankingTest, IdealSuperiorIsFirstCandidate) {
  const auto& c = GetParam();
  EXPECT_EQ(ideal_superior(c.position, c.fanout), c.superior);
  EXPECT_EQ(candidate_order(c.position, c.fanout).front(), c.superior);
}

INSTANTIATE_TEST_SUITE_P(Ranking2017, RankingTest,
                         ::testing::Values(RankingCase{2, 4, 2}, RankingCase{2, 5, 2}, RankingCase{2, 6, 3},
                                           RankingCase{2, 7, 3}, RankingCase{2, 8, 4}, RankingCase{4, 4, 1},
                                           RankingCase{4, 5, 1}, RankingCase{4, 6, 2}, RankingCase{4, 7, 2}),
                         [](const auto& tp) {
                           return "f" + std::to_string(tp.param.fanout) + "_p" +
                                  std::to_string(tp.param.position);
                         });

// ---- properties ----

class CandidatePropertiesTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(CandidatePropertiesTest, LowerPositionsOnlyNoDuplicatesAllLowerWhenUnlimited) {
  const uint64_t f = GetParam();
  for (uint64_t p = 2; p <= 300; ++p) {
    const Positions order = candidate_order(p, f, 4096);
    ASSERT_EQ(order.front(), ideal_superior(p, f)) << "p=" << p;
    std::set<uint64_t> seen(order.begin(), order.end());
    ASSERT_EQ(seen.size(), order.size()) << "duplicates for p=" << p;
    // Every lower position is a candidate exactly once (they are all < p).
    const Positions lower = range(1, p - 1);
    ASSERT_EQ(seen, std::set<uint64_t>(lower.begin(), lower.end())) << "p=" << p;
    EXPECT_EQ(place_of(ideal_superior(p, f), f).layer + 1, place_of(p, f).layer) << "p=" << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Fanouts, CandidatePropertiesTest, ::testing::Values(1, 2, 3, 4, 7, 64, 20000));

TEST(TreeTest, FanoutOneIsAChain) {
  EXPECT_EQ(place_of(5, 1), (TreePlace{4, 0}));
  EXPECT_EQ(ideal_superior(5, 1), 4u);
  EXPECT_EQ(candidate_order(5, 1), (Positions{4, 3, 2, 1}));
  EXPECT_EQ(place_of(uint64_t{1} << 62, 1).layer, (uint64_t{1} << 62) - 1);
  EXPECT_EQ(candidate_order(uint64_t{1} << 62, 1, 3).size(), 3u);
}

TEST(TreeTest, LargeFanout20000) {
  EXPECT_EQ(place_of(20001, 20000), (TreePlace{1, 19999}));
  EXPECT_EQ(place_of(20002, 20000), (TreePlace{2, 0}));
  EXPECT_EQ(candidate_order(5, 20000), (Positions{1, 2, 3, 4}));
  // Position 30000 sits in layer 2 under position 2; the rest of layer 1 follows, up to the limit.
  const Positions order = candidate_order(30000, 20000, 4096);
  ASSERT_EQ(order.size(), 4096u);
  EXPECT_EQ(order[0], 2u);
  EXPECT_EQ(order[1], 3u);
  EXPECT_EQ(order[4095], 4097u);
  const Positions all = candidate_order(30000, 20000, 100000);
  ASSERT_EQ(all.size(), 29999u);
  EXPECT_EQ(all[20000], 1u);      // the root after layer 1
  EXPECT_EQ(all[20001], 20002u);  // then the own layer from offset 0
  EXPECT_EQ(all.back(), 29999u);
}

TEST(TreeTest, LimitIsHonoured) {
  EXPECT_EQ(candidate_order(11, 2, 3), (Positions{5, 4, 6}));
  EXPECT_EQ(candidate_order(11, 2, 1), (Positions{5}));
  EXPECT_TRUE(candidate_order(11, 2, 0).empty());
  EXPECT_TRUE(candidate_order(1, 2).empty());
  EXPECT_TRUE(candidate_order(0, 2).empty());
}

TEST(TreeTest, HugePositionsDoNotOverflow) {
  const uint64_t p = (uint64_t{1} << 63) - 1;
  for (uint64_t f : {uint64_t{2}, uint64_t{64}, uint64_t{20000}, ~uint64_t{0}}) {
    const TreePlace place = place_of(p, f);
    EXPECT_GE(place.layer, 1u);
    const Positions order = candidate_order(p, f, 64);
    ASSERT_EQ(order.size(), 64u) << "f=" << f;
    EXPECT_EQ(order.front(), ideal_superior(p, f));
    for (uint64_t c : order) EXPECT_LT(c, p);
    EXPECT_EQ(std::set<uint64_t>(order.begin(), order.end()).size(), order.size());
  }
  EXPECT_EQ(place_of(p, 2).layer, 62u);
}

// ---- addresses ----

IpAddress ip(std::string_view text) {
  auto r = IpAddress::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().to_string();
  return r.value_or(IpAddress{});
}

Subnet subnet(std::string_view text) {
  auto r = Subnet::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().to_string();
  return r.value_or(Subnet{});
}

TEST(IpAddressTest, ParsesIpv4AndIpv6) {
  const IpAddress a = ip("10.77.0.3");
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a.bytes[0], 10);
  EXPECT_EQ(a.bytes[3], 3);
  EXPECT_EQ(a.to_string(), "10.77.0.3");
  const IpAddress b = ip("FD00:0:0::3");
  EXPECT_TRUE(b.v6);
  EXPECT_EQ(b.bytes[0], 0xfd);
  EXPECT_EQ(b.bytes[15], 3);
  EXPECT_EQ(b.to_string(), "fd00::3");
}

class HostileAddressTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileAddressTest, IsRefusedWithAMessage) {
  auto r = IpAddress::parse(GetParam());
  ASSERT_FALSE(r.ok()) << "accepted " << GetParam();
  EXPECT_FALSE(r.status().message().empty());
}

INSTANTIATE_TEST_SUITE_P(Strings, HostileAddressTest,
                         ::testing::Values("", "10.0.0", "10.0.0.256", "10.0.0.3.4", "010.0.0.1", " 10.0.0.1",
                                           "10.0.0.1 ", "10.0.0.1\n", std::string("10.0.0.1\0x", 10), "0x0a.0.0.1",
                                           "10.0.0.-1", "[fd00::1]", "fd00::1%eth0", "fd00:::1", "fd00::1::2",
                                           "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8:9", "g::1", "localhost",
                                           std::string(200, '1'), "10.0.0.1/24", "\xff\xfe"));

TEST(IpAddressTest, ErrorQuotesTheTextWithControlBytesEscaped) {
  auto r = IpAddress::parse("10.0.\x01.1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"10.0.\\x01.1\""), std::string::npos) << r.status().message();
}

TEST(EndpointTest, ParsesAndPrintsBothFamilies) {
  auto a = Endpoint::parse("10.77.0.3:7070");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->ip, ip("10.77.0.3"));
  EXPECT_EQ(a->port, 7070);
  EXPECT_EQ(a->to_string(), "10.77.0.3:7070");
  auto b = Endpoint::parse("[fd00::3]:65535");
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_TRUE(b->ip.v6);
  EXPECT_EQ(b->port, 65535);
  EXPECT_EQ(b->to_string(), "[fd00::3]:65535");
  auto c = Endpoint::parse("127.0.0.1:0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 0);
}

TEST(EndpointTest, RefusesHostileStrings) {
  for (const std::string s :
       {"", "10.0.0.1", "10.0.0.1:", ":7070", "10.0.0.1:65536", "10.0.0.1:-1", "10.0.0.1:+80", "10.0.0.1:0x50",
        "10.0.0.1:80 ", "10.0.0.1:123456", "fd00::1:7070", "[fd00::1]", "[fd00::1]7070", "[fd00::1:7070",
        "[10.0.0.1]:7070", "[]:80", "[fd00::1%lo]:80", "host:80", "10.0.0.1:80:80"}) {
    auto r = Endpoint::parse(s);
    EXPECT_FALSE(r.ok()) << "accepted \"" << s << "\"";
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  auto r = Endpoint::parse("fd00::1:7070");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("brackets"), std::string::npos) << r.status().message();
}

TEST(SubnetTest, ParsesAndClearsHostBits) {
  const Subnet s = subnet("10.77.0.9/24");
  EXPECT_EQ(s.network, ip("10.77.0.0"));
  EXPECT_EQ(s.prefix_len, 24);
  EXPECT_EQ(s.to_string(), "10.77.0.0/24");
  EXPECT_EQ(subnet("fd00::1:2:3/64").to_string(), "fd00::/64");
  EXPECT_EQ(subnet("10.1.2.3/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(subnet("fd00::3/128").to_string(), "fd00::3/128");
  EXPECT_EQ(Subnet::of(ip("127.0.1.7"), 24).to_string(), "127.0.1.0/24");
  EXPECT_EQ(Subnet::of(ip("fd00::7"), 200).prefix_len, 128);
}

TEST(SubnetTest, RefusesHostileStrings) {
  for (const std::string s : {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/024x",
                              "10.0.0.0/1000", "fd00::/129", "/24", "10.0.0.0/24/8", "10.0.0.0 /24",
                              "fd00::/6 4"}) {
    auto r = Subnet::parse(s);
    EXPECT_FALSE(r.ok()) << "accepted \"" << s << "\"";
  }
}

TEST(SubnetTest, ContainsOnlyItsOwnFamilyAndPrefix) {
  const Subnet s = subnet("10.77.0.0/24");
  EXPECT_TRUE(s.contains(ip("10.77.0.200")));
  EXPECT_FALSE(s.contains(ip("10.77.1.1")));
  EXPECT_FALSE(s.contains(ip("fd00::1")));
  EXPECT_TRUE(subnet("0.0.0.0/0").contains(ip("1.2.3.4")));
}

// ---- positions ----

TEST(PositionTest, Ipv4HostPart) {
  const Subnet s = subnet("10.77.0.0/24");
  EXPECT_EQ(position_of(s, ip("10.77.0.1")).value_or(0), 1u);
  EXPECT_EQ(position_of(s, ip("10.77.0.11")).value_or(0), 11u);
  EXPECT_EQ(position_of(s, ip("10.77.0.254")).value_or(0), 254u);
  EXPECT_EQ(max_position(s), 254u);
  EXPECT_EQ(address_of(s, 11), ip("10.77.0.11"));
  const Subnet wide = subnet("10.0.0.0/8");
  EXPECT_EQ(position_of(wide, ip("10.1.2.3")).value_or(0), (1u << 16) + (2u << 8) + 3u);
  EXPECT_EQ(address_of(wide, 65536 + 512 + 3), ip("10.1.2.3"));
  EXPECT_EQ(max_position(wide), (1u << 24) - 2);
}

TEST(PositionTest, Ipv4ErrorsNameTheProblem) {
  const Subnet s = subnet("10.77.0.0/24");
  auto outside = position_of(s, ip("10.77.1.1"));
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("outside"), std::string::npos);
  auto network = position_of(s, ip("10.77.0.0"));
  ASSERT_FALSE(network.ok());
  EXPECT_NE(network.status().message().find("network address"), std::string::npos);
  auto broadcast = position_of(s, ip("10.77.0.255"));
  ASSERT_FALSE(broadcast.ok());
  EXPECT_NE(broadcast.status().message().find("broadcast"), std::string::npos);
  EXPECT_FALSE(position_of(s, ip("fd00::1")).ok());
}

TEST(PositionTest, Ipv4PointToPointPrefixes) {
  EXPECT_EQ(position_of(subnet("10.0.0.0/31"), ip("10.0.0.1")).value_or(0), 1u);  // RFC 3021
  EXPECT_EQ(max_position(subnet("10.0.0.0/31")), 1u);
  EXPECT_FALSE(position_of(subnet("10.0.0.5/32"), ip("10.0.0.5")).ok());
  EXPECT_EQ(max_position(subnet("10.0.0.5/32")), 0u);
}

TEST(PositionTest, Ipv6HostPart) {
  const Subnet s = subnet("fd00::/64");
  EXPECT_EQ(position_of(s, ip("fd00::1")).value_or(0), 1u);
  EXPECT_EQ(position_of(s, ip("fd00::1:0")).value_or(0), 65536u);
  EXPECT_EQ(position_of(s, ip("fd00::7fff:ffff:ffff:ffff")).value_or(0), (uint64_t{1} << 63) - 1);
  EXPECT_EQ(position_of(s, ip("fd00::ffff")).value_or(0), 65535u);  // no broadcast in IPv6
  EXPECT_EQ(address_of(s, 65536), ip("fd00::1:0"));
  EXPECT_EQ(max_position(s), (uint64_t{1} << 63) - 1);
  EXPECT_EQ(max_position(subnet("fd00::/120")), 255u);
  auto big = position_of(s, ip("fd00::8000:0:0:0"));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("63 bits"), std::string::npos);
  EXPECT_FALSE(position_of(s, ip("fd00::")).ok());
  EXPECT_FALSE(position_of(s, ip("fd01::1")).ok());
  EXPECT_FALSE(position_of(s, ip("10.0.0.1")).ok());
  // The tree works on IPv6 positions the same way.
  const uint64_t p = position_of(s, ip("fd00::a")).value_or(0);
  EXPECT_EQ(candidate_order(p, 2), (Positions{5, 4, 6, 7, 2, 3, 1, 8, 9}));
  EXPECT_EQ(address_of(s, ideal_superior(p, 2)), ip("fd00::5"));
}

TEST(PositionTest, RoundTripsThroughAddresses) {
  for (const char* net : {"10.77.0.0/24", "10.0.0.0/16", "fd00:1:2:3::/64", "fd00::/112"}) {
    const Subnet s = subnet(net);
    for (uint64_t p : {uint64_t{1}, uint64_t{2}, uint64_t{100}, max_position(s)}) {
      EXPECT_EQ(position_of(s, address_of(s, p)).value_or(0), p) << net << " p=" << p;
    }
  }
}

}  // namespace
}  // namespace chiron::cluster
