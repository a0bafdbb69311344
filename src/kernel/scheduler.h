#pragma once
// Scheduler: the engine behind Runtime. Owns the pipelines and implements the kernel
// protocol: upstream → route to a device (or the timer heap) → act → commit → delivery to
// the principal's mailbox → serialised react. See the DESIGN block in kernel/kernel.h.
// Thread-safe. Internal to the kernel module.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "kernel/kernel.h"
#include "kernel/task.h"
#include "kernel/trace_log.h"

namespace chiron::kernel::internal {

class NetPool;
class TimerPipeline;
class WorkerPool;

struct RootHook {
  std::function<void(std::unique_ptr<Kernel>)> on_done;
};

class Scheduler {
 public:
  Scheduler(Runtime& facade, const RuntimeOptions& options);
  ~Scheduler();

  // Lifecycle and public entry points (scheduler_lifecycle.cc).
  Status start();
  void stop();
  void submit(std::unique_ptr<Kernel> root, std::function<void(std::unique_ptr<Kernel>)> on_done);
  bool post(Device device, std::function<void()> fn);
  RuntimeStats stats() const;
  bool running() const { return state_.load(std::memory_order_acquire) == State::kRunning; }
  NetPool* net() { return net_.get(); }
  TimerPipeline* timer() { return timer_.get(); }
  TraceLog& trace_log() { return trace_; }
  unsigned threads(Device device) const;

  // Kernel protocol (scheduler.cc).
  void upstream(Kernel* principal, std::unique_ptr<Kernel> child);
  void commit_foreign(Kernel* k);
  void resume(Kernel* k);
  // Called by the pipelines on their threads.
  void run_task(Task t);
  // Hands a ready kernel to its device.
  void dispatch(Kernel* k);
  // Delivers k to its principal as finished with `why`, without running it.
  void cancel(Kernel* k, Status why);

  Runtime& runtime() { return facade_; }
  const Clock& clock() const { return *options_.clock; }

 private:
  enum class State : int { kCreated, kRunning, kStopping, kStopped };

  void prepare(Kernel* k, Kernel* principal);
  void route(Kernel* k);
  void push(Kernel* owner, Task t);
  void execute_act(Kernel* k);
  void drain(Kernel* k);
  void take_mail(Kernel* k, Kernel* c);
  void react_one(Kernel* k, Kernel* child);
  bool can_drain_here(const Kernel* box) const;
  void fail(Kernel* k, const char* where, const std::string& what);
  // traced: the committed/failed event was already recorded.
  void deliver(Kernel* k, bool traced = false);
  void push_mail(Kernel* box, Kernel* item);
  void finish_root(Kernel* k);
  bool quiescent() const;
  void stop_locked();
  bool enter_external();
  void leave_external();

  void trace(TraceKind kind, const Kernel* k, uint64_t child = 0) {
    if (trace_on_) [[unlikely]] {
      // The result is read only once it is final (a foreign commit may be writing it while
      // the executor records act_begin/act_end).
      const bool final = kind == TraceKind::kCommitted || kind == TraceKind::kFailed ||
                         kind == TraceKind::kActEndCommitted || kind == TraceKind::kActEndFailed;
      trace_.record(kind, k->id_, k->device_, typeid(*k), child, final ? k->result_.code() : StatusCode::kOk);
    }

  }

  Runtime& facade_;
  RuntimeOptions options_;
  const bool trace_on_;
  TraceLog trace_;
  std::unique_ptr<WorkerPool> cpu_;
  std::unique_ptr<WorkerPool> disk_;
  std::unique_ptr<NetPool> net_;
  std::unique_ptr<TimerPipeline> timer_;
  std::atomic<State> state_{State::kCreated};
  std::mutex lifecycle_mu_;  // serialises start()/stop()
  std::atomic<uint64_t> live_roots_{0};
  std::atomic<uint64_t> external_inflight_{0};
  std::atomic<uint64_t> timers_cancelled_{0};
};

}  // namespace chiron::kernel::internal
