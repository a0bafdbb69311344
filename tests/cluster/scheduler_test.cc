#include "cluster/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace chiron::cluster {
namespace {

// Records where each dispatched kernel went.
struct Recorder {
  std::vector<uint64_t> places;
  ClusterScheduler::Dispatch cb() {
    return [this](uint64_t place) { places.push_back(place); };
  }
};

const PlaceLoad* find_place(const SchedulerStats& s, uint64_t place) {
  for (const PlaceLoad& p : s.places) {
    if (p.place == place) return &p;
  }
  return nullptr;
}

TEST(ClusterSchedulerTest, PicksLowestRelativeLoadLocalOnTies) {
  ClusterScheduler s({.local_threads = 2, .slots_per_thread = 2, .max_pending_per_job = 100});
  s.set_link(5, 4);
  s.set_link(7, 2);
  Recorder r;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  // 0/2 = 0/4 = 0/2: local (tie). Then local 1/2, link 5 0/4, link 7 0/2: link 5 (the lower
  // position among tied links). Then 1/2, 1/4, 0/2: link 7. Then 1/2, 1/4, 1/2: link 5.
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace, 5, 7, 5}));
}

TEST(ClusterSchedulerTest, FillsPlacesInProportionToThreads) {
  ClusterScheduler s({.local_threads = 2, .slots_per_thread = 3, .max_pending_per_job = 1000});
  s.set_link(2, 8);
  s.set_link(3, 4);
  Recorder r;
  for (int i = 0; i < 42; ++i) ASSERT_TRUE(s.submit(9, kLocalPlace, r.cb()).ok());  // capacity 6 + 24 + 12
  SchedulerStats st = s.stats();
  ASSERT_EQ(st.places.size(), 3u);
  EXPECT_EQ(st.places[0].place, kLocalPlace);  // local first, then links by position
  EXPECT_EQ(st.places[0].in_flight, 6u);
  EXPECT_EQ(st.places[0].capacity, 6u);
  EXPECT_EQ(find_place(st, 2)->in_flight, 24u);
  EXPECT_EQ(find_place(st, 3)->in_flight, 12u);
  EXPECT_EQ(st.dispatched, 42u);
  EXPECT_TRUE(st.pending_by_job.empty());
  // Half full: every place within one kernel of half its capacity, as it fills.
  ClusterScheduler h({.local_threads = 2, .slots_per_thread = 3, .max_pending_per_job = 1000});
  h.set_link(2, 8);
  h.set_link(3, 4);
  Recorder hr;
  for (int i = 0; i < 21; ++i) ASSERT_TRUE(h.submit(9, kLocalPlace, hr.cb()).ok());
  SchedulerStats hs = h.stats();
  EXPECT_NEAR(static_cast<double>(find_place(hs, kLocalPlace)->in_flight), 3, 1);
  EXPECT_NEAR(static_cast<double>(find_place(hs, 2)->in_flight), 12, 1);
  EXPECT_NEAR(static_cast<double>(find_place(hs, 3)->in_flight), 6, 1);
}

TEST(ClusterSchedulerTest, NeverSendsBackOverTheExcludedLink) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 1, .max_pending_per_job = 10});
  s.set_link(4, 100);  // far less loaded than local, but the kernels came from it
  Recorder r;
  ASSERT_TRUE(s.submit(1, 4, r.cb()).ok());
  ASSERT_TRUE(s.submit(1, 4, r.cb()).ok());  // local is full: waits, although link 4 is free
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace}));
  EXPECT_EQ(s.stats().pending_by_job.at(1), 1u);
  // A kernel of another job from elsewhere may use link 4 meanwhile.
  ASSERT_TRUE(s.submit(2, kLocalPlace, r.cb()).ok());
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace, 4}));
  s.release(kLocalPlace);
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace, 4, kLocalPlace}));
}

