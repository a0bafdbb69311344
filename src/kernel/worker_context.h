#pragma once
// WorkerContext: what a runtime thread knows about itself, reachable through a
// thread_local pointer (null on threads the runtime does not own). Internal.
// Thread-confined: each runtime thread owns its context.

#include <atomic>
#include <cstdint>

#include "kernel/device.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::kernel {
class Kernel;
}  // namespace chiron::kernel

namespace chiron::kernel::internal {

class Scheduler;
class TraceBuffer;
class TraceLog;
class WorkerPool;

struct WorkerContext {
  Scheduler* sched = nullptr;
  Device device = Device::kCpu;
  unsigned index = 0;                        // thread index within its pipeline
  WorkerPool* pool = nullptr;                // cpu/disk workers only
  boost::asio::io_context* net_context = nullptr;  // net workers only
  TraceBuffer* trace = nullptr;              // this thread's lane, if tracing
  const TraceLog* trace_log = nullptr;       // the log `trace` belongs to
  int inline_depth = 0;                      // nested inline runs/drains on this stack
  std::atomic<uint64_t>* completed = nullptr;  // tasks finished by this thread
};

// The context of the calling runtime thread, or null.
inline thread_local WorkerContext* tls_worker = nullptr;
// The kernel whose act()/react() is running on this thread, or null.
inline thread_local Kernel* tls_current_kernel = nullptr;

// Single-writer counter bump (no RMW needed).
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_release);
}

}  // namespace chiron::kernel::internal
