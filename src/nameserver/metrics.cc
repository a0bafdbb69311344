#include "nameserver/metrics.h"

#include <bit>
#include <cstdio>

namespace chiron::nameserver {

size_t LatencyHistogram::bucket_of(uint64_t us) {
  // Values below 2^kSubBits get one bucket each; above, each octave [2^k, 2^(k+1)) is split
  // into 2^kSubBits equal sub-buckets.
  if (us < (uint64_t{1} << kSubBits)) return static_cast<size_t>(us);
  const int octave = std::bit_width(us) - 1;  // ≥ kSubBits
  const uint64_t sub = (us >> (octave - kSubBits)) & ((uint64_t{1} << kSubBits) - 1);
  const size_t b = (static_cast<size_t>(octave - kSubBits + 1) << kSubBits) + static_cast<size_t>(sub);
  return std::min(b, kBuckets - 1);
}

uint64_t LatencyHistogram::bucket_upper_us(size_t bucket) {
  if (bucket < (size_t{1} << kSubBits)) return bucket;
  const int octave = static_cast<int>(bucket >> kSubBits) + kSubBits - 1;
  const uint64_t sub = bucket & ((size_t{1} << kSubBits) - 1);
  const uint64_t base = uint64_t{1} << octave;
  return base + ((sub + 1) << (octave - kSubBits)) - 1;
}

void LatencyHistogram::record(uint64_t us) {
  buckets_[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(us, std::memory_order_relaxed);
}

std::vector<uint64_t> LatencyHistogram::counts() const {
  std::vector<uint64_t> out(kBuckets);
  for (size_t i = 0; i < kBuckets; ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t LatencyHistogram::quantile(const std::vector<uint64_t>& delta, double q) {
  uint64_t total = 0;
  for (uint64_t c : delta) total += c;
  if (total == 0) return 0;
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < delta.size(); ++i) {
    seen += delta[i];
    if (seen >= rank) return bucket_upper_us(i);
  }
  return bucket_upper_us(delta.size() - 1);
}

std::string prometheus_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_prometheus_histogram(std::string& out, const std::string& name, const std::string& help,
                                 const LatencyHistogram& h) {
  static constexpr uint64_t kBoundsUs[] = {1,    2,    5,     10,    25,    50,     100,    250,    500,
                                           1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000};
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  const std::vector<uint64_t> counts = h.counts();
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  char buf[160];
  for (uint64_t bound : kBoundsUs) {
    // Buckets whose upper edge is within the bound; sub-bucket edges are not decimal, so a
    // sample counts towards the first bound ≥ its bucket's upper edge (a ≤ 12.5 % shift).
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size() && LatencyHistogram::bucket_upper_us(i) <= bound; ++i) cumulative += counts[i];
    std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), static_cast<double>(bound) / 1e6,
                  static_cast<unsigned long long>(cumulative));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name.c_str(),
                static_cast<unsigned long long>(total), name.c_str(), static_cast<double>(h.sum_us()) / 1e6,
                name.c_str(), static_cast<unsigned long long>(total));
  out += buf;
}

}  // namespace chiron::nameserver
