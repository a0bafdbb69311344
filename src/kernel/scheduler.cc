// The kernel protocol. Mailbox of a principal P (Kernel::mailbox_), an intrusive LIFO of
// returned subordinates linked through Kernel::mail_next_:
//   nullptr  empty, and P's executor holds it (P's act is running, or a drain is running);
//   kIdle    empty, nobody holds it: a producer whose CAS replaces kIdle must schedule a
//            drain task (or run the drain inline when already on P's device);
//   other    a list of returned kernels, drained newest first; P itself in the list means "committed from a
//            foreign thread" (commit_foreign), so every lifecycle decision about P is taken
//            by P's executor and nothing touches P after its delivery.
// A kernel is born with its mailbox held, so children returning during act() wait until
// act() returns: act happens-before every react.
#include "kernel/scheduler.h"

#include <exception>
#include <utility>

#include "common/check.h"
#include "common/log.h"
#include "kernel/net_pool.h"
#include "kernel/timer_pipeline.h"
#include "kernel/worker_context.h"
#include "kernel/worker_pool.h"

namespace chiron::kernel::internal {
namespace {

Kernel* const kIdle = reinterpret_cast<Kernel*>(uintptr_t{1});
// Bounds the nesting of inline drains (deep trees unwind through the queues instead).
constexpr int kMaxInlineDepth = 16;
constexpr uint16_t kNoLane = 0xffff;

// Process-unique ids handed out in blocks so the hot path touches no shared counter.
std::atomic<uint64_t> g_next_id_block{1};
constexpr uint64_t kIdBlock = 1024;
thread_local uint64_t t_next_id = 0;
thread_local uint64_t t_id_end = 0;

uint64_t next_kernel_id() {
  if (t_next_id == t_id_end) [[unlikely]] {
    t_next_id = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
    t_id_end = t_next_id + kIdBlock;
  }
  return t_next_id++;
}

}  // namespace

void Scheduler::prepare(Kernel* k, Kernel* principal) {
  if (k->sched_ != nullptr) {
    // Scheduled before (returned to a react and upstreamed again): reset the run state.
    // A fresh kernel is already in this state.
    k->mail_next_ = nullptr;
    k->mailbox_.store(nullptr, std::memory_order_relaxed);
    k->foreign_spawned_.store(0, std::memory_order_relaxed);
    k->spawned_ = 0;
    k->returned_ = 0;
    k->commit_called_.store(false, std::memory_order_relaxed);
    k->committed_ = false;
    k->exit_code_ = 0;
    k->result_ = Status();
  }
  k->sched_ = this;
  k->principal_ = principal;
  k->id_ = next_kernel_id();
  if (k->delay_us_ >= 0) [[unlikely]] {
    k->due_us_ = clock().steady_us() + k->delay_us_;
    k->delay_us_ = -1;
  }
}

void Scheduler::upstream(Kernel* principal, std::unique_ptr<Kernel> child) {
  CHIRON_CHECK(child != nullptr, "upstream(nullptr)");
  CHIRON_CHECK(!principal->commit_called_.load(std::memory_order_acquire), "upstream() after commit()");
  CHIRON_CHECK(state_.load(std::memory_order_relaxed) != State::kStopped, "upstream() on a stopped runtime");
  Kernel* k = child.release();
  prepare(k, principal);
  if (tls_current_kernel == principal) {
    ++principal->spawned_;
  } else {
    principal->foreign_spawned_.fetch_add(1, std::memory_order_release);
  }
  trace(TraceKind::kQueued, k);
  route(k);
}

void Scheduler::route(Kernel* k) {
  if (k->due_us_ >= 0 && k->due_us_ > clock().steady_us()) {
    if (timer_->arm(k, k->due_us_)) return;
    timers_cancelled_.fetch_add(1, std::memory_order_relaxed);
    cancel(k, Status::cancelled("timer cancelled: runtime stopping"));
    return;
  }
  dispatch(k);
}

void Scheduler::dispatch(Kernel* k) {
  k->due_us_ = -1;
  push(k, Task::act(k));
}

void Scheduler::push(Kernel* owner, Task t) {
  switch (owner->device_) {
    case Device::kCpu: cpu_->push(t); return;
    case Device::kDisk: disk_->push(t); return;
    case Device::kNet:
      if (owner->net_lane_ == kNoLane) owner->net_lane_ = static_cast<uint16_t>(net_->pick_lane());
      net_->post(t, owner->net_lane_);
      return;
    case Device::kTimer: timer_->post(t); return;
  }
  CHIRON_CHECK(false, "kernel has an invalid Device value");
}

void Scheduler::run_task(Task t) {
  switch (t.op()) {
    case Task::Op::kAct: execute_act(t.kernel()); return;
    case Task::Op::kDrain: drain(t.kernel()); return;
    case Task::Op::kCall: {
      std::unique_ptr<PostedCall> call(t.posted());
      try {
        call->fn();
      } catch (const std::exception& e) {
        log::error("kernel", "posted function threw", {{"what", e.what()}});
      } catch (...) {
        log::error("kernel", "posted function threw a non-exception");
      }
      return;
    }
  }
}

void Scheduler::execute_act(Kernel* k) {
  trace(TraceKind::kActBegin, k);
  Kernel* prev = tls_current_kernel;
  tls_current_kernel = k;
  try {
    k->run();
  } catch (const std::exception& e) {
    fail(k, "act", e.what());
  } catch (...) {
    fail(k, "act", "unknown exception");
  }
  tls_current_kernel = prev;
  if (k->suspend_state_.load(std::memory_order_relaxed) != 0 && !k->committed_) {
    // run() suspended the kernel: act() is not over and the mailbox stays closed. The last
    // touch of k on this thread is the CAS; a resume() may run it again right after.
    trace(TraceKind::kActEnd, k);
    uint8_t s = 1;
    if (!k->suspend_state_.compare_exchange_strong(s, 2, std::memory_order_acq_rel)) {
      k->suspend_state_.store(0, std::memory_order_relaxed);  // s == 3: resumed meanwhile
      dispatch(k);
    }
    return;
  }
  k->suspend_state_.store(0, std::memory_order_relaxed);
  if (k->committed_ && k->returned_ == k->spawned_ + k->foreign_spawned_.load(std::memory_order_acquire)) {
    // Finished with nothing outstanding: delivered right now, one trace entry for both.
    trace(k->result_.ok() ? TraceKind::kActEndCommitted : TraceKind::kActEndFailed, k);
    deliver(k, /*traced=*/true);
    return;
  }
  trace(TraceKind::kActEnd, k);
  drain(k);  // opens the mailbox
}

void Scheduler::drain(Kernel* k) {
  for (;;) {
    if (k->committed_ &&
        k->returned_ == k->spawned_ + k->foreign_spawned_.load(std::memory_order_acquire)) {
      deliver(k);  // the mailbox stays held: nothing can arrive any more
      return;
    }
    // Release the mailbox if it is empty (one CAS, the common case), else take a batch.
    Kernel* list = nullptr;
    if (k->mailbox_.compare_exchange_strong(list, kIdle, std::memory_order_acq_rel, std::memory_order_acquire))
      return;
    list = k->mailbox_.exchange(nullptr, std::memory_order_acq_rel);
    // One batch in LIFO order (no reversal pass: each node is a cache miss, touch it
    // once). Subordinates finish in no particular order anyway.
    while (list != nullptr) {
      Kernel* c = list;
      list = c->mail_next_;
      take_mail(k, c);
    }
  }
}

void Scheduler::take_mail(Kernel* k, Kernel* c) {
  if (c == k) {  // commit() from a foreign thread
    k->committed_ = true;
    return;
  }
  ++k->returned_;
  if (k->committed_) {
    delete c;  // late subordinate of a committed principal: no react
    return;
  }
  react_one(k, c);
}

void Scheduler::react_one(Kernel* k, Kernel* child) {
  trace(TraceKind::kReact, k, child->id_);
  Kernel* prev = tls_current_kernel;
  tls_current_kernel = k;
  try {
    k->react(std::unique_ptr<Kernel>(child));
  } catch (const std::exception& e) {
    fail(k, "react", e.what());
  } catch (...) {
    fail(k, "react", "unknown exception");
  }
  tls_current_kernel = prev;
}

void Scheduler::fail(Kernel* k, const char* where, const std::string& what) {
  std::string type = k->type_name();
  log::warn("kernel", "kernel threw", {{"type", type}, {"in", where}, {"what", what}});
  if (!k->commit_called_.exchange(true, std::memory_order_acq_rel)) {
    k->committed_ = true;
  } else if (!k->committed_) {
    return;  // committed from a foreign thread before throwing: that result stands
  }
  k->result_ = Status::internal(type + "::" + where + " threw: " + what);
  k->exit_code_ = 1;
}

void Scheduler::deliver(Kernel* k, bool traced) {
  if (!traced) trace(k->result_.ok() ? TraceKind::kCommitted : TraceKind::kFailed, k);
  try {
    k->finished();
  } catch (...) {
    log::error("kernel", "finished() threw; ignored");
  }
  Kernel* p = k->principal_;
  if (p == nullptr) {
    finish_root(k);
    return;
  }
  push_mail(p, k);  // k belongs to p from here on
}

bool Scheduler::can_drain_here(const Kernel* box) const {
  const WorkerContext* w = tls_worker;
  if (w == nullptr || w->sched != this || w->inline_depth >= kMaxInlineDepth) return false;
  switch (box->device_) {
    case Device::kCpu: return w->pool != nullptr && w->pool == cpu_.get();
    case Device::kDisk: return w->pool != nullptr && w->pool == disk_.get();
    case Device::kNet: return w->device == Device::kNet && w->index == box->net_lane_;
    case Device::kTimer: return w->device == Device::kTimer;
  }
  return false;
}

void Scheduler::push_mail(Kernel* box, Kernel* item) {
  const bool here = can_drain_here(box);
  Kernel* head = box->mailbox_.load(std::memory_order_relaxed);
  if (here && head == kIdle &&
      box->mailbox_.compare_exchange_strong(head, nullptr, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    // The executor was idle and we are on its device: become it and hand the item over
    // directly, without a trip through the list.
    ++tls_worker->inline_depth;
    take_mail(box, item);
    drain(box);
    --tls_worker->inline_depth;
    return;
  }
  do {
    item->mail_next_ = head == kIdle ? nullptr : head;
  } while (!box->mailbox_.compare_exchange_weak(head, item, std::memory_order_acq_rel,
                                                std::memory_order_relaxed));
  if (head != kIdle) return;  // its executor is active and will see the item
  if (here) {
    ++tls_worker->inline_depth;
    drain(box);
    --tls_worker->inline_depth;
    return;
  }
  push(box, Task::drain(box));
}

void Scheduler::commit_foreign(Kernel* k) { push_mail(k, k); }

void Scheduler::resume(Kernel* k) { dispatch(k); }

void Scheduler::cancel(Kernel* k, Status why) {
  k->commit_called_.store(true, std::memory_order_relaxed);
  k->committed_ = true;
  k->result_ = std::move(why);
  k->exit_code_ = 1;
  deliver(k);
}

void Scheduler::finish_root(Kernel* k) {
  std::unique_ptr<RootHook> hook(k->root_hook_);
  k->root_hook_ = nullptr;
  std::unique_ptr<Kernel> owned(k);
  live_roots_.fetch_sub(1, std::memory_order_relaxed);
  if (!hook || !hook->on_done) return;
  try {
    hook->on_done(std::move(owned));
  } catch (const std::exception& e) {
    log::error("kernel", "on_done callback threw", {{"what", e.what()}});
  } catch (...) {
    log::error("kernel", "on_done callback threw a non-exception");
  }
}

}  // namespace chiron::kernel::internal
