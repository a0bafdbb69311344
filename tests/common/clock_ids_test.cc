#include "common/common.h"

#include <gtest/gtest.h>

#include <set>

namespace chiron {
namespace {

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  auto t0 = clock.steady_us();
  auto w0 = clock.unix_ms();
  EXPECT_EQ(clock.steady_us(), t0);
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.steady_us() - t0, 1'500'000);
  EXPECT_EQ(clock.unix_ms() - w0, 1500);
}

TEST(SystemClockTest, SteadyNeverGoesBackwards) {
  const Clock& c = Clock::system();
  int64_t prev = c.steady_us();
  for (int i = 0; i < 1000; ++i) {
    int64_t now = c.steady_us();
    ASSERT_GE(now, prev);
    prev = now;
  }
}

TEST(IdsTest, TokensHaveExpectedAlphabetAndLength) {
  std::string t = random_token(24);
  EXPECT_EQ(t.size(), 32u);
  for (char c : t) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  EXPECT_EQ(random_hex(8).size(), 16u);
}

TEST(IdsTest, TokensDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_token(16)).second);
}

TEST(IdsTest, UuidIsVersion4) {
  std::string u = random_uuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
}

TEST(IdGeneratorTest, CountsFromOne) {
  IdGenerator g;
  EXPECT_EQ(g.next(), 1u);
  EXPECT_EQ(g.next(), 2u);
}

}  // namespace
}  // namespace chiron

TEST(FormatUtcMs, Rfc3339WithMilliseconds) {
  EXPECT_EQ(chiron::format_utc_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(chiron::format_utc_ms(1767323045678), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(chiron::format_utc_ms(-1), "1969-12-31T23:59:59.999Z");
}
