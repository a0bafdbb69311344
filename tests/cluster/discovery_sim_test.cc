// The subordination tree in an in-process simulated network: hundreds of Discoverer +
// NodeTable pairs driven by a deterministic event loop (virtual time, message latency with
// jitter, FIFO per link, probe timeouts, loss detected after --dead-after, a tick every
// scan_interval / 4). Nodes that are not running refuse connections at once; killed nodes
// are "hosts down": probes to them time out and their links are noticed only by missed
// heartbeats. After every event the tree must be acyclic (superior < self for every node).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/discovery.h"
#include "cluster/tree.h"

namespace chiron::cluster {
namespace {

struct SimConfig {
  uint64_t nodes = 100;
  uint64_t fanout = 2;
  int64_t latency_us = 1'000;
  int64_t jitter_us = 500;
  int64_t probe_timeout_us = 1'000'000;
  int64_t dead_after_us = 3'000'000;
  int64_t scan_interval_us = 5'000'000;
  int64_t start_spread_us = 2'000'000;  // nodes start in random order within this window
  uint64_t seed = 1;
};

class Sim {
 public:
  explicit Sim(SimConfig c) : c_(c), rng_(c.seed), nodes_(c.nodes + 1) {
    for (uint64_t p = 1; p <= c_.nodes; ++p) nodes_[p].threads = 1 + static_cast<uint32_t>(p % 4);
  }

  // Starts every node at a random time within the start spread.
  void start_all() {
    for (uint64_t p = 1; p <= c_.nodes; ++p)
      at(now_ + static_cast<int64_t>(random() % static_cast<uint64_t>(c_.start_spread_us + 1)),
         [this, p] { start(p); });
  }

  void start(uint64_t p) {
    Node& n = nodes_[p];
    n.alive = true;
    n.host_down = false;
    n.uid = ++uids_;
    n.links.clear();
    DiscoveryOptions o;
    o.fanout = c_.fanout;
    o.scan_interval_us = c_.scan_interval_us;
    n.d = std::make_unique<Discoverer>(p, o);
    NodeRecord r;
    r.position = p;
    r.uid = n.uid;
    r.threads = n.threads;
    r.version = 1;
    n.table = std::make_unique<NodeTable>(r);
    n.d->start(now_);
    after_event(p);
    const uint64_t uid = n.uid;
    const int64_t phase = static_cast<int64_t>(random() % static_cast<uint64_t>(tick_us()));
    at(now_ + phase, [this, p, uid] { tick(p, uid); });
  }

  // The node's host goes down: no answers, links noticed only after dead_after.
  void kill(uint64_t p) {
    Node& n = nodes_[p];
    n.alive = false;
    n.host_down = true;
    for (const auto& [peer, epoch] : n.links) {
      const uint64_t q = peer, e = epoch;
      at(now_ + c_.dead_after_us, [this, q, p, e] { link_lost(q, p, e); });
    }
    n.links.clear();
    n.d.reset();
    n.table.reset();
  }

  void run_until(int64_t t) {
    while (!queue_.empty() && queue_.top().time <= t) {
      Event ev = queue_.top();
      queue_.pop();
      now_ = ev.time;
      ev.fn();
      ++steps_;
    }
    now_ = t;
  }

  // Runs until no node has changed its superior for `quiet_us` (or `limit_us` passes);
  // returns the time of the last change.
  int64_t run_until_stable(int64_t quiet_us, int64_t limit_us) {
    const int64_t from = now_, end = now_ + limit_us;
    while (now_ < end) {
      run_until(now_ + quiet_us / 4);
      if (now_ - std::max(last_change_us_, from) >= quiet_us) break;
    }
    return last_change_us_;
  }

  // The tree every node should settle on: the ideal superior if it is alive, otherwise the
  // first running node of its probe order (none: a root).
  std::optional<uint64_t> expected_superior(uint64_t p) const {
    for (uint64_t cand : candidate_order(p, c_.fanout)) {
      if (nodes_[cand].alive) return cand;
    }
    return std::nullopt;
  }

