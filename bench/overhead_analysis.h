#pragma once
// The paper's Table 1 (§5.2) from an event log: share of the worker threads' time spent in
// user code, idle ("stale"), and runtime overhead. Header-only; pure functions; thread-safe.
//
// Method (estimates — say so wherever the numbers are quoted):
//  * wall  = last event − first event of the log.
//  * user  = per lane, Σ act spans (act_begin → act_end) + Σ react spans. The log marks only
//            the start of a react; its span is taken to end at the last event the lane
//            recorded before its next act_begin/react (the queued/committed events the react
//            itself emitted), so the tail of a react after its last upstream/commit is not
//            counted (an under-estimate of user time by at most that tail).
//  * overhead = c × K / (threads × wall), where K = kernels in the log (act_begin events)
//            and c = thread-time per kernel of an empty-kernel microbenchmark run with the same
//            runtime options (spawn N empty kernels from one principal, collect them, commit):
//            c = wall_micro × cpu_threads / N, i.e. every thread is charged for the whole
//            microbenchmark. This includes the event log's own cost (trace on).
//  * idle  = 100 % − user − overhead (also absorbs whatever the two estimates miss).
//  * threads = lanes counted (cpu/*, disk/*, omp/*), or as given.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernel/trace_reader.h"

namespace chiron::bench {

struct LaneUse {
  std::string lane;
  int64_t busy_us = 0;
  uint64_t acts = 0;
  uint64_t reacts = 0;
};

struct OverheadReport {
  int64_t wall_us = 0;
  uint64_t kernels = 0;
  unsigned threads = 0;
  std::vector<LaneUse> lanes;
  double user_pct = 0, idle_pct = 0, overhead_pct = 0;
};

inline bool counted_lane(const std::string& lane) {
  return lane.rfind("cpu/", 0) == 0 || lane.rfind("disk/", 0) == 0 || lane.rfind("omp/", 0) == 0;
}

// `threads` = 0: the number of counted lanes in the log.
inline OverheadReport analyze_overhead(const kernel::TraceFile& trace, double empty_kernel_us, unsigned threads = 0) {
  OverheadReport r;
  if (trace.records.empty()) return r;
  int64_t lo = trace.records.front().ts_us, hi = lo;
  std::map<std::string, std::vector<const kernel::TraceRecord*>> by_lane;
  for (const auto& rec : trace.records) {
    lo = std::min(lo, rec.ts_us);
    hi = std::max(hi, rec.ts_us);
    if (counted_lane(rec.lane)) by_lane[rec.lane].push_back(&rec);
  }
  r.wall_us = std::max<int64_t>(1, hi - lo);
  int64_t busy = 0;
  for (auto& [lane, recs] : by_lane) {
    std::stable_sort(recs.begin(), recs.end(), [](auto* a, auto* b) { return a->ts_us < b->ts_us; });
    LaneUse u;
    u.lane = lane;
    int64_t act_begin = -1, react_begin = -1, react_last = -1;
    auto close_react = [&] {
      if (react_begin >= 0) u.busy_us += react_last - react_begin;
      react_begin = -1;
    };
    for (const auto* rec : recs) {
      if (rec->event == "act_begin") {
        close_react();
        act_begin = rec->ts_us;
        ++u.acts;
        ++r.kernels;
      } else if (rec->event == "act_end") {
        if (act_begin >= 0) u.busy_us += rec->ts_us - act_begin;
        act_begin = -1;
      } else if (rec->event == "react") {
        close_react();
        react_begin = react_last = rec->ts_us;
        ++u.reacts;
      } else if (react_begin >= 0) {
        react_last = rec->ts_us;
      }
    }
    close_react();
    busy += u.busy_us;
    r.lanes.push_back(u);
  }
  r.threads = threads != 0 ? threads : static_cast<unsigned>(std::max<size_t>(1, r.lanes.size()));
  const double capacity = static_cast<double>(r.threads) * static_cast<double>(r.wall_us);
  r.user_pct = 100.0 * static_cast<double>(busy) / capacity;
  r.overhead_pct = 100.0 * empty_kernel_us * static_cast<double>(r.kernels) / capacity;
  r.idle_pct = std::max(0.0, 100.0 - r.user_pct - r.overhead_pct);
  return r;
}

}  // namespace chiron::bench
