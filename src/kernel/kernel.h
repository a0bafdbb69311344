#pragma once
// DESIGN — kernel: the micro-kernel runtime of the middleware paper
// (../shared/papers/middleware-big-data-micro-kernels.txt, §4.1, Listing 1).
//
// What it does. Work is a tree of Kernel objects. A principal creates subordinates with
// upstream(child); each child runs act() on the pipeline of its Device and finishes with
// commit(status), which returns it to its principal's react(child). The root's commit
// ends the job: Runtime::run() returns the root's exit code.
//
// Pipelines (one per device, so compute and I/O overlap, paper §4.1):
//   cpu    N threads (N = cores). Each worker has a bounded Chase–Lev deque for the acts
//          its kernels upstream (LIFO, stolen by idle workers); shared bounded lock-free
//          MPMC rings (Vyukov) take drains (first, so reacts never wait behind acts) and
//          work from other threads. Idle workers spin, then park on a futex eventcount.
//   disk   2 threads by default, same design, for blocking file I/O / fsync / SQLite
//   net    one boost::asio::io_context per thread; a kernel stays on one context for life
//   timer  one thread, a min-heap of due kernels; when due (never early, per the injected
//          Clock) a kernel moves to its own device. Device::kTimer runs act on that thread.
//
// Ordering guarantees (no locks needed in user code):
//   * act() of a kernel happens-before every react() on it: a principal's mailbox of
//     returned children is opened only after act() returns.
//   * all react() calls of one principal are serialised: the mailbox is an intrusive
//     lock-free MPSC stack drained by one task at a time (actor-style). The order of
//     reacts among subordinates is unspecified (each batch is drained newest first).
//   * an exception thrown by act()/react() becomes Status::internal(what()) and the kernel
//     commits with it (or keeps its error if it had committed) — never a crash.
//   * a principal is returned to ITS principal only after all its subordinates returned.
//     If it commits while subordinates are outstanding, its delivery is delayed until the
//     last one returned; those late subordinates are destroyed WITHOUT react().
//
// Ownership: a kernel is owned by exactly one place at a time, always as unique_ptr in the
// API: the submitter → the runtime (queued/running/waiting) → its principal's react(), or
// the on_done callback of a root. Kernels are allocated from a thread-caching pool
// (Kernel::operator new); memory of freed kernels is kept for reuse. A kernel that never
// commits is never destroyed (the runtime cannot know it is finished);
// Runtime::stats().live_roots shows unfinished jobs.
//
// Threading: act/react run on the kernel's device. upstream() and commit() are meant to be
// called from the kernel's own act()/react(); both may also be called later from another
// thread the kernel handed work to (e.g. an Asio completion handler). Such a call must not
// race with the kernel's own react() on the kernel's user state (the runtime's own state
// is safe): e.g. let the handler commit only when no subordinate is outstanding.
// Backpressure: external threads block when a queue is full; a worker of the same pool
// runs a queued task inline instead; a worker of another pool waits unless that could
// deadlock (all target workers blocked too), then spills to a lock-protected overflow list.
// Runtime::stop() refuses new external work, cancels pending timers (their principals get
// Status::cancelled), drains until no task is queued or running, and joins all threads.
// Tracing (RuntimeOptions::trace): per-thread single-writer event buffers, written as JSON
// lines by Runtime::write_trace(); render_trace_svg() draws the paper's event plot.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kernel/device.h"
#include "kernel/runtime.h"
#include "kernel/trace_reader.h"
#include "kernel/trace_svg.h"

namespace chiron::kernel {

namespace internal {
class Scheduler;
struct RootHook;
}  // namespace internal

// A unit of work with a place in the subordination tree. Subclass and override act()
// (and react() if it has subordinates). Confined to its executor (see DESIGN) while running.
class Kernel {
 public:
  Kernel() = default;
  explicit Kernel(Device device) : device_(device) {}
  virtual ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Kernels come from a thread-caching pool (see kernel_alloc.h); make_unique uses it.
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
  static void* operator new(std::size_t size, std::align_val_t align);
  static void operator delete(void* p, std::size_t size, std::align_val_t align) noexcept;

