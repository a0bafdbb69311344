#include "nameserver/metrics.h"

#include <gtest/gtest.h>

namespace chiron::nameserver {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithBoundedRelativeError) {
  for (uint64_t us : {0ull, 1ull, 7ull, 8ull, 9ull, 15ull, 16ull, 17ull, 100ull, 999ull, 1000ull, 123456ull, 9999999ull}) {
    const size_t b = LatencyHistogram::bucket_of(us);
    const uint64_t upper = LatencyHistogram::bucket_upper_us(b);
    EXPECT_GE(upper, us) << us;
    // 8 sub-buckets per octave: the upper edge is within 12.5 % of the value.
    EXPECT_LE(upper, us + us / 8 + 1) << us;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::bucket_upper_us(b - 1), us) << us;
    }
  }
}

TEST(LatencyHistogramTest, BucketsAreMonotonicAndHugeValuesLandInTheLast) {
  for (size_t b = 1; b < LatencyHistogram::kBuckets; ++b)
    EXPECT_GT(LatencyHistogram::bucket_upper_us(b), LatencyHistogram::bucket_upper_us(b - 1)) << b;
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, QuantilesOfAKnownDistribution) {
  LatencyHistogram h;
  for (int i = 0; i < 99; ++i) h.record(10);
  h.record(5000);
  const auto counts = h.counts();
  EXPECT_EQ(LatencyHistogram::quantile(counts, 0.5), LatencyHistogram::bucket_upper_us(LatencyHistogram::bucket_of(10)));
  EXPECT_EQ(LatencyHistogram::quantile(counts, 0.99), LatencyHistogram::bucket_upper_us(LatencyHistogram::bucket_of(10)));
  EXPECT_EQ(LatencyHistogram::quantile(counts, 1.0), LatencyHistogram::bucket_upper_us(LatencyHistogram::bucket_of(5000)));
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.sum_us(), 99u * 10 + 5000);
  EXPECT_EQ(LatencyHistogram::quantile(std::vector<uint64_t>(LatencyHistogram::kBuckets, 0), 0.5), 0u);
}

TEST(LatencyHistogramTest, PrometheusHistogramIsCumulativeAndEndsWithInf) {
  LatencyHistogram h;
  h.record(1);
  h.record(30);
  h.record(2'000'000);
  std::string out;
  append_prometheus_histogram(out, "x_seconds", "help text", h);
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"1e-06\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"5e-05\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count 3\n"), std::string::npos);
}

TEST(PrometheusEscapeTest, EscapesQuotesBackslashesAndNewlines) {
  EXPECT_EQ(prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(prometheus_escape("10.0.0.1:80"), "10.0.0.1:80");
}

}  // namespace
}  // namespace chiron::nameserver
