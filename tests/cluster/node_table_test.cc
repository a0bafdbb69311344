// NodeTable: records learned over links, link weights (threads behind a link) against the
// repo's expected weights (subordination.md §2) and the 11-node table.

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "cluster/discovery.h"
#include "cluster/tree.h"

namespace chiron::cluster {
namespace {

NodeRecord record(uint64_t position, uint32_t threads = 1, uint64_t version = 1, uint64_t uid = 0) {
  NodeRecord r;
  r.position = position;
  r.uid = uid ? uid : 1000 + position;
  r.threads = threads;
  r.version = version;
  r.endpoint = "10.0.0." + std::to_string(position) + ":7070";
  return r;
}

// Builds every node's table for the ideal tree of n nodes (fanout f, `threads` each) by
// flooding records along the tree links, as the daemons do.
std::map<uint64_t, NodeTable> flood(uint64_t n, uint64_t f, uint32_t threads = 1) {
  std::map<uint64_t, NodeTable> tables;
  std::map<uint64_t, std::vector<uint64_t>> links;
  for (uint64_t p = 1; p <= n; ++p) {
    tables.emplace(p, NodeTable(record(p, threads)));
    if (p > 1) {
      links[p].push_back(ideal_superior(p, f));
      links[ideal_superior(p, f)].push_back(p);
    }
  }
  struct Msg {
    uint64_t from, to;
    NodeRecord rec;
  };
  std::vector<Msg> queue;
  for (uint64_t p = 1; p <= n; ++p)
    for (uint64_t peer : links[p])
      for (const NodeRecord& r : tables.at(p).records_for(peer)) queue.push_back({p, peer, r});
  for (size_t i = 0; i < queue.size(); ++i) {
    const Msg m = queue[i];
    if (!tables.at(m.to).apply(m.from, m.rec)) continue;
    for (uint64_t peer : links[m.to])
      if (peer != m.from) queue.push_back({m.to, peer, m.rec});
  }
  return tables;
}

TEST(NodeTableTest, FourNodesRepoWeights) {
  auto t = flood(4, 2);
  EXPECT_EQ(t.at(1).weight(2), 2u);
  EXPECT_EQ(t.at(1).weight(3), 1u);
  EXPECT_EQ(t.at(2).weight(1), 2u);
  EXPECT_EQ(t.at(3).weight(1), 3u);
  EXPECT_EQ(t.at(4).weight(2), 3u);
}

TEST(NodeTableTest, EightNodesRepoWeights) {
  auto t = flood(8, 2);
  EXPECT_EQ(t.at(1).weight(2), 4u);
  EXPECT_EQ(t.at(1).weight(3), 3u);
  EXPECT_EQ(t.at(4).weight(2), 6u);
}

struct WeightRow {
  uint64_t position;
  std::map<uint64_t, uint64_t> weights;  // link → threads behind it
};

class ElevenNodesTest : public ::testing::TestWithParam<WeightRow> {};

TEST_P(ElevenNodesTest, LinkWeightsOfTheTable) {
  static const auto tables = flood(11, 2);
  const auto& row = GetParam();
  const NodeTable& t = tables.at(row.position);
  EXPECT_EQ(t.size(), 11u);
  for (const auto& [link, w] : row.weights) EXPECT_EQ(t.weight(link), w) << "link " << link;
  uint64_t sum = 0;
  for (const auto& [link, w] : row.weights) sum += w;
  EXPECT_EQ(sum, 10u);  // every other node is behind exactly one link
}

INSTANTIATE_TEST_SUITE_P(
    Fanout2, ElevenNodesTest,
    ::testing::Values(WeightRow{1, {{2, 7}, {3, 3}}}, WeightRow{2, {{1, 4}, {4, 3}, {5, 3}}},
                      WeightRow{3, {{1, 8}, {6, 1}, {7, 1}}}, WeightRow{4, {{2, 8}, {8, 1}, {9, 1}}},
                      WeightRow{5, {{2, 8}, {10, 1}, {11, 1}}}, WeightRow{6, {{3, 10}}}, WeightRow{7, {{3, 10}}},
                      WeightRow{8, {{4, 10}}}, WeightRow{9, {{4, 10}}}, WeightRow{10, {{5, 10}}},
                      WeightRow{11, {{5, 10}}}),
    [](const auto& tp) { return "p" + std::to_string(tp.param.position); });

TEST(NodeTableTest, WeightsCountThreadsNotNodes) {
  auto t = flood(11, 2, 8);
  EXPECT_EQ(t.at(1).weight(2), 56u);
  EXPECT_EQ(t.at(10).weight(5), 80u);
}

TEST(NodeTableTest, ApplyTakesNewAndNewerRecordsOnly) {
  NodeTable t(record(1));
  EXPECT_TRUE(t.apply(2, record(4, 2, 1)));
  EXPECT_FALSE(t.apply(2, record(4, 2, 1)));  // same
  EXPECT_FALSE(t.apply(2, record(4, 5, 0)));  // older
  EXPECT_EQ(t.weight(2), 2u);
  EXPECT_TRUE(t.apply(2, record(4, 6, 2)));  // newer
  EXPECT_EQ(t.weight(2), 6u);
  EXPECT_TRUE(t.apply(2, record(4, 3, 1, 7777)));  // restarted: a higher uid, version starts over
  EXPECT_EQ(t.weight(2), 3u);
  EXPECT_FALSE(t.apply(2, record(4, 9, 5)));  // the earlier incarnation, late: stale
  EXPECT_EQ(t.weight(2), 3u);
  EXPECT_FALSE(t.apply(2, record(1, 4, 9)));  // about ourselves
  EXPECT_FALSE(t.apply(2, record(0, 4, 9)));
  EXPECT_EQ(t.size(), 2u);
}

NodeRecord under(uint64_t position, uint64_t superior, uint32_t threads = 1) {
  NodeRecord r = record(position, threads);
  r.superior = superior;
  return r;
}

TEST(NodeTableTest, SameRecordOverAnotherLinkMovesItWhereTheTreeSaysItIs) {
  NodeTable t(record(1));
  ASSERT_TRUE(t.apply(2, under(9, 3, 4)));  // a stale copy from before 9's subtree moved
  EXPECT_EQ(t.direction(9), std::nullopt);  // 3 unknown, and we are a root
  ASSERT_TRUE(t.apply(3, under(3, 1)));
  EXPECT_EQ(t.direction(9), 3u);
  EXPECT_FALSE(t.apply(5, under(9, 3, 4)));  // the tree does not say 9 is behind 5
  EXPECT_EQ(t.via(9), 2u);
  EXPECT_TRUE(t.apply(3, under(9, 3, 4)));
  EXPECT_EQ(t.via(9), 3u);
  EXPECT_EQ(t.weight(2), 0u);
  EXPECT_EQ(t.weight(3), 5u);
  EXPECT_FALSE(t.remove(2, 9));  // a late remove over the old link
  EXPECT_EQ(t.via(9), 3u);
  EXPECT_TRUE(t.remove(3, 9));
  EXPECT_FALSE(t.via(9));
  EXPECT_EQ(t.weight(3), 1u);
}

TEST(NodeTableTest, DirectionFollowsSuperiorsUpToUsElseOurSuperior) {
  NodeRecord self = record(2);
  self.superior = 1;
  NodeTable t(self);
  ASSERT_TRUE(t.apply(4, under(4, 2)));
  ASSERT_TRUE(t.apply(4, under(8, 4)));
  ASSERT_TRUE(t.apply(4, under(17, 8)));
  ASSERT_TRUE(t.apply(1, under(3, 1)));
  EXPECT_EQ(t.direction(17), 4u);
  EXPECT_EQ(t.direction(4), 4u);
  EXPECT_EQ(t.direction(3), 1u);
  EXPECT_EQ(t.direction(1), 1u);
  EXPECT_EQ(t.direction(99), 1u);  // unknown: not below us as far as we know
}

TEST(NodeTableTest, DropLinkForgetsEverythingBehindIt) {
  NodeTable t(record(2));
  ASSERT_TRUE(t.apply(1, record(1)));
  ASSERT_TRUE(t.apply(1, record(3)));
  ASSERT_TRUE(t.apply(4, record(4)));
  ASSERT_TRUE(t.apply(4, record(8)));
  EXPECT_EQ(t.drop_link(4), (std::vector<uint64_t>{4, 8}));
  EXPECT_EQ(t.weight(4), 0u);
  EXPECT_EQ(t.weight(1), 2u);
  EXPECT_TRUE(t.drop_link(4).empty());
  EXPECT_EQ(t.size(), 3u);
}

TEST(NodeTableTest, AllListsOursFirstThenByPosition) {
  NodeTable t(record(5));
  ASSERT_TRUE(t.apply(2, record(9)));
  ASSERT_TRUE(t.apply(2, record(1)));
  ASSERT_TRUE(t.apply(10, record(10)));
  std::vector<uint64_t> order;
  for (const auto& r : t.all()) order.push_back(r.position);
  EXPECT_EQ(order, (std::vector<uint64_t>{5, 1, 9, 10}));
}

TEST(NodeTableTest, RecordsForALinkLeaveOutWhatCameOverIt) {
  NodeTable t(record(5));
  ASSERT_TRUE(t.apply(2, record(1)));
  ASSERT_TRUE(t.apply(10, record(10)));
  std::vector<uint64_t> to_superior, to_sub;
  for (const auto& r : t.records_for(2)) to_superior.push_back(r.position);
  for (const auto& r : t.records_for(10)) to_sub.push_back(r.position);
  EXPECT_EQ(to_superior, (std::vector<uint64_t>{5, 10}));
  EXPECT_EQ(to_sub, (std::vector<uint64_t>{5, 1}));
}

TEST(NodeTableTest, UpdateSelfBumpsTheVersionOnlyOnChange) {
  NodeTable t(record(5, 4, 3));
  EXPECT_FALSE(t.update_self(record(5, 4, 3)));
  EXPECT_FALSE(t.update_self(record(5, 4, 0)));  // only the version differs
  EXPECT_EQ(t.self().version, 3u);
  NodeRecord r = record(5, 4, 0);
  r.superior = 2;
  EXPECT_TRUE(t.update_self(r));
  EXPECT_EQ(t.self().version, 4u);
  EXPECT_EQ(t.self().superior, 2u);
}

}  // namespace
}  // namespace chiron::cluster
