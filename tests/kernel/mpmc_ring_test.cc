#include "kernel/mpmc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chiron::kernel::internal {
namespace {

TEST(MpmcRingTest, IsFifoAndReportsFullAndEmpty) {
  MpmcRing<int> ring(3);  // rounded up to 4
  EXPECT_EQ(ring.capacity(), 4u);
  int v = 0;
  EXPECT_FALSE(ring.try_pop(v));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(ring.try_pop(v));
  EXPECT_EQ(ring.enqueued(), 4u);
  EXPECT_EQ(ring.dequeued(), 4u);
}

TEST(MpmcRingTest, ManyProducersAndConsumersLoseAndDuplicateNothing) {
  MpmcRing<uint64_t> ring(64);
  constexpr int kProducers = 3, kConsumers = 3;
  constexpr uint64_t kPerProducer = 20'000;
  std::atomic<uint64_t> sum{0}, count{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&ring, p] {
      for (uint64_t i = 1; i <= kPerProducer; ++i)
        while (!ring.try_push(i + static_cast<uint64_t>(p) * kPerProducer)) std::this_thread::yield();
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      uint64_t v;
      while (count.load() < kProducers * kPerProducer) {
        if (ring.try_pop(v)) {
          sum += v;
          ++count;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t n = kProducers * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
}

}  // namespace
}  // namespace chiron::kernel::internal
