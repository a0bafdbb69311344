#pragma once
// NetPool: the net pipeline — one boost::asio::io_context per thread, each run by its own
// thread. Tasks are posted to a given context ("lane"); a kernel keeps its lane for life so
// its act and reacts stay on one context. External submitters block while more than
// `capacity` tasks are pending; runtime threads never block here (an io thread must not
// stall). Thread-safe. Internal; Asio appears only in net_pool.cc.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernel/task.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::kernel::internal {

class Scheduler;
class TraceBuffer;

class NetPool {
 public:
  NetPool(Scheduler& sched, unsigned threads, size_t capacity);
  ~NetPool();  // stops and joins
  NetPool(const NetPool&) = delete;
  NetPool& operator=(const NetPool&) = delete;

  void start(std::vector<TraceBuffer*> lanes);
  void post(Task t, unsigned lane);
  // Round-robin choice of a lane for a kernel that has none yet.
  unsigned pick_lane();
  // Drops the work guards and stops every context (pending handlers are discarded).
  void request_exit();
  void join();

  unsigned threads() const;
  std::vector<boost::asio::io_context*> contexts() const;
  uint64_t enqueued() const { return enqueued_.load(std::memory_order_seq_cst); }
  uint64_t completed() const;
  uint64_t blocked_external() const { return blocked_external_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  void thread_main(unsigned index, TraceBuffer* lane);

  Scheduler& sched_;
  const size_t capacity_;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> enqueued_{0};
  std::atomic<int64_t> pending_{0};
  std::atomic<unsigned> next_lane_{0};
  std::atomic<uint64_t> blocked_external_{0};
};

}  // namespace chiron::kernel::internal