  std::optional<uint64_t> superior(uint64_t p) const { return nodes_[p].d->superior(); }
  bool alive(uint64_t p) const { return nodes_[p].alive; }
  const NodeTable& table(uint64_t p) const { return *nodes_[p].table; }
  int64_t now() const { return now_; }
  uint64_t steps() const { return steps_; }
  uint64_t messages() const { return messages_; }
  uint64_t changes() const { return changes_; }
  uint64_t checks() const { return checks_; }
  int64_t tick_us() const { return c_.scan_interval_us / 4; }

  // Checks the whole tree: superiors as expected, both ends agree on every link, and every
  // node's table knows every running node with link weights equal to the threads behind.
  // strict: every superior is the first running node of the probe order (true after one
  // change; after churn a node may stay on a later candidate while an earlier one returned —
  // only the ideal superior is probed again).
  void expect_converged(bool strict = true) const {
    uint64_t total = 0, running = 0;
    for (uint64_t p = 1; p <= c_.nodes; ++p)
      if (alive(p)) total += nodes_[p].threads, ++running;
    std::vector<uint64_t> subtree(c_.nodes + 1, 0);
    for (uint64_t p = c_.nodes; p >= 1; --p) {
      if (!alive(p)) continue;
      subtree[p] += nodes_[p].threads;
      if (auto s = superior(p)) subtree[*s] += subtree[p];
    }
    for (uint64_t p = 1; p <= c_.nodes; ++p) {
      if (!alive(p)) continue;
      const Node& n = nodes_[p];
      if (strict || !superior(p) || alive(ideal_superior(p, c_.fanout))) {
        ASSERT_EQ(superior(p), expected_superior(p)) << "node " << p;
      } else {
        ASSERT_TRUE(alive(*superior(p))) << "node " << p << " on a dead superior";
      }
      ASSERT_EQ(n.table->size(), running) << "node " << p << " does not know every node";
      for (const auto& [peer, epoch] : n.links) {
        const auto it = nodes_[peer].links.find(p);
        ASSERT_TRUE(it != nodes_[peer].links.end() && it->second == epoch) << p << "—" << peer << " half open";
        const bool up = superior(p) == peer;
        ASSERT_TRUE(up || superior(peer) == p) << p << "—" << peer << " is not a tree link";
        const uint64_t want = up ? total - subtree[p] : subtree[peer];
        if (n.table->weight(peer) != want) {
          std::string extra;
          for (const NodeRecord& r : n.table->all()) {
            if (n.table->via(r.position) != peer) continue;
            uint64_t q = r.position;  // is r really behind `peer`?
            bool behind = false;
            if (up) {
              behind = true;
              for (uint64_t x = q; x; x = superior(x).value_or(0)) behind = behind && x != p;
            } else {
              for (uint64_t x = q; x && !behind; x = alive(x) ? superior(x).value_or(0) : 0) behind = x == peer;
            }
            if (!behind || !alive(q)) extra += " " + std::to_string(q) + (alive(q) ? "" : "(dead)");
          }
          ADD_FAILURE() << "weight of link " << p << "→" << peer << " is " << n.table->weight(peer) << ", want "
                        << want << "; wrongly behind it:" << extra;
          return;
        }
      }
      const size_t want_links = (superior(p) ? 1 : 0) + n.d->subordinates().size();
      ASSERT_EQ(n.links.size(), want_links) << "node " << p;
    }
  }

