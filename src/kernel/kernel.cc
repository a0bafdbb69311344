#include "kernel/kernel.h"

#include "common/check.h"
#include "kernel/kernel_alloc.h"
#include "kernel/scheduler.h"
#include "kernel/worker_context.h"

namespace chiron::kernel {

Kernel::~Kernel() { delete root_hook_; }

void* Kernel::operator new(std::size_t size) { return internal::kernel_alloc(size); }

void Kernel::operator delete(void* p, std::size_t size) noexcept { internal::kernel_free(p, size); }

void* Kernel::operator new(std::size_t size, std::align_val_t align) { return ::operator new(size, align); }

void Kernel::operator delete(void* p, std::size_t size, std::align_val_t align) noexcept {
  (void)size;  // clang does not declare sized deallocation unless -fsized-deallocation
  ::operator delete(p, align);
}

void Kernel::act() { commit(); }

void Kernel::react(std::unique_ptr<Kernel> /*child*/) {}

void Kernel::upstream(std::unique_ptr<Kernel> child) {
  CHIRON_CHECK(sched_ != nullptr, "upstream() on a kernel that is not scheduled");
  sched_->upstream(this, std::move(child));
}

void Kernel::commit(Status result) {
  const int code = result.ok() ? 0 : 1;
  commit_with(std::move(result), code);
}

void Kernel::commit(int exit_code) {
  Status result;
  if (exit_code != 0) result = Status::aborted("exit code " + std::to_string(exit_code));
  commit_with(std::move(result), exit_code);
}

void Kernel::commit_with(Status result, int exit_code) {
  CHIRON_CHECK(sched_ != nullptr, "commit() on a kernel that is not scheduled");
  if (internal::tls_current_kernel == this) {
    // On the executor: no other thread may commit this kernel now, a plain check will do.
    CHIRON_CHECK(!commit_called_.load(std::memory_order_relaxed), "commit() called twice");
    commit_called_.store(true, std::memory_order_relaxed);
    result_ = std::move(result);
    exit_code_ = exit_code;
    committed_ = true;  // the runtime delivers once act()/react() returns
    return;
  }
  CHIRON_CHECK(!commit_called_.exchange(true, std::memory_order_acq_rel), "commit() called twice");
  result_ = std::move(result);
  exit_code_ = exit_code;
  sched_->commit_foreign(this);
}

void Kernel::suspend() {
  CHIRON_CHECK(internal::tls_current_kernel == this, "suspend() outside the kernel's run()");
  suspend_state_.store(1, std::memory_order_relaxed);
}

void Kernel::cancel_suspend() {
  CHIRON_CHECK(internal::tls_current_kernel == this, "cancel_suspend() outside the kernel's run()");
  suspend_state_.store(0, std::memory_order_relaxed);
}

void Kernel::resume() {
  // The state may move 1 → 2 (the suspending run ends) between two reads: retry on the value a
  // failed exchange reports instead of checking a stale one (TSan CI caught that window).
  uint8_t s = suspend_state_.load(std::memory_order_acquire);
  for (;;) {
    if (s == 2) {
      if (suspend_state_.compare_exchange_weak(s, 0, std::memory_order_acq_rel)) {
        sched_->resume(this);  // suspended: due again
        return;
      }
      continue;
    }
    // Still inside the run() that suspended: that run dispatches it when it ends.
    CHIRON_CHECK(s == 1, "resume() of a kernel that is not suspended");
    if (suspend_state_.compare_exchange_weak(s, 3, std::memory_order_acq_rel)) return;
  }
}

void Kernel::after(std::chrono::microseconds delay) {
  delay_us_ = delay.count() < 0 ? 0 : delay.count();
  due_us_ = -1;
}

void Kernel::at(std::chrono::steady_clock::time_point due) {
  due_us_ = std::chrono::duration_cast<std::chrono::microseconds>(due.time_since_epoch()).count();
  if (due_us_ < 0) due_us_ = 0;
  delay_us_ = -1;
}

Runtime& Kernel::runtime() const {
  CHIRON_CHECK(sched_ != nullptr, "runtime() on a kernel that is not scheduled");
  return sched_->runtime();
}

std::string Kernel::type_name() const { return internal::short_type_name(typeid(*this)); }

}  // namespace chiron::kernel
