#include "kernel/worker_pool.h"

#include "kernel/asymmetric_fence.h"
#include "kernel/backoff.h"
#include "kernel/scheduler.h"
#include "kernel/worker_context.h"

namespace chiron::kernel::internal {
namespace {

// Pause iterations an idle worker spins before parking: long enough to catch the next
// task of a busy producer, short enough not to steal a shared core for long.
constexpr int kSpinBeforePark = 256;
constexpr int kMaxInlineDepth = 8;

}  // namespace

WorkerPool::WorkerPool(Scheduler& sched, Device device, unsigned threads, size_t capacity)
    : sched_(sched), device_(device), urgent_(capacity), ring_(capacity) {
  for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>(capacity));
}

WorkerPool::~WorkerPool() {
  request_exit();
  join();
}

void WorkerPool::start(std::vector<TraceBuffer*> lanes) {
  for (unsigned i = 0; i < workers_.size(); ++i) {
    TraceBuffer* lane = i < lanes.size() ? lanes[i] : nullptr;
    workers_[i]->thread = std::thread([this, i, lane] { worker_main(i, lane); });
  }
}

void WorkerPool::worker_main(unsigned index, TraceBuffer* lane) {
  WorkerContext ctx;
  ctx.sched = &sched_;
  ctx.device = device_;
  ctx.index = index;
  ctx.pool = this;
  ctx.trace = lane;
  ctx.trace_log = lane != nullptr ? &sched_.trace_log() : nullptr;
  ctx.completed = &workers_[index]->completed;
  tls_worker = &ctx;
  for (;;) {
    Task t;
    if (try_pop(t)) {
      run(t);
      continue;
    }
    bool found = false;
    for (int i = 0; i < kSpinBeforePark && !found; ++i) {
      cpu_relax();
      found = try_pop(t);
    }
    if (found) {
      run(t);
      continue;
    }
    if (exit_.load(std::memory_order_acquire)) {
      if (!maybe_nonempty()) break;
      continue;
    }
    park();
  }
  tls_worker = nullptr;
}

bool WorkerPool::maybe_nonempty() const {
  if (urgent_.maybe_nonempty() || ring_.maybe_nonempty() || overflow_size_.load(std::memory_order_seq_cst) != 0)
    return true;
  for (const auto& w : workers_)
    if (w->local.maybe_nonempty()) return true;
  return false;
}

bool WorkerPool::try_steal(unsigned self, Task& t) {
  const unsigned n = threads();
  for (unsigned k = 1; k < n; ++k) {
    if (workers_[(self + k) % n]->local.steal(t)) return true;
  }
  return false;
}

// Called by this pool's workers only (tls_worker->pool == this).
bool WorkerPool::try_pop(Task& t) {
  Worker& me = *workers_[tls_worker->index];
  if (urgent_.try_pop(t)) return true;
  // Every 32nd time outside work goes first, so a worker whose own kernels keep it busy
  // still serves submitters and spilled tasks.
  if ((++me.pops & 31) == 0 && (ring_.try_pop(t) || try_pop_overflow(t))) return true;
  return me.local.pop(t) || ring_.try_pop(t) || try_steal(tls_worker->index, t) || try_pop_overflow(t);
}

