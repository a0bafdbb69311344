// Node discovery as sans-I/O state machines (discovery.h; subordination.md §2 "Protocol").

#include "cluster/discovery.h"

#include <utility>

#include "cluster/tree.h"
#include "common/check.h"

namespace chiron::cluster {

// ---- Discoverer ----

Discoverer::Discoverer(uint64_t self, DiscoveryOptions options)
    : self_(self),
      options_(options),
      candidates_(candidate_order(self, options.fanout, options.max_candidates)) {
  CHIRON_CHECK(self_ >= 1, "Discoverer: positions start at 1");
  CHIRON_CHECK(options_.scan_interval_us > 0, "Discoverer: scan interval must be positive");
}

void Discoverer::start(int64_t now_us) {
  if (started_) return;
  started_ = true;
  begin_walk(now_us);
}

void Discoverer::begin_walk(int64_t now_us) {
  next_ = 0;
  probing_ideal_again_ = false;
  probe_next(now_us);
}

void Discoverer::probe_next(int64_t now_us) {
  if (next_ >= candidates_.size()) {
    // The list is used up: a root for now, walk again after the scan interval.
    probing_.reset();
    next_scan_us_ = now_us + options_.scan_interval_us;
    return;
  }
  probing_ = candidates_[next_];
  actions_.push_back({Action::Kind::kProbe, *probing_});
}

void Discoverer::adopt(uint64_t peer, int64_t now_us) {
  superior_ = peer;
  ++changes_;
  next_scan_us_ = now_us + options_.scan_interval_us;
}

void Discoverer::on_probe_result(uint64_t peer, bool accepted, int64_t now_us) {
  if (!probing_ || *probing_ != peer) {
    // A stale answer (we gave up on that probe): a peer that took us in must be told we left.
    if (accepted && superior_ != peer) actions_.push_back({Action::Kind::kDetach, peer});
    return;
  }
  probing_.reset();
  if (probing_ideal_again_) {
    probing_ideal_again_ = false;
    if (accepted) {
      const std::optional<uint64_t> old = superior_;
      adopt(peer, now_us);
      if (old && *old != peer) actions_.push_back({Action::Kind::kDetach, *old});
    } else {
      next_scan_us_ = now_us + options_.scan_interval_us;
    }
    return;
  }
  if (accepted) {
    adopt(peer, now_us);
    return;
  }
  ++next_;
  probe_next(now_us);
}

void Discoverer::on_superior_lost(int64_t now_us) {
  if (!superior_) return;
  superior_.reset();
  if (probing_ && probing_ideal_again_) {
    // The outstanding probe of the ideal superior is the first step of the walk anyway.
    probing_ideal_again_ = false;
    next_ = 0;
    return;
  }
  begin_walk(now_us);
}

void Discoverer::on_tick(int64_t now_us) {
  if (!started_ || probing_ || candidates_.empty() || now_us < next_scan_us_) return;
  if (!superior_) {
    begin_walk(now_us);  // rescan as a root
  } else if (*superior_ != ideal()) {
    probing_ideal_again_ = true;
    probing_ = ideal();
    actions_.push_back({Action::Kind::kProbe, ideal()});
  }
}

void Discoverer::on_subordinate(uint64_t peer, bool attached) {
  if (attached) {
    subordinates_.insert(peer);
  } else {
    subordinates_.erase(peer);
  }
}

std::vector<Discoverer::Action> Discoverer::take_actions() { return std::exchange(actions_, {}); }

uint64_t Discoverer::self() const { return self_; }
std::optional<uint64_t> Discoverer::superior() const { return superior_; }
uint64_t Discoverer::ideal() const { return ideal_superior(self_, options_.fanout); }
const std::set<uint64_t>& Discoverer::subordinates() const { return subordinates_; }
std::optional<uint64_t> Discoverer::probing() const { return probing_; }
uint64_t Discoverer::changes() const { return changes_; }
bool Discoverer::accepts(uint64_t prober) const { return prober > self_; }

// ---- NodeTable ----

namespace {
bool same_but_version(NodeRecord a, const NodeRecord& b) {
  a.version = b.version;
  return a == b;
}
}  // namespace

NodeTable::NodeTable(NodeRecord self) : self_(std::move(self)) {}

bool NodeTable::update_self(NodeRecord self) {
  if (same_but_version(self, self_)) return false;
  const uint64_t version = std::max(self.version, self_.version) + 1;
  self_ = std::move(self);
  self_.version = version;
  return true;
}

const NodeRecord& NodeTable::self() const { return self_; }

void NodeTable::add_weight(uint64_t link, int64_t threads) {
  auto& w = weights_[link];
  w = static_cast<uint64_t>(static_cast<int64_t>(w) + threads);
  if (w == 0) weights_.erase(link);
}

bool NodeTable::apply(uint64_t link, const NodeRecord& record) {
  if (record.position == 0 || record.position == self_.position) return false;
  auto it = others_.find(record.position);
  if (it == others_.end()) {
    others_.emplace(record.position, Entry{record, link});
    add_weight(link, record.threads);
    return true;
  }
  Entry& e = it->second;
  // A later process start (higher uid) or a later version of the same one; copies of an
  // earlier incarnation still travelling after a restart are stale.
  if (record.uid < e.record.uid) return false;
  const bool newer = record.uid > e.record.uid || record.version > e.record.version;
  // The same record over another link: its node may have moved in the tree (its subtree
  // re-attached elsewhere without changing its own record). Believe the new link only if
  // the superiors we know say the node lies that way; otherwise two copies crossing on a
  // link would make each side believe the node is behind the other, forever.
  const bool moved = record.uid == e.record.uid && record.version == e.record.version && link != e.link &&
                     direction(record.position) == link;
  if (!newer && !moved) return false;
  add_weight(e.link, -static_cast<int64_t>(e.record.threads));
  e.record = record;
  e.link = link;
  add_weight(link, record.threads);
  return true;
}

bool NodeTable::remove(uint64_t link, uint64_t position) {
  auto it = others_.find(position);
  if (it == others_.end() || it->second.link != link) return false;
  add_weight(link, -static_cast<int64_t>(it->second.record.threads));
  others_.erase(it);
  return true;
}

std::vector<uint64_t> NodeTable::drop_link(uint64_t link) {
  std::vector<uint64_t> dropped;
  for (auto it = others_.begin(); it != others_.end();) {
    if (it->second.link == link) {
      dropped.push_back(it->first);
      it = others_.erase(it);
    } else {
      ++it;
    }
  }
  weights_.erase(link);
  return dropped;
}

uint64_t NodeTable::weight(uint64_t link) const {
  auto it = weights_.find(link);
  return it == weights_.end() ? 0 : it->second;
}

std::optional<uint64_t> NodeTable::direction(uint64_t position) const {
  // Superiors are lower positions, so the walk up from `position` ends; once below our own
  // position it cannot come through us.
  uint64_t p = position;
  while (p > self_.position) {
    auto it = others_.find(p);
    if (it == others_.end()) break;
    const uint64_t s = it->second.record.superior;
    if (s == self_.position) return p;
    if (s == 0 || s >= p) break;
    p = s;
  }
  if (self_.superior != 0) return self_.superior;
  return std::nullopt;
}

std::optional<uint64_t> NodeTable::via(uint64_t position) const {
  auto it = others_.find(position);
  if (it == others_.end()) return std::nullopt;
  return it->second.link;
}

std::vector<NodeRecord> NodeTable::all() const {
  std::vector<NodeRecord> out;
  out.reserve(others_.size() + 1);
  out.push_back(self_);
  for (const auto& [pos, e] : others_) out.push_back(e.record);
  return out;
}

std::vector<NodeRecord> NodeTable::records_for(uint64_t link) const {
  std::vector<NodeRecord> out;
  out.push_back(self_);
  for (const auto& [pos, e] : others_)
    if (e.link != link) out.push_back(e.record);
  return out;
}

size_t NodeTable::size() const { return others_.size() + 1; }

}  // namespace chiron::cluster
