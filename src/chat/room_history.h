#pragma once
// RoomHistory: one room's sequenced-event ring on this edge (ChatOptions::history_size), used to
// replay what a reconnecting client missed ("new user" with {epoch, seq}), plus the authors of
// recent messages (so an author may delete its own message while the edge remembers it).
//
// The ring only ever holds a contiguous run of seqs of one epoch: advance() reports a new epoch
// or a seq discontinuity and clears it, so since() never replays a run with a hole. A deleted
// message stays in the ring without its bytes; its tombstone (a later seq) replays instead.
// Memory: at most max(capacity, kRememberAuthors) entries, frames only for the newest capacity.
//
// Not thread-safe (the chat server guards it with its room lock).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/net.h"

namespace chiron::chat {

class RoomHistory {
 public:
  static constexpr size_t kRememberAuthors = 256;
  static constexpr size_t kMaxCapacity = 100000;

  enum class Step {
    kFirst,       // the first event this edge sees of the room
    kContinuous,  // seq == last + 1
    kStale,       // seq <= last of the same epoch: already seen, drop it
    kNewEpoch,    // the counter restarted: ring cleared
    kSeqGap,      // events were skipped: ring cleared
    kResync,      // first event after resync(): ring cleared if not contiguous, nothing to report
  };

  explicit RoomHistory(size_t capacity) : capacity_(std::min(capacity, kMaxCapacity)) {}

  // Called for every sequenced event, in order, before add().
  Step advance(std::string_view epoch, uint64_t seq);
  // Stores the event advance() accepted. author: the poster of a message, empty for others.
  void add(uint64_t seq, net::SharedFrame frame, std::string author);
  // The author of a recent message (nullopt: not remembered, or not a message).
  std::optional<std::string> author(uint64_t seq) const;
  // The message's bytes are dropped; replay skips it (its tombstone replays in its place).
  void mark_deleted(uint64_t seq);
  // The frames of every event after `seq` of `epoch`, in order; nullopt when this edge cannot
  // prove it holds all of them (history off, other epoch, too old, or not synced).
  std::optional<std::vector<net::SharedFrame>> since(std::string_view epoch, uint64_t seq) const;
  // This edge stopped listening to the room for a while (a shared bus may have carried events
  // meanwhile): recovery is refused until the next event shows whether anything was missed.
  void resync();
  // A bus gap: events may be lost. Keeps epoch and seq, clears the ring, refuses recovery
  // until the next event.
  void clear();

  const std::string& epoch() const { return epoch_; }
  uint64_t last_seq() const { return last_; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return ring_.size(); }

 private:
  struct Entry {
    uint64_t seq = 0;
    net::SharedFrame frame;  // empty: deleted, or older than the newest capacity_ entries
    std::string author;
    bool deleted = false;
  };

  const size_t capacity_;
  std::deque<Entry> ring_;  // contiguous seqs, oldest first
  std::string epoch_;
  uint64_t last_ = 0;
  bool synced_ = true;
};

}  // namespace chiron::chat
