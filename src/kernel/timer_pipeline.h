#pragma once
// TimerPipeline: one thread that (1) holds kernels with a due time in a TimerHeap and
// hands each to the Scheduler when the Clock says it is due — never before — and
// (2) runs the tasks of Device::kTimer kernels. For a non-system Clock (tests) it also
// polls every millisecond, and wake() makes it re-read the clock at once.
// Thread-safe. Internal to the kernel module.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "kernel/task.h"
#include "kernel/timer_heap.h"

namespace chiron::kernel::internal {

class Scheduler;
class TraceBuffer;

class TimerPipeline {
 public:
  TimerPipeline(Scheduler& sched, const Clock& clock);
  ~TimerPipeline();  // joins
  TimerPipeline(const TimerPipeline&) = delete;
  TimerPipeline& operator=(const TimerPipeline&) = delete;

  void start(TraceBuffer* lane);
  // Keeps k until due_us. Returns false once stopping: the caller cancels k.
  [[nodiscard]] bool arm(Kernel* k, int64_t due_us);
  // Runs t on the timer thread.
  void post(Task t);
  // Refuses further arms and returns every pending kernel (in due order), after any
  // in-progress hand-off of due kernels has finished.
  std::vector<Kernel*> cancel_all();
  void wake();
  void request_exit();
  void join();

  uint64_t enqueued() const { return enqueued_.load(std::memory_order_seq_cst); }
  uint64_t completed() const { return completed_.load(std::memory_order_seq_cst); }
  size_t pending_timers();

 private:
  void thread_main(TraceBuffer* lane);

  Scheduler& sched_;
  const Clock& clock_;
  const bool poll_clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  TimerHeap heap_;           // Guarded by mu_
  std::deque<Task> tasks_;   // Guarded by mu_
  bool stopping_ = false;    // Guarded by mu_
  bool exit_ = false;        // Guarded by mu_
  bool dispatching_ = false; // Guarded by mu_
  std::atomic<uint64_t> enqueued_{0};  // written under mu_
  std::atomic<uint64_t> completed_{0};
  std::thread thread_;
};

}  // namespace chiron::kernel::internal
