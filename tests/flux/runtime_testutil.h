#pragma once
// Helpers for the fluxion runtime tests: a started kernel runtime, a countdown to wait for N
// messages without sleeping, and a gate a handler can wait on (bounded).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "kernel/runtime.h"

namespace chiron::flux::testing {

inline std::unique_ptr<kernel::Runtime> start_runtime(unsigned cpu = 4, unsigned disk = 2, unsigned net = 2,
                                                      const Clock* clock = nullptr) {
  kernel::RuntimeOptions o;
  o.cpu_threads = cpu;
  o.disk_threads = disk;
  o.net_threads = net;
  if (clock) o.clock = clock;
  auto rt = std::make_unique<kernel::Runtime>(o);
  if (!rt->start().ok()) return nullptr;
  return rt;
}

// Counts down; wait() returns true once it reached zero (false after the timeout).
class Countdown {
 public:
  explicit Countdown(int64_t n) : left_(n) {}
  void hit() {
    std::lock_guard lock(mu_);
    if (--left_ <= 0) cv_.notify_all();
  }
  bool wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return left_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t left_;  // Guarded by mu_
};

// A gate closed until open(); wait() is bounded.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;  // Guarded by mu_
};

// Records the highest value an in-flight counter reached.
struct InFlight {
  std::atomic<int> now{0};
  std::atomic<int> max{0};
  void enter() {
    int v = now.fetch_add(1) + 1;
    int m = max.load();
    while (v > m && !max.compare_exchange_weak(m, v)) {
    }
  }
  void leave() { now.fetch_sub(1); }
};

}  // namespace chiron::flux::testing
