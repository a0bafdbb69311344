#pragma once
// Runtime: owns the device pipelines (cpu, disk, net, timer) and runs kernel trees on them.
// See the DESIGN block in kernel/kernel.h. Thread-safe (every method may be called from any
// thread), except that start()/stop() must not race with each other.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kernel/device.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::kernel {

class Kernel;
namespace internal {
class Scheduler;
}  // namespace internal

struct RuntimeOptions {
  unsigned cpu_threads = 0;  // 0 = std::thread::hardware_concurrency()
  unsigned disk_threads = 2;
  unsigned net_threads = 1;
  // Capacity of every cpu/disk queue (each worker's deque and each shared ring; rounded up
  // to a power of two, min 2) and the bound on queued net tasks for external submitters.
  size_t queue_capacity = 8192;
  bool trace = false;                      // record the event log (see write_trace)
  const Clock* clock = &Clock::system();  // borrowed; must outlive the Runtime
};

// Counters; a consistent snapshot is not guaranteed while the runtime runs.
struct RuntimeStats {
  uint64_t tasks_run = 0;          // acts, mailbox drains and posted functions
  uint64_t inline_runs = 0;        // tasks a worker ran inline because its queue was full
  uint64_t overflow_pushes = 0;    // cross-pool pushes spilled to avoid a deadlock
  uint64_t timers_cancelled = 0;   // due kernels cancelled by stop()
  uint64_t blocked_submitters = 0; // external threads waiting for queue space right now
  uint64_t live_roots = 0;         // submitted roots whose job has not ended
  uint64_t trace_events = 0;
  uint64_t trace_dropped = 0;      // events lost because a per-thread buffer was full
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();  // stop()s
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts all threads. Fails on bad options, on a second start, or if threads cannot start.
  Status start();
  // Refuses new external work, cancels pending timers (delivered as Status::cancelled),
  // runs everything queued until no task is queued or running, stops the io_contexts and
  // joins all threads. Idempotent. Stop services using net_contexts() before this. Must
  // not be called on one of this runtime's threads.
  void stop();

  // Runs a job: blocks until `root` commits (and all its subordinates returned); returns
  // its exit code. Returns 1 (root cancelled) if the runtime is not running. Must not be
  // called on a runtime thread (it would block a worker); use submit() there.
  int run(std::unique_ptr<Kernel> root);
  // Starts a job without waiting. on_done receives the finished root on a runtime thread
  // (keep it short). After stop() the root is handed back at once with Status::cancelled.
  void submit(std::unique_ptr<Kernel> root, std::function<void(std::unique_ptr<Kernel>)> on_done);
  // Runs fn on a thread of `device` (services use it). Blocks while the queue is full.
  // Returns false (and drops fn) if the runtime is not running.
  [[nodiscard]] bool post(Device device, std::function<void()> fn);

  // The net pipeline's io_contexts, one per net thread (valid until the Runtime dies).
  std::vector<boost::asio::io_context*> net_contexts();
  // The io_context of the calling net thread, or nullptr on any other thread.
  static boost::asio::io_context* current_net_context();

  // Writes the event log as JSON lines (one event per line, sorted by time). Requires
  // RuntimeOptions::trace; may be called while running (events so far) or after stop().
  Status write_trace(const std::string& jsonl_path);
  // Tells the timer thread the Clock moved (tests advancing a ManualClock call this).
  void wake_timers();

  // True between a successful start() and the beginning of stop().
  bool running() const;
  RuntimeStats stats() const;
  const Clock& clock() const;
  unsigned threads(Device device) const;

 private:
  std::unique_ptr<internal::Scheduler> sched_;
};

}  // namespace chiron::kernel
