// Scheduler lifecycle (start/stop), the public entry points (submit/post) and stats.
// External callers pass through a gate (external_inflight_) so stop() never shuts a
// pipeline down under a submitter that saw the runtime running.
#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

#include "common/check.h"
#include "common/log.h"
#include "kernel/backoff.h"
#include "kernel/net_pool.h"
#include "kernel/scheduler.h"
#include "kernel/timer_pipeline.h"
#include "kernel/worker_pool.h"

namespace chiron::kernel::internal {
namespace {

unsigned resolve_cpu_threads(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::vector<TraceBuffer*> make_lanes(TraceLog& log, std::string_view device, unsigned n) {
  std::vector<TraceBuffer*> lanes(n, nullptr);
  if (!log.enabled()) return lanes;
  for (unsigned i = 0; i < n; ++i) lanes[i] = log.add_lane(std::string(device) + "/" + std::to_string(i));
  return lanes;
}

}  // namespace

Scheduler::Scheduler(Runtime& facade, const RuntimeOptions& options)
    : facade_(facade),
      options_(options),
      trace_on_(options.trace),
      trace_(options.clock != nullptr ? *options.clock : Clock::system(), options.trace) {
  if (options_.clock == nullptr) options_.clock = &Clock::system();
  options_.cpu_threads = resolve_cpu_threads(options_.cpu_threads);
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 2);
  cpu_ = std::make_unique<WorkerPool>(*this, Device::kCpu, options_.cpu_threads, options_.queue_capacity);
  disk_ = std::make_unique<WorkerPool>(*this, Device::kDisk, options_.disk_threads, options_.queue_capacity);
  net_ = std::make_unique<NetPool>(*this, options_.net_threads, options_.queue_capacity);
  timer_ = std::make_unique<TimerPipeline>(*this, *options_.clock);
}

Scheduler::~Scheduler() { stop(); }

Status Scheduler::start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (state_.load() != State::kCreated) return Status::failed_precondition("runtime: start() called twice");
  if (options_.disk_threads == 0) return Status::invalid_argument("runtime: disk_threads must be >= 1");
  if (options_.net_threads == 0) return Status::invalid_argument("runtime: net_threads must be >= 1");
  if (options_.net_threads > 0xfffe) return Status::invalid_argument("runtime: too many net threads");
  try {
    cpu_->start(make_lanes(trace_, "cpu", cpu_->threads()));
    disk_->start(make_lanes(trace_, "disk", disk_->threads()));
    net_->start(make_lanes(trace_, "net", net_->threads()));
    timer_->start(make_lanes(trace_, "timer", 1)[0]);
  } catch (const std::system_error& e) {
    state_.store(State::kRunning);  // let stop_locked() join what did start
    stop_locked();
    return Status::internal(std::string("runtime: cannot start threads: ") + e.what());
  }
  state_.store(State::kRunning, std::memory_order_release);
  return {};
}

void Scheduler::stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  stop_locked();
}

void Scheduler::stop_locked() {
  State s = state_.load();
  if (s == State::kCreated) {
    state_.store(State::kStopped);
    return;
  }
  if (s != State::kRunning) return;
  state_.store(State::kStopping, std::memory_order_seq_cst);
  Backoff gate;
  while (external_inflight_.load(std::memory_order_seq_cst) != 0) gate.pause();
  for (Kernel* k : timer_->cancel_all()) {
    timers_cancelled_.fetch_add(1, std::memory_order_relaxed);
    cancel(k, Status::cancelled("timer cancelled: runtime stopping"));
  }
  Backoff wait;
  auto last_report = std::chrono::steady_clock::now();
  while (!quiescent()) {
    wait.pause();
    if (std::chrono::steady_clock::now() - last_report > std::chrono::seconds(5)) {
      last_report = std::chrono::steady_clock::now();
      log::warn("kernel", "stop() still draining: tasks keep running (a job that never ends?)",
                {{"live_roots", live_roots_.load(std::memory_order_relaxed)}});
    }
  }
  cpu_->request_exit();
  disk_->request_exit();
  timer_->request_exit();
  net_->request_exit();
  cpu_->join();
  disk_->join();
  timer_->join();
  net_->join();
  state_.store(State::kStopped, std::memory_order_release);
}

// Reads every "completed" counter, then every "enqueued" counter. completed <= enqueued at
// all times and both only grow, so equal sums mean that at the moment between the two
// passes no task was queued or running anywhere; with external work refused and timers
// cancelled, nothing can create a task after that.
bool Scheduler::quiescent() const {
  uint64_t done = cpu_->completed() + disk_->completed() + net_->completed() + timer_->completed();
  uint64_t queued = cpu_->enqueued() + disk_->enqueued() + net_->enqueued() + timer_->enqueued();
  return done == queued;
}

bool Scheduler::enter_external() {
  external_inflight_.fetch_add(1, std::memory_order_seq_cst);
  if (state_.load(std::memory_order_seq_cst) == State::kRunning) return true;
  external_inflight_.fetch_sub(1, std::memory_order_seq_cst);
  return false;
}

void Scheduler::leave_external() { external_inflight_.fetch_sub(1, std::memory_order_seq_cst); }

void Scheduler::submit(std::unique_ptr<Kernel> root, std::function<void(std::unique_ptr<Kernel>)> on_done) {
  CHIRON_CHECK(root != nullptr, "submit(nullptr)");
  Kernel* k = root.release();
  prepare(k, nullptr);
  k->root_hook_ = new RootHook{std::move(on_done)};
  live_roots_.fetch_add(1, std::memory_order_relaxed);
  if (!enter_external()) {
    cancel(k, Status::cancelled("runtime is not running"));
    return;
  }
  trace(TraceKind::kQueued, k);
  route(k);
  leave_external();
}

bool Scheduler::post(Device device, std::function<void()> fn) {
  if (!fn) return false;
  if (!enter_external()) return false;
  Task t = Task::call(new PostedCall{std::move(fn)});
  switch (device) {
    case Device::kCpu: cpu_->push(t); break;
    case Device::kDisk: disk_->push(t); break;
    case Device::kNet: net_->post(t, net_->pick_lane()); break;
    case Device::kTimer: timer_->post(t); break;
  }
  leave_external();
  return true;
}

unsigned Scheduler::threads(Device device) const {
  switch (device) {
    case Device::kCpu: return cpu_->threads();
    case Device::kDisk: return disk_->threads();
    case Device::kNet: return net_->threads();
    case Device::kTimer: return 1;
  }
  return 0;
}

RuntimeStats Scheduler::stats() const {
  RuntimeStats s;
  s.tasks_run = cpu_->completed() + disk_->completed() + net_->completed() + timer_->completed();
  s.inline_runs = cpu_->inline_runs() + disk_->inline_runs();
  s.overflow_pushes = cpu_->overflow_pushes() + disk_->overflow_pushes();
  s.timers_cancelled = timers_cancelled_.load(std::memory_order_relaxed);
  s.blocked_submitters = cpu_->blocked_external() + disk_->blocked_external() + net_->blocked_external();
  s.live_roots = live_roots_.load(std::memory_order_relaxed);
  s.trace_events = trace_.events();
  s.trace_dropped = trace_.dropped();
  return s;
}

}  // namespace chiron::kernel::internal
