#pragma once
// RoomModeration: what this edge knows of a room's bans, mutes and slow mode (learned from bus
// signals, so every edge converges), and the slow-mode clock of the users posting here.
// Times are unix ms (the protocol's "until"). Bounded: at most kMaxEntries bans, mutes and
// slow-mode clocks each; expired entries are pruned first, then the soonest to expire.
//
// Not thread-safe (the chat server guards it with its room lock).

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace chiron::chat {

class RoomModeration {
 public:
  static constexpr size_t kMaxEntries = 10000;

  struct Ban {
    int64_t until_ms = 0;
    std::string reason;
  };

  // until_ms <= now lifts.
  void ban(const std::string& user, int64_t until_ms, std::string reason, int64_t now_ms);
  void mute(const std::string& user, int64_t until_ms, int64_t now_ms);
  void set_slow(uint32_t seconds) { slow_seconds_ = seconds; }

  std::optional<Ban> ban_of(const std::string& user, int64_t now_ms) const;
  std::optional<int64_t> muted_until(const std::string& user, int64_t now_ms) const;
  uint32_t slow_seconds() const { return slow_seconds_; }
  // Nothing in force (slow-mode clocks aside).
  bool empty(int64_t now_ms) const;
  // Slow mode: true when the user may post now (and starts its window); otherwise false and
  // *wait_ms is how long until it may.
  bool try_post(const std::string& user, int64_t now_ms, int64_t* wait_ms);

 private:
  template <class Map, class Until>
  static void make_room(Map& map, int64_t now_ms, Until until);

  std::unordered_map<std::string, Ban> bans_;
  std::unordered_map<std::string, int64_t> mutes_;      // user → until
  std::unordered_map<std::string, int64_t> last_post_;  // user → unix ms of the last post (slow mode)
  uint32_t slow_seconds_ = 0;
};

}  // namespace chiron::chat
