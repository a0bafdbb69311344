#include "chat/room_history.h"

#include <algorithm>

namespace chiron::chat {

RoomHistory::Step RoomHistory::advance(std::string_view epoch, uint64_t seq) {
  if (epoch_.empty() && last_ == 0) {
    epoch_ = epoch;
    last_ = seq;
    synced_ = true;
    return Step::kFirst;
  }
  if (epoch == epoch_ && seq <= last_) return Step::kStale;
  const bool was_synced = synced_;
  synced_ = true;
  if (epoch == epoch_ && seq == last_ + 1) {
    last_ = seq;
    return was_synced ? Step::kContinuous : Step::kResync;
  }
  const bool new_epoch = epoch != epoch_;
  ring_.clear();
  epoch_ = epoch;
  last_ = seq;
  if (!was_synced) return Step::kResync;
  return new_epoch ? Step::kNewEpoch : Step::kSeqGap;
}

void RoomHistory::add(uint64_t seq, net::SharedFrame frame, std::string author) {
  if (!ring_.empty() && ring_.back().seq + 1 != seq) ring_.clear();  // keep the run contiguous
  Entry e;
  e.seq = seq;
  if (capacity_ > 0) e.frame = std::move(frame);
  e.author = std::move(author);
  ring_.push_back(std::move(e));
  if (ring_.size() > std::max(capacity_, kRememberAuthors)) ring_.pop_front();
  if (ring_.size() > capacity_) ring_[ring_.size() - 1 - capacity_].frame = {};  // keep capacity_ frames
}

std::optional<std::string> RoomHistory::author(uint64_t seq) const {
  if (ring_.empty() || seq < ring_.front().seq || seq > ring_.back().seq) return std::nullopt;
  const Entry& e = ring_[seq - ring_.front().seq];
  if (e.author.empty() || e.deleted) return std::nullopt;
  return e.author;
}

void RoomHistory::mark_deleted(uint64_t seq) {
  if (ring_.empty() || seq < ring_.front().seq || seq > ring_.back().seq) return;
  Entry& e = ring_[seq - ring_.front().seq];
  e.deleted = true;
  e.frame = {};
}

std::optional<std::vector<net::SharedFrame>> RoomHistory::since(std::string_view epoch, uint64_t seq) const {
  if (capacity_ == 0 || !synced_ || epoch != epoch_ || epoch_.empty() || seq > last_) return std::nullopt;
  std::vector<net::SharedFrame> out;
  if (seq == last_) return out;
  // The ring ends at last_ (add() follows advance()); the newest capacity_ entries keep bytes.
  if (ring_.empty() || ring_.back().seq != last_) return std::nullopt;
  const size_t held = std::min(ring_.size(), capacity_);
  const uint64_t oldest_held = ring_.back().seq + 1 - held;
  if (seq + 1 < oldest_held) return std::nullopt;
  for (size_t i = ring_.size() - held; i < ring_.size(); ++i) {
    const Entry& e = ring_[i];
    if (e.seq <= seq || e.deleted) continue;
    out.push_back(e.frame);
  }
  return out;
}

void RoomHistory::resync() { synced_ = false; }

void RoomHistory::clear() {
  ring_.clear();
  synced_ = false;
}

}  // namespace chiron::chat
