#pragma once
// The load generators' latency histogram (ns_loadgen, chat_loadgen): log-linear buckets with
// 128 sub-buckets per power of two (< 0.8 % error), exact below 256 ns, up to ~2^63 ns.
// Not thread-safe: one per generator thread, merged at the end.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chiron::bench {

class LatencyHistogram {
 public:
  LatencyHistogram() : counts_(kBuckets, 0) {}
  // n samples of ns (a pipelined batch counts once per request).
  void record(int64_t ns, uint64_t n = 1) {
    const auto v = static_cast<uint64_t>(std::max<int64_t>(ns, 0));
    counts_[index(v)] += n;
    total_ += n;
    max_ = std::max(max_, v);
  }
  void merge(const LatencyHistogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  // Value (ns, bucket midpoint) at quantile q in [0,1].
  double quantile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(total_) + 0.5));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return midpoint(i);
    }
    return midpoint(kBuckets - 1);
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr size_t kBuckets = 256 + 56 * 128;
  static size_t index(uint64_t v) {
    if (v < 256) return v;
    const int shift = std::bit_width(v) - 1 - kSubBits;  // >= 1
    const size_t i = 256 + static_cast<size_t>(shift - 1) * 128 + ((v >> shift) - 128);
    return std::min(i, kBuckets - 1);
  }
  static double midpoint(size_t i) {
    if (i < 256) return static_cast<double>(i);
    const int shift = static_cast<int>((i - 256) / 128) + 1;
    const uint64_t top = 128 + (i - 256) % 128;
    return static_cast<double>(top << shift) + static_cast<double>(uint64_t{1} << shift) / 2;
  }
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace chiron::bench
