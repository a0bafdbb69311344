// ClusterScheduler (scheduler.h): least relative load, per-job FIFO queues served
// round-robin, callbacks outside the lock.
//
// DESIGN. All state sits behind one mutex. Every operation that may free or add capacity
// (submit, release, set_link) runs pump() under the lock, which hands out free slots to the
// waiting jobs in round-robin order (one kernel per job per turn, starting after the job
// served last) and collects the chosen (dispatch, place) pairs; they are invoked after the
// lock is released. A slot is accounted to its place before its callback runs, so a
// callback that calls back into the scheduler sees a consistent state. The callbacks of one
// thread go through a thread-local trampoline: a callback that re-enters submit()/release()
// has the dispatches this produces queued and run by the outermost call after it returns,
// so the stack stays flat however long the chain of synchronous completions is.
#include "cluster/scheduler.h"

#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace chiron::cluster {

namespace {

struct Ready {
  ClusterScheduler::Dispatch dispatch;
  uint64_t place;
};

// Per-thread trampoline (see DESIGN).
struct Trampoline {
  bool running = false;
  std::deque<Ready> queue;
};
thread_local Trampoline t_trampoline;

void run_ready(std::vector<Ready>&& ready) {
  if (ready.empty()) return;
  Trampoline& t = t_trampoline;
  for (Ready& r : ready) t.queue.push_back(std::move(r));
  if (t.running) return;  // the outer call on this thread runs them
  t.running = true;
  struct Reset {
    ~Reset() { t_trampoline.running = false; }
  } reset;
  while (!t.queue.empty()) {
    Ready r = std::move(t.queue.front());
    t.queue.pop_front();
    r.dispatch(r.place);
  }
}

}  // namespace

struct ClusterScheduler::Impl {
  struct Place {
    uint64_t threads = 0;
    uint64_t in_flight = 0;
    uint64_t sent_total = 0;
  };
  struct Waiting {
    uint64_t exclude;
    Dispatch dispatch;
    bool prefer_link = false;
  };

  explicit Impl(SchedulerOptions o) : options(o) { places[kLocalPlace].threads = o.local_threads; }

  uint64_t capacity(const Place& p) const { return p.threads * options.slots_per_thread; }

  // The free place with the lowest in_flight/threads, local on ties (it is first in the
  // map), then the lower position; never `exclude` (a link; kLocalPlace excludes nothing).
  std::optional<uint64_t> pick(uint64_t exclude, bool prefer_link = false) const {
    if (prefer_link) {
      if (auto link = pick_among(exclude, /*links_only=*/true)) return link;
    }
    return pick_among(exclude, false);
  }

  std::optional<uint64_t> pick_among(uint64_t exclude, bool links_only) const {
    std::optional<uint64_t> best;
    const Place* bp = nullptr;
    for (const auto& [id, p] : places) {
      if (id != kLocalPlace && id == exclude) continue;
      if (links_only && id == kLocalPlace) continue;
      if (p.in_flight >= capacity(p)) continue;
      // p.in_flight / p.threads < bp->in_flight / bp->threads, without division.
      if (bp == nullptr || static_cast<unsigned __int128>(p.in_flight) * bp->threads <
                               static_cast<unsigned __int128>(bp->in_flight) * p.threads) {
        best = id;
        bp = &p;
      }
    }
    return best;
  }

  bool any_free() const {
    for (const auto& [id, p] : places) {
      if (p.in_flight < capacity(p)) return true;
    }
    return false;
  }

  void take(uint64_t place) {
    Place& p = places[place];
    ++p.in_flight;
    ++p.sent_total;
    ++dispatched;
  }

