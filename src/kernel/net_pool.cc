#include "kernel/net_pool.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <optional>
#include <thread>

#include "common/log.h"
#include "kernel/backoff.h"
#include "kernel/scheduler.h"
#include "kernel/worker_context.h"

namespace chiron::kernel::internal {

struct NetPool::Impl {
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  struct alignas(64) Lane {
    boost::asio::io_context context{1};  // concurrency hint: one thread runs it
    std::optional<Guard> guard;
    std::thread thread;
    std::atomic<uint64_t> completed{0};
  };
  std::vector<std::unique_ptr<Lane>> lanes;
};

NetPool::NetPool(Scheduler& sched, unsigned threads, size_t capacity)
    : sched_(sched), capacity_(capacity), impl_(std::make_unique<Impl>()) {
  for (unsigned i = 0; i < threads; ++i) {
    auto lane = std::make_unique<Impl::Lane>();
    lane->guard.emplace(lane->context.get_executor());
    impl_->lanes.push_back(std::move(lane));
  }
}

NetPool::~NetPool() {
  request_exit();
  join();
}

void NetPool::start(std::vector<TraceBuffer*> lanes) {
  for (unsigned i = 0; i < impl_->lanes.size(); ++i) {
    TraceBuffer* trace = i < lanes.size() ? lanes[i] : nullptr;
    impl_->lanes[i]->thread = std::thread([this, i, trace] { thread_main(i, trace); });
  }
}

void NetPool::thread_main(unsigned index, TraceBuffer* lane) {
  Impl::Lane& me = *impl_->lanes[index];
  WorkerContext ctx;
  ctx.sched = &sched_;
  ctx.device = Device::kNet;
  ctx.index = index;
  ctx.net_context = &me.context;
  ctx.trace = lane;
  ctx.trace_log = lane != nullptr ? &sched_.trace_log() : nullptr;
  ctx.completed = &me.completed;
  tls_worker = &ctx;
  for (;;) {
    try {
      me.context.run();
      break;
    } catch (const std::exception& e) {
      // A handler posted directly to the context (not through the runtime) threw.
      log::error("kernel", "net handler threw", {{"what", e.what()}});
    }
  }
  tls_worker = nullptr;
}

unsigned NetPool::pick_lane() {
  return next_lane_.fetch_add(1, std::memory_order_relaxed) % threads();
}

void NetPool::post(Task t, unsigned lane) {
  WorkerContext* w = tls_worker;
  if ((w == nullptr || w->sched != &sched_) &&
      pending_.load(std::memory_order_acquire) >= static_cast<int64_t>(capacity_)) {
    blocked_external_.fetch_add(1, std::memory_order_relaxed);
    Backoff backoff;
    while (pending_.load(std::memory_order_acquire) >= static_cast<int64_t>(capacity_)) backoff.pause();
    blocked_external_.fetch_sub(1, std::memory_order_relaxed);
  }
  enqueued_.fetch_add(1, std::memory_order_seq_cst);
  pending_.fetch_add(1, std::memory_order_acq_rel);
  Impl::Lane& target = *impl_->lanes[lane % impl_->lanes.size()];
  boost::asio::post(target.context, [this, t] {
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    sched_.run_task(t);
    bump(*tls_worker->completed);
  });
}

void NetPool::request_exit() {
  for (auto& lane : impl_->lanes) {
    lane->guard.reset();
    lane->context.stop();
  }
}

void NetPool::join() {
  for (auto& lane : impl_->lanes)
    if (lane->thread.joinable()) lane->thread.join();
}

unsigned NetPool::threads() const { return static_cast<unsigned>(impl_->lanes.size()); }

std::vector<boost::asio::io_context*> NetPool::contexts() const {
  std::vector<boost::asio::io_context*> out;
  for (auto& lane : impl_->lanes) out.push_back(&lane->context);
  return out;
}

uint64_t NetPool::completed() const {
  uint64_t n = 0;
  for (auto& lane : impl_->lanes) n += lane->completed.load(std::memory_order_seq_cst);
  return n;
}

}  // namespace chiron::kernel::internal
