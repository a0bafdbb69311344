#include "kernel/timer_pipeline.h"

#include <chrono>

#include "kernel/scheduler.h"
#include "kernel/worker_context.h"

namespace chiron::kernel::internal {
namespace {

// With a non-system Clock the thread cannot sleep until a real deadline, so it re-reads
// the clock at least this often (and at once on wake()).
constexpr std::chrono::milliseconds kPollInterval{1};

}  // namespace

TimerPipeline::TimerPipeline(Scheduler& sched, const Clock& clock)
    : sched_(sched), clock_(clock), poll_clock_(&clock != &Clock::system()) {}

TimerPipeline::~TimerPipeline() {
  request_exit();
  join();
}

void TimerPipeline::start(TraceBuffer* lane) {
  thread_ = std::thread([this, lane] { thread_main(lane); });
}

bool TimerPipeline::arm(Kernel* k, int64_t due_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  const bool earliest = !heap_.next_due_us() || due_us < *heap_.next_due_us();
  heap_.push(due_us, k);
  if (earliest) cv_.notify_one();
  return true;
}

void TimerPipeline::post(Task t) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.push_back(t);
  enqueued_.store(enqueued_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
  cv_.notify_one();
}

std::vector<Kernel*> TimerPipeline::cancel_all() {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.wait(lock, [this] { return !dispatching_; });
  return heap_.take_all();
}

void TimerPipeline::wake() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_one();
}

void TimerPipeline::request_exit() {
  std::lock_guard<std::mutex> lock(mu_);
  exit_ = true;
  cv_.notify_all();
}

void TimerPipeline::join() {
  if (thread_.joinable()) thread_.join();
}

size_t TimerPipeline::pending_timers() {
  std::lock_guard<std::mutex> lock(mu_);
  return heap_.size();
}

void TimerPipeline::thread_main(TraceBuffer* lane) {
  WorkerContext ctx;
  ctx.sched = &sched_;
  ctx.device = Device::kTimer;
  ctx.trace = lane;
  ctx.trace_log = lane != nullptr ? &sched_.trace_log() : nullptr;
  ctx.completed = &completed_;
  tls_worker = &ctx;
  std::vector<Kernel*> due;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!tasks_.empty()) {
      Task t = tasks_.front();
      tasks_.pop_front();
      lock.unlock();
      sched_.run_task(t);
      bump(completed_);
      lock.lock();
      continue;
    }
    if (exit_) break;
    const int64_t now_us = clock_.steady_us();
    due.clear();
    if (heap_.pop_due(now_us, due) > 0) {
      // Hand-off outside the lock: a full cpu queue may block us, and workers arming
      // timers must not wait for that.
      dispatching_ = true;
      lock.unlock();
      for (Kernel* k : due) sched_.dispatch(k);
      lock.lock();
      dispatching_ = false;
      cv_.notify_all();
      continue;
    }
    if (auto next = heap_.next_due_us()) {
      std::chrono::microseconds wait(*next - now_us);
      if (poll_clock_ && wait > kPollInterval) wait = kPollInterval;
      cv_.wait_for(lock, wait);
    } else if (poll_clock_) {
      cv_.wait_for(lock, kPollInterval);
    } else {
      cv_.wait(lock);
    }
  }
  tls_worker = nullptr;
}

}  // namespace chiron::kernel::internal