  // Hands free slots to waiting kernels, round-robin across jobs, FIFO within a job.
  void pump(std::vector<Ready>& out) {
    if (queues.empty() || !any_free()) return;
    auto it = queues.upper_bound(last_served);
    size_t stalled = 0;  // jobs visited in a row whose head could not be placed
    while (!queues.empty() && stalled < queues.size()) {
      if (it == queues.end()) it = queues.begin();
      std::deque<Waiting>& q = it->second;
      std::optional<uint64_t> place = pick(q.front().exclude, q.front().prefer_link);
      if (!place) {
        ++stalled;
        ++it;
        continue;
      }
      take(*place);
      out.push_back({std::move(q.front().dispatch), *place});
      q.pop_front();
      last_served = it->first;
      stalled = 0;
      it = q.empty() ? queues.erase(it) : std::next(it);
      if (!any_free()) break;
    }
  }

  const SchedulerOptions options;
  mutable std::mutex mu;
  std::map<uint64_t, Place> places;                // Guarded by mu (local = key 0, always present)
  std::map<uint64_t, std::deque<Waiting>> queues;  // Guarded by mu; never holds an empty queue
  uint64_t last_served = 0;                        // Guarded by mu: the job served last
  uint64_t dispatched = 0;                         // Guarded by mu
};

ClusterScheduler::ClusterScheduler(SchedulerOptions options) : impl_(std::make_shared<Impl>(options)) {}

Status ClusterScheduler::submit(uint64_t job, uint64_t exclude, Dispatch dispatch, bool prefer_link) {
  std::vector<Ready> ready;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->queues.find(job);
    if (it == impl_->queues.end()) {
      // Nothing of this job waits: a free slot now is one no waiting kernel can use
      // (pump() runs whenever capacity appears), so taking it is fair.
      if (std::optional<uint64_t> place = impl_->pick(exclude, prefer_link)) {
        impl_->take(*place);
        impl_->last_served = job;
        ready.push_back({std::move(dispatch), *place});
      }
    }
    if (ready.empty()) {
      const size_t waiting = it == impl_->queues.end() ? 0 : it->second.size();
      if (waiting >= impl_->options.max_pending_per_job) {
        return Status::resource_exhausted("job " + std::to_string(job) + " has " + std::to_string(waiting) +
                                          " kernels waiting for a slot");
      }
      impl_->queues[job].push_back({exclude, std::move(dispatch), prefer_link});
    }
  }
  run_ready(std::move(ready));
  return {};
}

bool ClusterScheduler::has_free_slot(uint64_t exclude) const {
  std::lock_guard lock(impl_->mu);
  return impl_->pick(exclude).has_value();
}

void ClusterScheduler::release(uint64_t place) {
  std::vector<Ready> ready;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->places.find(place);
    if (it == impl_->places.end() || it->second.in_flight == 0) return;  // a forgotten slot
    --it->second.in_flight;
    impl_->pump(ready);
  }
  run_ready(std::move(ready));
}

void ClusterScheduler::set_link(uint64_t link, uint64_t threads) {
  std::vector<Ready> ready;
  {
    std::lock_guard lock(impl_->mu);
    impl_->places[link].threads = threads;
    impl_->pump(ready);
  }
  run_ready(std::move(ready));
}

void ClusterScheduler::remove_link(uint64_t link) {
  if (link == kLocalPlace) return;
  std::lock_guard lock(impl_->mu);
  impl_->places.erase(link);
}

std::vector<ClusterScheduler::Dispatch> ClusterScheduler::cancel_job(uint64_t job) {
  std::deque<Impl::Waiting> waiting;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->queues.find(job);
    if (it == impl_->queues.end()) return {};
    waiting = std::move(it->second);
    impl_->queues.erase(it);
  }
  std::vector<Dispatch> out;
  out.reserve(waiting.size());
  for (Impl::Waiting& w : waiting) out.push_back(std::move(w.dispatch));
  return out;
}

SchedulerStats ClusterScheduler::stats() const {
  std::lock_guard lock(impl_->mu);
  SchedulerStats s;
  s.places.reserve(impl_->places.size());
  for (const auto& [id, p] : impl_->places) {
    s.places.push_back({id, p.threads, p.in_flight, impl_->capacity(p), p.sent_total});
  }
  for (const auto& [job, q] : impl_->queues) s.pending_by_job[job] = q.size();
  s.dispatched = impl_->dispatched;
  return s;
}

}  // namespace chiron::cluster
