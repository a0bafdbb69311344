#include "chat/room_moderation.h"

#include <algorithm>

namespace chiron::chat {

template <class Map, class Until>
void RoomModeration::make_room(Map& map, int64_t now_ms, Until until) {
  if (map.size() < kMaxEntries) return;
  std::erase_if(map, [&](const auto& kv) { return until(kv.second) <= now_ms; });
  while (map.size() >= kMaxEntries) {
    auto soonest = std::min_element(map.begin(), map.end(),
                                    [&](const auto& a, const auto& b) { return until(a.second) < until(b.second); });
    map.erase(soonest);
  }
}

void RoomModeration::ban(const std::string& user, int64_t until_ms, std::string reason, int64_t now_ms) {
  if (until_ms <= now_ms) {
    bans_.erase(user);
    return;
  }
  if (!bans_.contains(user)) make_room(bans_, now_ms, [](const Ban& b) { return b.until_ms; });
  bans_[user] = Ban{until_ms, std::move(reason)};
}

void RoomModeration::mute(const std::string& user, int64_t until_ms, int64_t now_ms) {
  if (until_ms <= now_ms) {
    mutes_.erase(user);
    return;
  }
  if (!mutes_.contains(user)) make_room(mutes_, now_ms, [](int64_t u) { return u; });
  mutes_[user] = until_ms;
}

std::optional<RoomModeration::Ban> RoomModeration::ban_of(const std::string& user, int64_t now_ms) const {
  auto it = bans_.find(user);
  if (it == bans_.end() || it->second.until_ms <= now_ms) return std::nullopt;
  return it->second;
}

std::optional<int64_t> RoomModeration::muted_until(const std::string& user, int64_t now_ms) const {
  auto it = mutes_.find(user);
  if (it == mutes_.end() || it->second <= now_ms) return std::nullopt;
  return it->second;
}

bool RoomModeration::empty(int64_t now_ms) const {
  if (slow_seconds_ > 0) return false;
  for (const auto& [user, b] : bans_)
    if (b.until_ms > now_ms) return false;
  for (const auto& [user, until] : mutes_)
    if (until > now_ms) return false;
  return true;
}

bool RoomModeration::try_post(const std::string& user, int64_t now_ms, int64_t* wait_ms) {
  if (slow_seconds_ == 0) return true;
  const int64_t window_ms = int64_t{slow_seconds_} * 1000;
  auto it = last_post_.find(user);
  if (it != last_post_.end() && now_ms - it->second < window_ms) {
    if (wait_ms != nullptr) *wait_ms = window_ms - (now_ms - it->second);
    return false;
  }
  if (it == last_post_.end()) {
    make_room(last_post_, now_ms - window_ms, [](int64_t last) { return last; });
    last_post_[user] = now_ms;
  } else {
    it->second = now_ms;
  }
  return true;
}

}  // namespace chiron::chat
