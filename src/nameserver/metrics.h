#pragma once
// Metrics of the name server: lock-free counters and a log-linear latency histogram
// (HDR-style: 8 sub-buckets per power of two, ≤ 12.5 % relative error, 1 µs .. ~67 s),
// rendered as Prometheus text for GET /metrics and as p50/p99 for the dashboard's stats frames.
//
// Thread-safe: record() is a relaxed atomic increment, cheap enough for every REQ.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace chiron::nameserver {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;  // 8 sub-buckets per octave
  static constexpr int kOctaves = 27;
  static constexpr size_t kBuckets = size_t{kOctaves} << kSubBits;

  void record(uint64_t us);
  // A copy of the counts (racy but monotonic per bucket).
  std::vector<uint64_t> counts() const;
  // Quantile q in [0,1] of the counts in `delta` (e.g. the difference of two counts() calls),
  // as the bucket's upper bound in µs; 0 when empty.
  static uint64_t quantile(const std::vector<uint64_t>& delta, double q);
  static uint64_t bucket_upper_us(size_t bucket);
  static size_t bucket_of(uint64_t us);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum_us() const { return sum_us_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

// Appends a Prometheus histogram (cumulative buckets at 1, 2.5, 5, 10, ... µs in seconds).
void append_prometheus_histogram(std::string& out, const std::string& name, const std::string& help,
                                 const LatencyHistogram& h);

// Prometheus label value escaping (\\, \", \n).
std::string prometheus_escape(std::string_view v);

}  // namespace chiron::nameserver