 private:
  struct Node {
    bool alive = false;
    bool host_down = false;
    uint64_t uid = 0;
    uint32_t threads = 1;
    std::unique_ptr<Discoverer> d;
    std::unique_ptr<NodeTable> table;
    std::map<uint64_t, uint64_t> links;  // peer → epoch of the connection
    std::optional<uint64_t> superior;    // as last seen by the driver
    uint64_t probe_token = 0;  // the outstanding probe
    uint64_t answered = 0;     // the last probe answered (by the peer or the timeout)
    std::unordered_map<uint64_t, int64_t> fifo;  // peer → last delivery time (FIFO per direction)
  };
  struct Event {
    int64_t time;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  uint64_t random() {  // splitmix64: the same sequence on every platform
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  void at(int64_t t, std::function<void()> fn) { queue_.push({t, seq_++, std::move(fn)}); }

  // One-way delivery from → to, FIFO per direction, with latency and jitter.
  void deliver(uint64_t from, uint64_t to, std::function<void()> fn) {
    ++messages_;
    const int64_t lat =
        c_.latency_us + static_cast<int64_t>(random() % static_cast<uint64_t>(c_.jitter_us + 1));
    int64_t& last = nodes_[from].fifo[to];
    last = std::max(now_ + lat, last);
    at(last, std::move(fn));
  }

  // A message over the link from → to, dropped if the link (that epoch) is gone at `to`.
  template <class Handle>
  void send(uint64_t from, uint64_t to, Handle handle) {
    const uint64_t epoch = nodes_[from].links.at(to);
    deliver(from, to, [this, from, to, epoch, handle = std::move(handle)] {
      Node& n = nodes_[to];
      auto it = n.links.find(from);
      if (!n.alive || it == n.links.end() || it->second != epoch) return;
      handle(n);
      after_event(to);
    });
  }

  // Records travel in batches (one frame per link per event), like the daemons send them;
  // a batch forwarded to several links is shared, not copied.
  using Batch = std::shared_ptr<const std::vector<NodeRecord>>;
  void send_records(uint64_t from, uint64_t to, Batch batch) {
    if (batch->empty()) return;
    send(from, to, [this, from, to, batch = std::move(batch)](Node& n) {
      auto fresh = std::make_shared<std::vector<NodeRecord>>();
      for (const NodeRecord& r : *batch)
        if (n.table->apply(from, r)) fresh->push_back(r);
      forward_records(to, from, std::move(fresh));
    });
  }
  void forward_records(uint64_t self, uint64_t except, Batch batch) {
    if (batch->empty()) return;
    for (const auto& [peer, e] : nodes_[self].links)
      if (peer != except) send_records(self, peer, batch);
  }
  void forward_removes(uint64_t self, uint64_t except, const std::vector<uint64_t>& gone) {
    if (gone.empty()) return;
    for (const auto& [peer, e] : nodes_[self].links) {
      if (peer == except) continue;
      const uint64_t to = peer;
      send(self, to, [this, self, to, gone](Node& n) {
        std::vector<uint64_t> next;
        for (uint64_t g : gone)
          if (n.table->remove(self, g)) next.push_back(g);
        forward_removes(to, self, next);
      });
    }
  }

  void close_link(uint64_t self, uint64_t peer) {
    Node& n = nodes_[self];
    n.links.erase(peer);
    forward_removes(self, peer, n.table->drop_link(peer));
  }

  void tick(uint64_t p, uint64_t uid) {
    Node& n = nodes_[p];
    if (!n.alive || n.uid != uid) return;
    n.d->on_tick(now_);
    after_event(p);
    at(now_ + tick_us(), [this, p, uid] { tick(p, uid); });
  }

  void link_lost(uint64_t self, uint64_t peer, uint64_t epoch) {
    Node& n = nodes_[self];
    auto it = n.links.find(peer);
    if (!n.alive || it == n.links.end() || it->second != epoch) return;
    if (n.d->superior() == peer) {
      n.d->on_superior_lost(now_);
    } else {
      n.d->on_subordinate(peer, false);
    }
    close_link(self, peer);
    after_event(self);
  }

  void probe(uint64_t a, uint64_t b) {
    const uint64_t token = ++nodes_[a].probe_token;
    const uint64_t uid = nodes_[a].uid;
    at(now_ + c_.probe_timeout_us, [this, a, b, token, uid] { answer(a, b, token, uid, false, 0); });
    deliver(a, b, [this, a, b, token, uid] {
      Node& nb = nodes_[b];
      if (!nb.alive) {
        if (!nb.host_down) deliver(b, a, [this, a, b, token, uid] { answer(a, b, token, uid, false, 0); });
        return;
      }
      const Node& na = nodes_[a];
      if (!na.alive || na.uid != uid || !nb.d->accepts(a)) return;
      if (nb.links.count(a)) {
        // A new connection from a node we still hold a link to (it restarted, or detached and
        // came back before we noticed): the old link is gone, with everything learned over it.
        nb.d->on_subordinate(a, false);
        close_link(b, a);
      }
      const uint64_t epoch = ++epochs_;
      nb.links[a] = epoch;
      nb.d->on_subordinate(a, true);
      deliver(b, a, [this, a, b, token, uid, epoch] { answer(a, b, token, uid, true, epoch); });
      send_records(b, a, std::make_shared<std::vector<NodeRecord>>(nb.table->records_for(a)));
      after_event(b);
    });
  }

  void answer(uint64_t a, uint64_t b, uint64_t token, uint64_t uid, bool accepted, uint64_t epoch) {
    Node& n = nodes_[a];
    if (!n.alive || n.uid != uid) return;
    if (n.probe_token != token || n.answered == token) {
      // Too late (timed out): the peer took us in for nothing — tell it we are gone.
      if (accepted) {
        deliver(a, b, [this, a, b, epoch] {
          Node& nb = nodes_[b];
          auto it = nb.links.find(a);
          if (!nb.alive || it == nb.links.end() || it->second != epoch) return;
          nb.d->on_subordinate(a, false);
          close_link(b, a);
          after_event(b);
        });
      }
      return;
    }
    n.answered = token;
    if (accepted) n.links[b] = epoch;
    n.d->on_probe_result(b, accepted, now_);
    after_event(a);
  }

  // Carries out the node's actions, announces a new superior, checks the invariant.
  void after_event(uint64_t p) {
    Node& n = nodes_[p];
    if (!n.alive) return;
    for (const Discoverer::Action& a : n.d->take_actions()) {
      if (a.kind == Discoverer::Action::Kind::kProbe) {
        probe(p, a.peer);
      } else if (n.links.count(a.peer)) {
        const uint64_t peer = a.peer;
        send(p, peer, [this, p, peer](Node& old) {
          old.d->on_subordinate(p, false);
          close_link(peer, p);
        });
        close_link(p, peer);
      }
    }
    if (n.d->superior() != n.superior) {
      n.superior = n.d->superior();
      ++changes_;
      last_change_us_ = now_;
      NodeRecord r = n.table->self();
      r.superior = n.superior.value_or(0);
      if (n.table->update_self(r))
        forward_records(p, 0, std::make_shared<std::vector<NodeRecord>>(1, n.table->self()));
      if (n.superior) {  // a new link: everything we know goes up
        auto up = std::make_shared<std::vector<NodeRecord>>(n.table->records_for(*n.superior));
        up->erase(up->begin());  // ours went with the update above
        send_records(p, *n.superior, std::move(up));
      }
    }
    // Only this node's Discoverer was touched by the event, so checking it after every
    // event checks every node at every step.
    check_acyclic(p);
  }

  void check_acyclic(uint64_t q) {
    const Node& n = nodes_[q];
    if (!n.alive) return;
    if (auto s = n.d->superior()) {
      ++checks_;
      ASSERT_LT(*s, q) << "cycle possible: " << q << " → " << *s << " at t=" << now_;
      ASSERT_GE(*s, 1u);
      ASSERT_TRUE(nodes_[*s].alive || nodes_[*s].host_down) << q << " attached to a node never started";
    }
  }

  SimConfig c_;
  uint64_t rng_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  int64_t now_ = 0;
  uint64_t seq_ = 0, uids_ = 0, epochs_ = 0, steps_ = 0, messages_ = 0, changes_ = 0,
           checks_ = 0;
  int64_t last_change_us_ = 0;
};

constexpr int64_t kMs = 1000;

void report(const char* what, const SimConfig& c, const Sim& sim, int64_t t_us) {
  std::printf("[ sim      ] %s: %llu nodes, fanout %llu: %.3f s simulated, %llu events, %llu messages, "
              "%llu superior changes, %llu acyclicity checks\n",
              what, static_cast<unsigned long long>(c.nodes), static_cast<unsigned long long>(c.fanout),
              static_cast<double>(t_us) / 1e6, static_cast<unsigned long long>(sim.steps()),
              static_cast<unsigned long long>(sim.messages()), static_cast<unsigned long long>(sim.changes()),
              static_cast<unsigned long long>(sim.checks()));
}

// Staggered start: nodes that come up before their ideal superior attach lower in the
// probe order (or stay roots) and move to the ideal one at their next scan.
struct StartCase {
  uint64_t nodes, fanout;
};

class DiscoverySimStartTest : public ::testing::TestWithParam<StartCase> {};

TEST_P(DiscoverySimStartTest, ConvergesToTheIdealTreeWithCorrectWeights) {
  SimConfig c;
  c.nodes = GetParam().nodes;
  c.fanout = GetParam().fanout;
  c.seed = c.nodes * 131 + c.fanout;
  Sim sim(c);
  sim.start_all();
  const int64_t converged = sim.run_until_stable(2 * c.scan_interval_us, 120'000 * kMs);
  report("start", c, sim, converged);
  for (uint64_t p = 2; p <= c.nodes; ++p) ASSERT_EQ(sim.superior(p), ideal_superior(p, c.fanout)) << p;
  sim.expect_converged();
  // Everyone is up by the start spread; a node on a lower superior (or a root) asks its
  // ideal one again within a scan interval plus a tick.
  EXPECT_LE(converged, c.start_spread_us + c.scan_interval_us + sim.tick_us() + 100 * kMs);
}

INSTANTIATE_TEST_SUITE_P(Sizes, DiscoverySimStartTest,
                         ::testing::Values(StartCase{100, 2}, StartCase{100, 3}, StartCase{100, 8},
                                           StartCase{100, 64}, StartCase{500, 8}),
                         [](const auto& tp) {
                           return "n" + std::to_string(tp.param.nodes) + "_f" +
                                  std::to_string(tp.param.fanout);
                         });

// 500 nodes at fanout 2 pass too but take ~3 s (release; 394k events), too long for every CI
// run (500 nodes at fanout 64 run in the kill test below):
// --gtest_also_run_disabled_tests --gtest_filter='*Slow*'
INSTANTIATE_TEST_SUITE_P(DISABLED_Slow, DiscoverySimStartTest, ::testing::Values(StartCase{500, 2}),
                         [](const auto& tp) {
                           return "n" + std::to_string(tp.param.nodes) + "_f" +
                                  std::to_string(tp.param.fanout);
                         });

// Kill a node (root, inner, leaf) in a converged tree: its subordinates re-attach within
// dead_after (missed heartbeats) + probe timeout, the tree stays acyclic and the weights
// follow; when it returns, the tree moves back within a scan interval.
struct KillCase {
  uint64_t nodes, fanout;
  std::vector<uint64_t> victims;
};

class DiscoverySimKillTest : public ::testing::TestWithParam<KillCase> {};

TEST_P(DiscoverySimKillTest, SurvivesKillsAndMovesBack) {
  SimConfig c;
  c.nodes = GetParam().nodes;
  c.fanout = GetParam().fanout;
  c.seed = 7 + c.fanout;
  Sim sim(c);
  sim.start_all();
  sim.run_until_stable(2 * c.scan_interval_us, 120'000 * kMs);
  sim.expect_converged();
  for (uint64_t victim : GetParam().victims) {
    SCOPED_TRACE("victim " + std::to_string(victim));
    std::vector<uint64_t> orphans;
    for (uint64_t p = victim + 1; p <= c.nodes; ++p)
      if (sim.superior(p) == victim) orphans.push_back(p);
    const int64_t killed_at = sim.now();
    sim.kill(victim);
    // Step until every orphan has its new superior.
    int64_t reattached = -1;
    while (sim.now() < killed_at + 60'000 * kMs) {
      sim.run_until(sim.now() + 10 * kMs);
      bool all = true;
      for (uint64_t o : orphans) all = all && sim.superior(o) == sim.expected_superior(o);
      if (all) {
        reattached = sim.now() - killed_at;
        break;
      }
    }
    ASSERT_GE(reattached, 0) << "orphans never re-attached";
    EXPECT_LE(reattached, c.dead_after_us + c.probe_timeout_us + c.scan_interval_us);
    sim.run_until(killed_at + c.dead_after_us + c.probe_timeout_us);  // every link loss noticed
    const int64_t stable = sim.run_until_stable(2 * c.scan_interval_us, 60'000 * kMs);
    sim.expect_converged();
    std::printf("[ sim      ] kill %llu (%zu subordinates) in %llu nodes, fanout %llu: re-attached after %.3f s "
                "(dead-after %.1f s + probe timeout %.1f s), stable after %.3f s\n",
                static_cast<unsigned long long>(victim), orphans.size(), static_cast<unsigned long long>(c.nodes),
                static_cast<unsigned long long>(c.fanout), static_cast<double>(reattached) / 1e6,
                static_cast<double>(c.dead_after_us) / 1e6, static_cast<double>(c.probe_timeout_us) / 1e6,
                static_cast<double>(std::max(stable - killed_at, reattached)) / 1e6);
    const int64_t back_at = sim.now();
    sim.start(victim);
    const int64_t moved_back = sim.run_until_stable(2 * c.scan_interval_us, 60'000 * kMs) - back_at;
    for (uint64_t p = 2; p <= c.nodes; ++p) ASSERT_EQ(sim.superior(p), ideal_superior(p, c.fanout)) << p;
    sim.expect_converged();
    EXPECT_LE(moved_back, c.scan_interval_us + sim.tick_us() + 100 * kMs);
    std::printf("[ sim      ] node %llu back: tree ideal again after %.3f s\n",
                static_cast<unsigned long long>(victim), static_cast<double>(moved_back) / 1e6);
  }
  report("kills", c, sim, sim.now());
}

INSTANTIATE_TEST_SUITE_P(Victims, DiscoverySimKillTest,
                         ::testing::Values(KillCase{100, 2, {1, 2, 5, 37, 100}}, KillCase{100, 4, {1, 3, 9}},
                                           KillCase{500, 64, {1, 5}}),
                         [](const auto& tp) {
                           return "n" + std::to_string(tp.param.nodes) + "_f" +
                                  std::to_string(tp.param.fanout);
                         });

TEST(DiscoverySimTest, KillingANodeAndItsSuperiorAtOnceStillConverges) {
  SimConfig c;
  c.nodes = 100;
  c.fanout = 3;
  Sim sim(c);
  sim.start_all();
  sim.run_until_stable(2 * c.scan_interval_us, 120'000 * kMs);
  sim.kill(4);
  sim.kill(13);  // a child of 4
  sim.run_until_stable(2 * c.scan_interval_us, 120'000 * kMs);
  sim.expect_converged();
  sim.start(13);
  sim.start(4);
  sim.run_until_stable(2 * c.scan_interval_us, 120'000 * kMs);
  for (uint64_t p = 2; p <= c.nodes; ++p) ASSERT_EQ(sim.superior(p), ideal_superior(p, c.fanout)) << p;
  sim.expect_converged();
}

// Random kills and returns, several at a time and while the tree is still moving: once the
// churn stops, the tree and every table settle on the right answer.
void churn(uint64_t seed, uint64_t fanout) {
  SimConfig c;
  c.nodes = 100;
  c.fanout = fanout;
  c.seed = seed;
  Sim sim(c);
  sim.start_all();
  uint64_t r = seed * 12345;
  const auto next = [&r](uint64_t n) {  // a small LCG: deterministic everywhere
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (r >> 33) % n;
  };
  std::vector<uint64_t> down;
  for (int round = 0; round < 30; ++round) {
    sim.run_until(sim.now() + static_cast<int64_t>(next(4000)) * kMs);
    if (!down.empty() && next(2) == 0) {
      const size_t i = next(down.size());
      sim.start(down[i]);
      down.erase(down.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      const uint64_t victim = 1 + next(c.nodes);
      if (sim.alive(victim)) {
        sim.kill(victim);
        down.push_back(victim);
      }
    }
  }
  sim.run_until(sim.now() + c.dead_after_us + c.probe_timeout_us);
  sim.run_until_stable(3 * c.scan_interval_us, 300'000 * kMs);
  sim.expect_converged(/*strict=*/false);
  for (uint64_t p : down) sim.start(p);
  sim.run_until_stable(3 * c.scan_interval_us, 300'000 * kMs);
  for (uint64_t p = 2; p <= c.nodes; ++p) ASSERT_EQ(sim.superior(p), ideal_superior(p, c.fanout)) << p;
  sim.expect_converged();
}

class DiscoverySimChurnTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(DiscoverySimChurnTest, SettlesOnTheRightTreeAndTables) {
  const uint64_t seed = GetParam();
  churn(seed, 2 + seed % 3);
  // More seeds on demand: CHIRON_SIM_CHURN_SEEDS=200.
  if (const char* extra = std::getenv("CHIRON_SIM_CHURN_SEEDS"); extra && seed == 1) {
    for (uint64_t s = 100; s < 100 + std::strtoull(extra, nullptr, 10); ++s) {
      SCOPED_TRACE("seed " + std::to_string(s));
      churn(s, 2 + s % 7);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, DiscoverySimChurnTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace chiron::cluster
