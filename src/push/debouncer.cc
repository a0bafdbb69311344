#include "push/debouncer.h"

#include <algorithm>
#include <limits>

namespace chiron::push {

void Debouncer::touch(const std::string& path, int64_t now_ms) {
  auto [it, inserted] = entries_.try_emplace(path, Entry{now_ms, now_ms});
  if (!inserted) it->second.last_ms = std::max(it->second.last_ms, now_ms);
}

int64_t Debouncer::due_at(const Entry& e) const {
  return std::min(e.last_ms + quiet_ms_, e.first_ms + max_ms_);
}

std::vector<std::string> Debouncer::take_due(int64_t now_ms) {
  std::vector<std::string> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (due_at(it->second) <= now_ms) {
      out.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::string> Debouncer::take_all() {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (auto& [path, e] : entries_) out.push_back(path);
  entries_.clear();
  return out;
}

int64_t Debouncer::next_due_ms() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& [path, e] : entries_) next = std::min(next, due_at(e));
  return next;
}

}  // namespace chiron::push
