// Discoverer: the state machine that finds a node's superior (walk, root, rescan, move
// back to the ideal superior, loss of the superior).

#include "cluster/discovery.h"

#include <gtest/gtest.h>

#include <vector>

namespace chiron::cluster {
namespace {

using Action = Discoverer::Action;
using Kind = Action::Kind;

constexpr int64_t kScan = 5'000'000;

DiscoveryOptions options(uint64_t fanout = 2) {
  DiscoveryOptions o;
  o.fanout = fanout;
  o.scan_interval_us = kScan;
  return o;
}

Action probe(uint64_t p) { return {Kind::kProbe, p}; }
Action detach(uint64_t p) { return {Kind::kDetach, p}; }
using Actions = std::vector<Action>;

TEST(DiscovererTest, RootNeverProbes) {
  Discoverer d(1, options());
  d.start(0);
  d.on_tick(10 * kScan);
  EXPECT_TRUE(d.take_actions().empty());
  EXPECT_FALSE(d.superior());
  EXPECT_EQ(d.ideal(), 0u);
}

TEST(DiscovererTest, FirstProbeIsTheIdealSuperior) {
  Discoverer d(10, options());
  d.start(0);
  EXPECT_EQ(d.take_actions(), Actions{probe(5)});
  EXPECT_EQ(d.probing(), 5u);
  d.on_probe_result(5, true, 100);
  EXPECT_EQ(d.superior(), 5u);
  EXPECT_FALSE(d.probing());
  EXPECT_EQ(d.changes(), 1u);
  d.on_tick(100 + 3 * kScan);  // at the ideal: nothing to do
  EXPECT_TRUE(d.take_actions().empty());
}

TEST(DiscovererTest, WalksTheCandidatesInOrderUntilOneAccepts) {
  Discoverer d(10, options());
  d.start(0);
  Actions seen = d.take_actions();
  for (uint64_t refused : {5, 4, 6, 7}) {
    d.on_probe_result(refused, false, 1);
    const Actions a = d.take_actions();
    seen.insert(seen.end(), a.begin(), a.end());
  }
  EXPECT_EQ(seen, (Actions{probe(5), probe(4), probe(6), probe(7), probe(2)}));
  d.on_probe_result(2, true, 2);
  EXPECT_EQ(d.superior(), 2u);
  EXPECT_TRUE(d.take_actions().empty());
}

TEST(DiscovererTest, ExhaustedListMakesARootThatRescansAfterTheInterval) {
  Discoverer d(3, options());
  d.start(0);
  EXPECT_EQ(d.take_actions(), Actions{probe(1)});
  d.on_probe_result(1, false, 10);
  EXPECT_EQ(d.take_actions(), Actions{probe(2)});
  d.on_probe_result(2, false, 20);
  EXPECT_TRUE(d.take_actions().empty());
  EXPECT_FALSE(d.superior());
  EXPECT_FALSE(d.probing());
  d.on_tick(20 + kScan - 1);
  EXPECT_TRUE(d.take_actions().empty());
  d.on_tick(20 + kScan);
  EXPECT_EQ(d.take_actions(), Actions{probe(1)});
}

TEST(DiscovererTest, ReprobesTheIdealEachScanIntervalAndMovesBack) {
  Discoverer d(10, options());
  d.start(0);
  d.on_probe_result(5, false, 0);
  d.on_probe_result(4, true, 0);
  ASSERT_EQ(d.take_actions(), (Actions{probe(5), probe(4)}));
  ASSERT_EQ(d.superior(), 4u);
  d.on_tick(kScan / 2);
  EXPECT_TRUE(d.take_actions().empty());
  d.on_tick(kScan);
  EXPECT_EQ(d.take_actions(), Actions{probe(5)});
  d.on_tick(kScan + 1);  // one probe at a time
  EXPECT_TRUE(d.take_actions().empty());
  d.on_probe_result(5, false, kScan + 10);  // still gone: stay with 4
  EXPECT_EQ(d.superior(), 4u);
  EXPECT_TRUE(d.take_actions().empty());
  d.on_tick(2 * kScan);
  EXPECT_TRUE(d.take_actions().empty());
  d.on_tick(2 * kScan + 10);
  EXPECT_EQ(d.take_actions(), Actions{probe(5)});
  d.on_probe_result(5, true, 2 * kScan + 20);
  EXPECT_EQ(d.superior(), 5u);
  EXPECT_EQ(d.take_actions(), Actions{detach(4)});
  EXPECT_EQ(d.changes(), 2u);
}

TEST(DiscovererTest, LosingTheSuperiorWalksFromTheStartAtOnce) {
  Discoverer d(10, options());
  d.start(0);
  d.on_probe_result(5, true, 0);
  d.take_actions();
  d.on_superior_lost(1000);
  EXPECT_FALSE(d.superior());
  EXPECT_EQ(d.take_actions(), Actions{probe(5)});
  d.on_probe_result(5, false, 2000);
  d.on_probe_result(4, true, 3000);
  EXPECT_EQ(d.take_actions(), Actions{probe(4)});
  EXPECT_EQ(d.superior(), 4u);
  d.on_superior_lost(4000);
  EXPECT_EQ(d.take_actions(), Actions{probe(5)});  // from the start, not after 4
}

TEST(DiscovererTest, LossDuringTheIdealReprobeReusesThatProbe) {
  Discoverer d(10, options());
  d.start(0);
  d.on_probe_result(5, false, 0);
  d.on_probe_result(4, true, 0);
  d.take_actions();
  d.on_tick(kScan);
  ASSERT_EQ(d.take_actions(), Actions{probe(5)});
  d.on_superior_lost(kScan + 1);
  EXPECT_TRUE(d.take_actions().empty());  // 5 is the first candidate and already asked
  EXPECT_EQ(d.probing(), 5u);
  d.on_probe_result(5, false, kScan + 2);
  EXPECT_EQ(d.take_actions(), Actions{probe(4)});
  d.on_probe_result(4, true, kScan + 3);
  EXPECT_EQ(d.superior(), 4u);
  EXPECT_TRUE(d.take_actions().empty());  // no detach: 4 is the new superior, nothing old
}

TEST(DiscovererTest, StaleAnswersAreIgnoredAndAStaleAcceptanceIsDetached) {
  Discoverer d(10, options());
  d.start(0);
  d.take_actions();
  d.on_probe_result(7, false, 1);  // never asked
  EXPECT_TRUE(d.take_actions().empty());
  EXPECT_EQ(d.probing(), 5u);
  d.on_probe_result(7, true, 2);
  EXPECT_EQ(d.take_actions(), Actions{detach(7)});
  EXPECT_FALSE(d.superior());
  d.on_probe_result(5, true, 3);
  d.on_probe_result(5, true, 4);  // a duplicate acceptance from our superior: nothing
  EXPECT_TRUE(d.take_actions().empty());
  EXPECT_EQ(d.superior(), 5u);
}

TEST(DiscovererTest, LossWithoutASuperiorIsIgnored) {
  Discoverer d(10, options());
  d.start(0);
  d.take_actions();
  d.on_superior_lost(1);
  EXPECT_TRUE(d.take_actions().empty());
  EXPECT_EQ(d.probing(), 5u);
}

TEST(DiscovererTest, SubordinatesAndAcceptance) {
  Discoverer d(4, options());
  EXPECT_TRUE(d.accepts(8));
  EXPECT_FALSE(d.accepts(4));
  EXPECT_FALSE(d.accepts(2));
  d.on_subordinate(8, true);
  d.on_subordinate(9, true);
  d.on_subordinate(8, false);
  EXPECT_EQ(d.subordinates(), (std::set<uint64_t>{9}));
}

TEST(DiscovererTest, CandidateLimitBoundsTheWalk) {
  DiscoveryOptions o = options(64);
  o.max_candidates = 3;
  Discoverer d(1000, o);
  d.start(0);
  int probes = 0;
  while (auto p = d.probing()) {
    ++probes;
    d.on_probe_result(*p, false, 0);
  }
  EXPECT_EQ(probes, 3);
  EXPECT_FALSE(d.superior());
}

}  // namespace
}  // namespace chiron::cluster
