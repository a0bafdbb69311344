#include "kernel/runtime.h"

#include <condition_variable>
#include <mutex>

#include "common/check.h"
#include "kernel/kernel.h"
#include "kernel/net_pool.h"
#include "kernel/scheduler.h"
#include "kernel/timer_pipeline.h"
#include "kernel/worker_context.h"

namespace chiron::kernel {

Runtime::Runtime(RuntimeOptions options)
    : sched_(std::make_unique<internal::Scheduler>(*this, options)) {}

Runtime::~Runtime() { stop(); }

Status Runtime::start() { return sched_->start(); }

void Runtime::stop() {
  internal::WorkerContext* w = internal::tls_worker;
  CHIRON_CHECK(w == nullptr || w->sched != sched_.get(), "stop() on a runtime thread would wait for itself");
  sched_->stop();
}

int Runtime::run(std::unique_ptr<Kernel> root) {
  internal::WorkerContext* w = internal::tls_worker;
  CHIRON_CHECK(w == nullptr || w->sched != sched_.get(), "run() on a runtime thread would deadlock; use submit()");
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;  // Guarded by mu
    int exit_code = 0;  // Guarded by mu
  } waiter;
  submit(std::move(root), [&waiter](std::unique_ptr<Kernel> finished) {
    const int code = finished->exit_code();
    finished.reset();
    // Notify under the lock: once run() sees done it destroys the waiter.
    std::lock_guard<std::mutex> lock(waiter.mu);
    waiter.exit_code = code;
    waiter.done = true;
    waiter.cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(waiter.mu);
  waiter.cv.wait(lock, [&waiter] { return waiter.done; });
  return waiter.exit_code;
}

void Runtime::submit(std::unique_ptr<Kernel> root, std::function<void(std::unique_ptr<Kernel>)> on_done) {
  sched_->submit(std::move(root), std::move(on_done));
}

bool Runtime::post(Device device, std::function<void()> fn) { return sched_->post(device, std::move(fn)); }

std::vector<boost::asio::io_context*> Runtime::net_contexts() { return sched_->net()->contexts(); }

boost::asio::io_context* Runtime::current_net_context() {
  internal::WorkerContext* w = internal::tls_worker;
  return w != nullptr ? w->net_context : nullptr;
}

Status Runtime::write_trace(const std::string& jsonl_path) { return sched_->trace_log().write_jsonl(jsonl_path); }

void Runtime::wake_timers() { sched_->timer()->wake(); }

bool Runtime::running() const { return sched_->running(); }

RuntimeStats Runtime::stats() const { return sched_->stats(); }

const Clock& Runtime::clock() const { return sched_->clock(); }

unsigned Runtime::threads(Device device) const { return sched_->threads(device); }

}  // namespace chiron::kernel
