#pragma once
// Injectable clock. Code asks a Clock for time instead of calling
// std::chrono directly, so tests can drive time with ManualClock.
// SystemClock: thread-safe. ManualClock: thread-safe (atomic).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace chiron {

// RFC 3339 UTC with milliseconds, e.g. "2026-01-02T03:04:05.678Z" (logs, API timestamps).
std::string format_utc_ms(int64_t unix_ms);

class Clock {
 public:
  using Duration = std::chrono::microseconds;
  virtual ~Clock() = default;
  // Monotonic time since an arbitrary epoch; never goes backwards.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Wall-clock time (may jump).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;

  int64_t steady_us() const {
    return std::chrono::duration_cast<Duration>(steady_now().time_since_epoch()).count();
  }
  int64_t unix_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(wall_now().time_since_epoch()).count();
  }

  // The process-wide real clock.
  static const Clock& system();
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_ms = 1'700'000'000'000) : steady_us_(1'000'000), unix_us_(start_unix_ms * 1000) {}
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(Duration(steady_us_.load()));
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::time_point(Duration(unix_us_.load()));
  }
  void advance(Duration d) {
    steady_us_ += d.count();
    unix_us_ += d.count();
  }

 private:
  std::atomic<int64_t> steady_us_;
  std::atomic<int64_t> unix_us_;
};

}  // namespace chiron
