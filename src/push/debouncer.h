#pragma once
// Debouncer: coalesces bursts of changes per path. A path becomes due once it has been quiet for
// quiet_ms since its last change, or max_ms after its first change while changes keep coming (an
// editor writing a file continuously still gets synced). Time is passed in (milliseconds of a
// monotonic clock), so the logic is a pure state machine. Not thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chiron::push {

class Debouncer {
 public:
  Debouncer(int64_t quiet_ms, int64_t max_ms) : quiet_ms_(quiet_ms), max_ms_(max_ms < quiet_ms ? quiet_ms : max_ms) {}

  // Records a change of `path` at `now_ms`.
  void touch(const std::string& path, int64_t now_ms);
  // Removes and returns the paths due at `now_ms`, sorted.
  std::vector<std::string> take_due(int64_t now_ms);
  // Removes and returns every pending path (shutdown, --once, rescans), sorted.
  std::vector<std::string> take_all();
  // The earliest time a pending path becomes due; INT64_MAX when nothing is pending.
  int64_t next_due_ms() const;
  size_t pending() const { return entries_.size(); }

 private:
  struct Entry {
    int64_t first_ms;
    int64_t last_ms;
  };
  int64_t due_at(const Entry& e) const;

  int64_t quiet_ms_;
  int64_t max_ms_;
  std::map<std::string, Entry> entries_;
};

}  // namespace chiron::push