  // Runs once on the kernel's device. Default: commit().
  virtual void act();
  // Receives each returned subordinate (ownership included). Default: drops it.
  virtual void react(std::unique_ptr<Kernel> child);

  // Schedules child as a subordinate of this kernel. Only while this kernel is running and
  // has not committed. A kernel returned to react() may be upstreamed again (it is reset).
  void upstream(std::unique_ptr<Kernel> child);
  // Finishes this kernel; it is handed to its principal's react() (or ends the job if it
  // is the root) once all its own subordinates returned. Call exactly once.
  void commit(Status result = {});
  // As commit(), with an exit code (root: the job's exit code). Non-zero = error result.
  void commit(int exit_code);

  // Configuration; call before the kernel is upstreamed/submitted.
  void set_device(Device device) { device_ = device; }
  // Run no earlier than `delay` after upstream()/submit (measured on the runtime's Clock).
  void after(std::chrono::microseconds delay);
  // Run no earlier than `due` (a time point of the runtime's Clock::steady_now()).
  void at(std::chrono::steady_clock::time_point due);

  Device device() const { return device_; }
  // Unique within the process; assigned when scheduled (0 before).
  uint64_t id() const { return id_; }
  // The committed result; read it in the principal's react().
  const Status& result() const { return result_; }
  int exit_code() const { return exit_code_; }
  // Borrowed; null for a root.
  Kernel* principal() const { return principal_; }
  // The runtime this kernel is scheduled on; only valid once scheduled.
  Runtime& runtime() const;
  // Demangled class name without namespaces ("Generate"), as used in traces.
  std::string type_name() const;

 protected:
  // What the runtime calls on the kernel's device when the kernel is due; default: act().
  // Layers above the runtime override it to run act() elsewhere (the cluster sends the
  // kernel to another node and commits it when it returns) or to resume a recovered kernel.
  // The act()/react() ordering rules apply to whatever it does.
  virtual void run() { act(); }
  // Suspension (for layers that decide later where act() runs, like the cluster): called in
  // run(), suspend() makes the runtime treat this run as not having happened — act() is not
  // over, the mailbox stays closed; resume() (any thread, once per suspend()) makes the
  // kernel due again and run() is called again on its device. Nothing may be upstreamed or
  // committed between suspend() and the next run().
  void suspend();
  void resume();
  // Undoes suspend() within the same run() (when the reason to wait went away before anyone
  // could resume()).
  void cancel_suspend();
  // Called by the runtime once the kernel is done — committed and every subordinate
  // returned — just before it goes to its principal's react() (or ends its job), on
  // whatever thread finished it. Keep it short. Default: nothing.
  virtual void finished() {}

 private:
  friend class internal::Scheduler;
  void commit_with(Status result, int exit_code);

  internal::Scheduler* sched_ = nullptr;
  Kernel* principal_ = nullptr;
  internal::RootHook* root_hook_ = nullptr;  // owned; roots only
  Kernel* mail_next_ = nullptr;              // link in the principal's mailbox
  // Returned subordinates (LIFO list), or kIdle; nullptr = empty and being drained.
  std::atomic<Kernel*> mailbox_{nullptr};
  std::atomic<uint32_t> foreign_spawned_{0};  // upstreams from outside the executor
  uint32_t spawned_ = 0;                      // executor only
  uint32_t returned_ = 0;                     // executor only
  std::atomic<bool> commit_called_{false};
  // 0 idle, 1 suspending (run() called suspend()), 2 suspended, 3 resume asked while suspending
  std::atomic<uint8_t> suspend_state_{0};
  bool committed_ = false;  // executor's view of commit
  Device device_ = Device::kCpu;
  uint16_t net_lane_ = 0xffff;  // io_context index, fixed at first scheduling
  int exit_code_ = 0;
  uint64_t id_ = 0;
  int64_t due_us_ = -1;    // absolute, Clock::steady_us(); -1 = none
  int64_t delay_us_ = -1;  // relative, resolved when scheduled
  Status result_;
};

}  // namespace chiron::kernel
