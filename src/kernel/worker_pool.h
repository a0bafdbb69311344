#pragma once
// WorkerPool: the cpu or disk pipeline — N threads, each with a bounded work-stealing
// deque (WsDeque) for the acts its own kernels upstream (LIFO, cache-hot, no RMW), plus two
// shared bounded MpmcRings: `urgent_` for mailbox drains (reacts of principals, which
// release finished subordinates and feed the other pipelines) and `ring_` for work coming
// from other threads. A worker looks for work in: urgent_, its deque, ring_ (first every
// 32nd time, so outside work is never starved), the other workers' deques (steal),
// overflow_. Reacts therefore never wait behind a backlog of acts (that would serialise
// the pipelines: no write could start before all generation is done).
// Idle workers spin briefly, then park on an eventcount (futex via std::atomic::wait); a
// push costs one seq_cst store or CAS plus one load of the sleeper count.
// push() never deadlocks: a worker of this pool that finds the ring full runs a queued
// task inline; other runtime threads wait, or spill to overflow_ when every worker of
// this pool is itself blocked; external threads wait (backoff) for space.
// Thread-safe. Internal to the kernel module.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernel/device.h"
#include "kernel/mpmc_ring.h"
#include "kernel/task.h"
#include "kernel/ws_deque.h"

namespace chiron::kernel::internal {

class Scheduler;
class TraceBuffer;

class WorkerPool {
 public:
  WorkerPool(Scheduler& sched, Device device, unsigned threads, size_t capacity);
  ~WorkerPool();  // joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void start(std::vector<TraceBuffer*> lanes);
  // Enqueues t; the calling thread decides the policy (see header comment).
  void push(Task t);
  // Asks workers to exit once the runtime is quiescent; then join().
  void request_exit();
  void join();

  Device device() const { return device_; }
  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }
  // Quiescence: enqueued() - completed() tasks are queued or running.
  uint64_t enqueued() const;
  uint64_t completed() const;
  uint64_t inline_runs() const;
  uint64_t overflow_pushes() const { return overflow_pushed_.load(std::memory_order_relaxed); }
  uint64_t blocked_external() const { return blocked_external_.load(std::memory_order_relaxed); }
  bool all_workers_blocked() const {
    return blocked_workers_.load(std::memory_order_acquire) >= threads();
  }

 private:
  struct alignas(64) Worker {
    explicit Worker(size_t capacity) : local(capacity) {}
    WsDeque<Task> local;
    std::thread thread;
    std::atomic<uint64_t> completed{0};
    std::atomic<uint64_t> local_pushes{0};  // single writer: the owner
    std::atomic<uint64_t> inline_runs{0};
    unsigned pops = 0;                       // owner only: fairness tick
  };

  void worker_main(unsigned index, TraceBuffer* lane);
  bool try_pop(Task& t);
  bool try_steal(unsigned self, Task& t);
  bool try_pop_overflow(Task& t);
  MpmcRing<Task>& ring_for(Task t) { return t.op() == Task::Op::kDrain ? urgent_ : ring_; }
  bool maybe_nonempty() const;
  void run(Task t);
  void wake_one();
  void park();
  void push_same_pool(Task t);
  void push_other_worker(Task t);
  void push_external(Task t);
  void push_overflow(Task t);

  Scheduler& sched_;
  const Device device_;
  MpmcRing<Task> urgent_;
  MpmcRing<Task> ring_;
  std::vector<std::unique_ptr<Worker>> workers_;
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<uint32_t> epoch_{0};
  std::atomic<bool> exit_{false};
  alignas(64) std::atomic<unsigned> blocked_workers_{0};  // workers of THIS pool blocked elsewhere
  std::atomic<uint64_t> blocked_external_{0};
  std::mutex overflow_mu_;
  std::deque<Task> overflow_;                     // Guarded by overflow_mu_
  std::atomic<uint64_t> overflow_pushed_{0};      // written under overflow_mu_
  std::atomic<uint64_t> overflow_size_{0};        // written under overflow_mu_
};

}  // namespace chiron::kernel::internal