TEST(ClusterSchedulerTest, BoundedQueueRefusesBeyondTheLimit) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 2, .max_pending_per_job = 3});
  Recorder r;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok()) << i;  // 2 run, 3 wait
  Status full = s.submit(1, kLocalPlace, r.cb());
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.places.size(), 2u);
  // The bound is per job: another job may still queue.
  EXPECT_TRUE(s.submit(2, kLocalPlace, r.cb()).ok());
  s.release(kLocalPlace);  // job 2 waited since the last served job 1… fair order picks job 2
  EXPECT_EQ(r.places.size(), 3u);
  EXPECT_TRUE(s.submit(1, kLocalPlace, r.cb()).code() == StatusCode::kResourceExhausted);
  s.release(kLocalPlace);  // a slot for job 1's head: there is room again
  EXPECT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  EXPECT_EQ(s.stats().pending_by_job.at(1), 3u);
}

TEST(ClusterSchedulerTest, ZeroThreadLinkAndRemovedLinkTakeNothing) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 1, .max_pending_per_job = 10});
  s.set_link(3, 0);
  Recorder r;
  ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace}));
  s.set_link(3, 1);  // the link gains a thread: the waiting kernel goes there
  EXPECT_EQ(r.places, (std::vector<uint64_t>{kLocalPlace, 3}));
  s.remove_link(3);  // its slot is forgotten; releasing it changes nothing
  s.release(3);
  SchedulerStats st = s.stats();
  ASSERT_EQ(st.places.size(), 1u);
  EXPECT_EQ(st.places[0].in_flight, 1u);
  ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  EXPECT_EQ(r.places.size(), 2u);  // waits for local
}

TEST(ClusterSchedulerTest, SetLinkOfLocalChangesLocalThreads) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 2, .max_pending_per_job = 10});
  Recorder r;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  EXPECT_EQ(r.places.size(), 2u);
  s.set_link(kLocalPlace, 2);  // two more slots: two of the three waiting kernels run
  EXPECT_EQ(r.places, (std::vector<uint64_t>(4, kLocalPlace)));
  EXPECT_EQ(s.stats().places[0].capacity, 4u);
  s.remove_link(kLocalPlace);  // local cannot be removed
  EXPECT_EQ(s.stats().places.size(), 1u);
}

TEST(ClusterSchedulerTest, CancelJobReturnsItsWaitingKernels) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 1, .max_pending_per_job = 10});
  Recorder r;
  int cancelled_ran = 0;
  ASSERT_TRUE(s.submit(1, kLocalPlace, r.cb()).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.submit(1, kLocalPlace, [&](uint64_t) { ++cancelled_ran; }).ok());
  }
  ASSERT_TRUE(s.submit(2, kLocalPlace, r.cb()).ok());
  std::vector<ClusterScheduler::Dispatch> back = s.cancel_job(1);
  EXPECT_EQ(back.size(), 3u);
  EXPECT_TRUE(s.cancel_job(1).empty());
  s.release(kLocalPlace);
  EXPECT_EQ(r.places.size(), 2u);  // job 2's kernel, not job 1's
  EXPECT_EQ(cancelled_ran, 0);
  EXPECT_EQ(s.stats().pending_by_job.count(1), 0u);
}

// Slots free one at a time while two jobs each have 1000 kernels waiting: at every point each
// job has had within 20 % of an equal share (and in fact within one kernel of it).
TEST(ClusterSchedulerTest, TwoBusyJobsShareSlotsEqually) {
  ClusterScheduler s({.local_threads = 2, .slots_per_thread = 2, .max_pending_per_job = 1000});
  std::deque<uint64_t> running;  // job of each kernel in flight, oldest first
  uint64_t got[3] = {0, 0, 0};
  auto cb = [&](uint64_t job) {
    return [&, job](uint64_t) {
      ++got[job];
      running.push_back(job);
    };
  };
  // Job 1 submits all of its kernels first (the worst case for a single FIFO).
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s.submit(1, kLocalPlace, cb(1)).ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s.submit(2, kLocalPlace, cb(2)).ok());
  ASSERT_EQ(got[1], 4u);  // the four free slots went to job 1 before job 2 existed
  const uint64_t base1 = got[1];
  uint64_t checked = 0;
  while (!running.empty()) {
    running.pop_front();
    s.release(kLocalPlace);
    const uint64_t a = got[1] - base1, b = got[2];
    if (got[1] < 1000 && got[2] < 1000 && a + b >= 10) {
      const double half = static_cast<double>(a + b) / 2;
      ASSERT_NEAR(static_cast<double>(a), half, 0.2 * half) << "after " << a + b;
      ASSERT_LE(a > b ? a - b : b - a, 1u);
      ++checked;
    }
  }
  EXPECT_GT(checked, 1900u);
  EXPECT_EQ(got[1], 1000u);
  EXPECT_EQ(got[2], 1000u);
  EXPECT_EQ(s.stats().dispatched, 2000u);
}

