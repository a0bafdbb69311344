#pragma once
// CONTRACT (owner: tree) — node discovery as sans-I/O state machines, driven by the node
// daemon (node.cc, real TCP) and by the in-process simulation in the tests (hundreds of
// nodes, no sockets). Time is passed in (µs, any monotonic origin).
//
// Discoverer: which node is my superior. It walks candidate_order() (tree.h) by asking the
// driver to probe each candidate in turn; the first that accepts becomes the superior.
// When the list is used up the node is (for now) a root and walks it again after
// scan_interval. At every scan interval a node whose superior is not the ideal one probes
// the ideal one again, so the tree moves back when a better superior returns. On the loss
// of the superior (connection error or missed heartbeats, seen by the driver) it walks the
// list again at once, so subordinates re-attach within probe timeouts + scan interval.
//
// NodeTable: what a node knows about the others. Node records travel along tree links only
// when they change; a record learned over a link is "behind" that link, so the weight of a
// link (the number of threads behind it, used by the scheduler) is the sum of the threads
// of the records learned over it. Losing a link drops every record learned over it.
//
// Not thread-safe: one owner (the node's control strand, or the simulation loop).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chiron::cluster {

struct DiscoveryOptions {
  uint64_t fanout = 64;
  int64_t scan_interval_us = 10'000'000;
  size_t max_candidates = 4096;
};

class Discoverer {
 public:
  struct Action {
    enum class Kind {
      kProbe,   // ask `peer` to become our superior; answer with on_probe_result()
      kDetach,  // tell `peer` (our former superior) we left it, then close that link
    };
    Kind kind;
    uint64_t peer;
    friend bool operator==(const Action&, const Action&) = default;
  };

  Discoverer(uint64_t self, DiscoveryOptions options);

  // Starts the walk (emits the first probe, unless self is the root).
  void start(int64_t now_us);
  // The answer to the probe of `peer`: accepted (it is now our superior) or not (refused,
  // connection error, timeout). An answer to a probe no longer outstanding is ignored; if
  // it was an acceptance, a kDetach for that peer is emitted (it took us in for nothing).
  // Switching from a superior to the returned ideal one emits kDetach for the old one.
  void on_probe_result(uint64_t peer, bool accepted, int64_t now_us);
  // Our superior's link is gone.
  void on_superior_lost(int64_t now_us);
  // Periodic (the driver calls it at least every scan_interval / 4).
  void on_tick(int64_t now_us);
  // Subordinates attaching/detaching (or their link dying).
  void on_subordinate(uint64_t peer, bool attached);

  // Actions produced since the last call, in order.
  std::vector<Action> take_actions();

  uint64_t self() const;
  std::optional<uint64_t> superior() const;
  uint64_t ideal() const;  // 0 for the root
  const std::set<uint64_t>& subordinates() const;
  // A probe is outstanding (the peer, or nullopt).
  std::optional<uint64_t> probing() const;
  // Superiors adopted so far (for convergence measurements; losing one does not count).
  uint64_t changes() const;
  // Whether we take `prober` as a subordinate: only higher positions (no cycle can form).
  bool accepts(uint64_t prober) const;

 private:
  void begin_walk(int64_t now_us);
  void probe_next(int64_t now_us);
  void adopt(uint64_t peer, int64_t now_us);

  uint64_t self_;
  DiscoveryOptions options_;
  std::vector<uint64_t> candidates_;
  size_t next_ = 0;
  std::optional<uint64_t> superior_;
  std::optional<uint64_t> probing_;
  bool probing_ideal_again_ = false;
  int64_t next_scan_us_ = 0;
  std::set<uint64_t> subordinates_;
  std::vector<Action> actions_;
  uint64_t changes_ = 0;
  bool started_ = false;
};

// What a node tells the others about itself.
struct NodeRecord {
  uint64_t position = 0;
  uint64_t uid = 0;          // per process start, increasing: a restart has a higher uid
                             // (e.g. start time in µs · 2^10 + random bits)
  std::string endpoint;      // cluster address, "10.0.0.3:7070"
  std::string http;          // monitoring page address, may be empty
  std::string hostname;
  uint64_t superior = 0;     // 0 = none (a root)
  uint32_t threads = 0;      // cpu threads
  uint64_t memory_bytes = 0;
  double load = 0;           // running + queued kernels / threads, updated at most 1/s
  uint32_t jobs = 0;         // jobs running with their main kernel here
  uint64_t version = 0;      // bumped by the owner on every change
  friend bool operator==(const NodeRecord&, const NodeRecord&) = default;
};

class NodeTable {
 public:
  explicit NodeTable(NodeRecord self);

  // Replaces our own record; true if anything but the version changed — only then is the
  // version bumped (to max(old, given) + 1) and the record must be sent to every link.
  bool update_self(NodeRecord self);
  const NodeRecord& self() const;

  // A record received over `link` (a neighbour's position). Returns true if it is new or
  // newer (higher uid, or the same uid and a higher version) — then it must be forwarded to
  // the other links. A lower uid (an earlier incarnation) is stale and ignored.
  // The same record arriving over another link also returns true and moves it to that link
  // when direction() points that way (its node re-attached elsewhere in the tree; a late
  // remove() over the old link is then ignored). Records about ourselves and position 0 are
  // ignored.
  bool apply(uint64_t link, const NodeRecord& record);
  // `position` left (announced over `link`). True if we knew it via that link.
  bool remove(uint64_t link, uint64_t position);
  // The link is gone: drops every record learned over it; returns their positions.
  std::vector<uint64_t> drop_link(uint64_t link);

  // Threads behind a link (sum over the records learned over it). O(log links).
  uint64_t weight(uint64_t link) const;
  // The link a record was learned over, if known.
  std::optional<uint64_t> via(uint64_t position) const;
  // The link towards `position` according to the superiors in the records: the subordinate
  // whose subtree holds it, else our superior (self().superior; nullopt for a root). The
  // owner must keep self().superior current (update_self) for this and apply() to be right.
  std::optional<uint64_t> direction(uint64_t position) const;
  // Every record (ours first), sorted by position after ours.
  std::vector<NodeRecord> all() const;
  // What to send over `link` when it is new: ours plus every record not learned over it.
  std::vector<NodeRecord> records_for(uint64_t link) const;
  // Records known, ours included.
  size_t size() const;

 private:
  void add_weight(uint64_t link, int64_t threads);

  NodeRecord self_;
  struct Entry {
    NodeRecord record;
    uint64_t link;
  };
  std::map<uint64_t, Entry> others_;
  std::map<uint64_t, uint64_t> weights_;  // link → threads behind it (no zero entries)
};

}  // namespace chiron::cluster
