#include "push/debouncer.h"

#include <gtest/gtest.h>

namespace chiron::push {
namespace {

using V = std::vector<std::string>;

TEST(DebouncerTest, PathIsDueAfterQuietPeriod) {
  Debouncer d(50, 500);
  d.touch("a", 1000);
  EXPECT_TRUE(d.take_due(1049).empty());
  EXPECT_EQ(d.next_due_ms(), 1050);
  EXPECT_EQ(d.take_due(1050), V{"a"});
  EXPECT_EQ(d.pending(), 0u);
}

TEST(DebouncerTest, BurstOfChangesIsCoalesced) {
  Debouncer d(50, 500);
  for (int t = 0; t < 40; t += 10) d.touch("a", 1000 + t);
  EXPECT_TRUE(d.take_due(1060).empty());
  EXPECT_EQ(d.take_due(1080), V{"a"});
}

TEST(DebouncerTest, ContinuouslyChangingPathIsDueAfterMax) {
  Debouncer d(50, 500);
  int64_t t = 1000;
  for (; t < 1490; t += 20) {
    d.touch("busy", t);
    EXPECT_TRUE(d.take_due(t).empty());
  }
  d.touch("busy", 1495);
  EXPECT_EQ(d.take_due(1500), V{"busy"});
}

TEST(DebouncerTest, PathsAreIndependent) {
  Debouncer d(50, 500);
  d.touch("a", 1000);
  d.touch("b", 1030);
  EXPECT_EQ(d.take_due(1050), V{"a"});
  EXPECT_EQ(d.next_due_ms(), 1080);
  EXPECT_EQ(d.take_due(1080), V{"b"});
  EXPECT_EQ(d.next_due_ms(), INT64_MAX);
}

TEST(DebouncerTest, TakeAllEmpties) {
  Debouncer d(50, 500);
  d.touch("b", 1);
  d.touch("a", 2);
  EXPECT_EQ(d.take_all(), (V{"a", "b"}));
  EXPECT_EQ(d.pending(), 0u);
}

}  // namespace
}  // namespace chiron::push