// A callback that completes its kernel synchronously (release() from inside dispatch) and
// submits more: no deadlock, every kernel runs, and the stack stays flat.
TEST(ClusterSchedulerTest, CallbacksMayReenterTheScheduler) {
  ClusterScheduler s({.local_threads = 1, .slots_per_thread = 1, .max_pending_per_job = 100});
  int ran = 0;
  int depth = 0, max_depth = 0;
  std::function<void(uint64_t)> body = [&](uint64_t place) {
    ++depth;
    max_depth = std::max(max_depth, depth);
    ++ran;
    if (ran < 20000) {
      ASSERT_TRUE(s.submit(1, kLocalPlace, body).ok());
    }
    s.release(place);
    --depth;
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.submit(1, kLocalPlace, body).ok());
  EXPECT_GE(ran, 20000);
  EXPECT_EQ(max_depth, 1);
  SchedulerStats st = s.stats();
  EXPECT_EQ(st.places[0].in_flight, 0u);
  EXPECT_TRUE(st.pending_by_job.empty());
  // cancel_job and stats from inside a callback do not deadlock either.
  bool inside = false;
  ASSERT_TRUE(s.submit(2, kLocalPlace, [&](uint64_t place) {
                 inside = true;
                 EXPECT_TRUE(s.cancel_job(2).empty());
                 EXPECT_EQ(s.stats().places[0].in_flight, 1u);
                 s.set_link(9, 1);
                 s.remove_link(9);
                 s.release(place);
               }).ok());
  EXPECT_TRUE(inside);
}

// Four threads submit and release at once (run under TSan too): every kernel is dispatched
// exactly once, never over capacity, and all slots come back.
TEST(ClusterSchedulerTest, ConcurrentSubmitAndRelease) {
  ClusterScheduler s({.local_threads = 2, .slots_per_thread = 2, .max_pending_per_job = 100000});
  s.set_link(2, 3);
  s.set_link(3, 1);
  std::mutex mu;
  std::vector<uint64_t> placed;  // Guarded by mu: kernels to finish
  std::atomic<uint64_t> dispatched{0};
  std::atomic<bool> over_capacity{false};
  constexpr int kThreads = 4, kPerThread = 5000;
  auto cb = [&](uint64_t place) {
    dispatched.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu);
    placed.push_back(place);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      int submitted = 0;
      while (submitted < kPerThread || dispatched.load() < uint64_t{kThreads} * kPerThread) {
        if (submitted < kPerThread && rng() % 2 == 0) {
          const uint64_t job = 1 + rng() % 3;
          const uint64_t exclude = rng() % 4 == 0 ? 2 : kLocalPlace;
          if (s.submit(job, exclude, cb).ok()) ++submitted;
          continue;
        }
        std::optional<uint64_t> done;
        {
          std::lock_guard lock(mu);
          if (!placed.empty()) {
            done = placed.back();
            placed.pop_back();
          }
        }
        if (done) {
          s.release(*done);
        } else {
          SchedulerStats st = s.stats();
          for (const PlaceLoad& p : st.places) {
            if (p.in_flight > p.capacity) over_capacity = true;
          }
          std::this_thread::yield();
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (uint64_t p : placed) s.release(p);
  SchedulerStats st = s.stats();
  EXPECT_FALSE(over_capacity.load());
  EXPECT_EQ(dispatched.load(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(st.dispatched, uint64_t{kThreads} * kPerThread);
  for (const PlaceLoad& p : st.places) EXPECT_EQ(p.in_flight, 0u) << p.place;
  EXPECT_TRUE(st.pending_by_job.empty());
}

}  // namespace
}  // namespace chiron::cluster