bool WorkerPool::try_pop_overflow(Task& t) {
  if (overflow_size_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard<std::mutex> lock(overflow_mu_);
  if (overflow_.empty()) return false;
  t = overflow_.front();
  overflow_.pop_front();
  overflow_size_.store(overflow_.size(), std::memory_order_seq_cst);
  return true;
}

void WorkerPool::run(Task t) {
  sched_.run_task(t);
  bump(*tls_worker->completed);
}

// Eventcount with claimed wake-ups: a parking worker announces itself in sleepers_,
// re-checks the queue, then sleeps on epoch_. A producer pushes (seq_cst CAS) and then
// reads sleepers_ (seq_cst), so either it sees the sleeper or the sleeper sees its task.
// A producer that sees a sleeper CLAIMS it (decrements sleepers_) before bumping epoch_ and
// notifying, so a burst of pushes costs one futex wake per sleeping worker, not one per push.
void WorkerPool::park() {
  // Read the epoch BEFORE announcing: a producer that claims this announcement bumps the
  // epoch afterwards, so the wait below cannot sleep through it even when another worker
  // took the work that came with the claim (reading it after would lose that wake-up).
  const uint32_t epoch = epoch_.load(std::memory_order_seq_cst);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  heavy_fence();  // pairs with light_fence() of workers pushing to their own deques
  if (!maybe_nonempty() && !exit_.load(std::memory_order_seq_cst)) {
    epoch_.wait(epoch, std::memory_order_seq_cst);  // returns once a producer claimed a sleeper
    return;
  }
  // Work appeared: withdraw, unless a producer already claimed us (then epoch_ moved on).
  int n = sleepers_.load(std::memory_order_seq_cst);
  while (n > 0 && !sleepers_.compare_exchange_weak(n, n - 1, std::memory_order_seq_cst)) {
  }
}

void WorkerPool::wake_one() {
  int n = sleepers_.load(std::memory_order_seq_cst);  // a plain load on x86
  while (n > 0) {
    if (sleepers_.compare_exchange_weak(n, n - 1, std::memory_order_seq_cst)) {
      epoch_.fetch_add(1, std::memory_order_seq_cst);
      epoch_.notify_one();
      return;
    }
  }
}

void WorkerPool::push(Task t) {
  WorkerContext* w = tls_worker;
  if (w != nullptr && w->pool == this) {
    push_same_pool(t);
  } else if (w != nullptr && w->sched == &sched_) {
    push_other_worker(t);
  } else {
    push_external(t);
  }
}

// Caller-runs: a worker never waits for its own pool; it executes queued work instead.
// Acts go to the worker's own deque, drains to the shared urgent ring.
void WorkerPool::push_same_pool(Task t) {
  WorkerContext* w = tls_worker;
  Worker& me = *workers_[w->index];
  const bool local = t.op() != Task::Op::kDrain;
  while (local ? me.local.full() : !urgent_.try_push(t)) {
    if (w->inline_depth >= kMaxInlineDepth) {
      push_overflow(t);
      return;
    }
    Task other;
    if (try_pop(other)) {
      ++w->inline_depth;
      run(other);
      bump(me.inline_runs);
      --w->inline_depth;
    } else {
      cpu_relax();
    }
  }
  if (local) {
    // Counted before it becomes visible, so completed() never exceeds enqueued().
    bump(me.local_pushes);
    me.local.push(t);  // cannot fail: only the owner adds, and it was not full
    light_fence();     // StoreLoad before reading sleepers_ (see park())
  }
  wake_one();
}

// Another pipeline's thread: wait for space, unless waiting could close a cycle (every
// worker of this pool is itself blocked on a full queue) or the thread is an io thread.
void WorkerPool::push_other_worker(Task t) {
  MpmcRing<Task>& ring = ring_for(t);
  if (ring.try_push(t)) {
    wake_one();
    return;
  }
  WorkerContext* w = tls_worker;
  if (w->device == Device::kNet) {
    push_overflow(t);
    return;
  }
  WorkerPool* mine = w->pool;
  if (mine != nullptr) mine->blocked_workers_.fetch_add(1, std::memory_order_acq_rel);
  Backoff backoff;
  bool pushed = false;
  while (!(pushed = ring.try_push(t))) {
    if (all_workers_blocked() || exit_.load(std::memory_order_acquire)) break;
    backoff.pause();
  }
  if (mine != nullptr) mine->blocked_workers_.fetch_sub(1, std::memory_order_acq_rel);
  if (pushed) {
    wake_one();
  } else {
    push_overflow(t);
  }
}

void WorkerPool::push_external(Task t) {
  MpmcRing<Task>& ring = ring_for(t);
  if (ring.try_push(t)) {
    wake_one();
    return;
  }
  blocked_external_.fetch_add(1, std::memory_order_relaxed);
  Backoff backoff;
  while (!ring.try_push(t)) backoff.pause();
  blocked_external_.fetch_sub(1, std::memory_order_relaxed);
  wake_one();
}

void WorkerPool::push_overflow(Task t) {
  {
    std::lock_guard<std::mutex> lock(overflow_mu_);
    overflow_.push_back(t);
    overflow_pushed_.store(overflow_pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
    overflow_size_.store(overflow_.size(), std::memory_order_seq_cst);
  }
  wake_one();
}

void WorkerPool::request_exit() {
  exit_.store(true, std::memory_order_seq_cst);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  epoch_.notify_all();
}

void WorkerPool::join() {
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

uint64_t WorkerPool::enqueued() const {
  uint64_t n = urgent_.enqueued() + ring_.enqueued() + overflow_pushed_.load(std::memory_order_seq_cst);
  for (const auto& w : workers_) n += w->local_pushes.load(std::memory_order_seq_cst);
  return n;
}

uint64_t WorkerPool::completed() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->completed.load(std::memory_order_seq_cst);
  return n;
}

uint64_t WorkerPool::inline_runs() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->inline_runs.load(std::memory_order_relaxed);
  return n;
}

}  // namespace chiron::kernel::internal
