#include "push/planner.h"

#include <gtest/gtest.h>

namespace chiron::push {
namespace {

const std::string kA(64, 'a');
const std::string kB(64, 'b');

TEST(PlannerTest, SameContentIsNotUploaded) {
  EXPECT_EQ(plan_file("x", FileState{3, kA}, FileState{3, kA}, {}).kind, ActionKind::kNone);
}

TEST(PlannerTest, ChangedContentIsPut) {
  auto a = plan_file("x", FileState{3, kB}, FileState{3, kA}, {kA});
  EXPECT_EQ(a.kind, ActionKind::kPut);
  EXPECT_EQ(a.sha256, kB);
}

TEST(PlannerTest, ContentTheChannelHasIsCopied) {
  EXPECT_EQ(plan_file("moved", FileState{3, kA}, std::nullopt, {kA}).kind, ActionKind::kCopy);
}

TEST(PlannerTest, BigFilesUseResumableUpload) {
  EXPECT_EQ(plan_file("big", FileState{kMaxPutBytes + 1, kA}, std::nullopt, {}).kind, ActionKind::kUpload);
  EXPECT_EQ(plan_file("edge", FileState{kMaxPutBytes, kA}, std::nullopt, {}).kind, ActionKind::kPut);
}

TEST(PlannerTest, GoneLocallyIsDeletedOnlyIfOnServer) {
  EXPECT_EQ(plan_file("x", std::nullopt, FileState{1, kA}, {}).kind, ActionKind::kDelete);
  EXPECT_EQ(plan_file("x", std::nullopt, std::nullopt, {}).kind, ActionKind::kNone);
}

TEST(PlannerTest, ReconcileMergesBothSides) {
  std::map<std::string, FileState> local{{"a", {1, kA}}, {"b", {1, kB}}, {"c", {1, kA}}};
  std::map<std::string, FileState> remote{{"a", {1, kA}}, {"b", {1, kA}}, {"z", {1, kB}}};
  std::set<std::string> blobs{kA, kB};
  auto actions = plan_reconcile(local, remote, blobs);
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].path, "b");
  EXPECT_EQ(actions[0].kind, ActionKind::kCopy);  // kB is a blob the channel holds (z)
  EXPECT_EQ(actions[1].path, "c");
  EXPECT_EQ(actions[1].kind, ActionKind::kCopy);
  EXPECT_EQ(actions[2].path, "z");
  EXPECT_EQ(actions[2].kind, ActionKind::kDelete);
}

TEST(PlannerTest, EmptyServerUploadsEverything) {
  std::map<std::string, FileState> local{{"a", {1, kA}}, {"b", {1, kB}}};
  auto actions = plan_reconcile(local, {}, {});
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, ActionKind::kPut);
  EXPECT_EQ(actions[1].kind, ActionKind::kPut);
}

TEST(BackoffTest, GrowsExponentiallyWithinJitterAndIsBounded) {
  EXPECT_EQ(backoff_delay_ms(0, 0.0, 200, 10000), 100);
  EXPECT_EQ(backoff_delay_ms(0, 1.0, 200, 10000), 200);
  EXPECT_EQ(backoff_delay_ms(3, 1.0, 200, 10000), 1600);
  EXPECT_EQ(backoff_delay_ms(30, 1.0, 200, 10000), 10000);
  EXPECT_EQ(backoff_delay_ms(1000, 0.5, 200, 10000), 7500);
  for (int i = 0; i < 50; ++i) {
    const int64_t d = backoff_delay_ms(i, 0.37, 200, 10000);
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 10000);
  }
}

TEST(BackoffTest, RetryableStatuses) {
  EXPECT_TRUE(retryable_http_status(503));
  EXPECT_TRUE(retryable_http_status(500));
  EXPECT_TRUE(retryable_http_status(408));
  EXPECT_TRUE(retryable_http_status(429));
  EXPECT_FALSE(retryable_http_status(404));
  EXPECT_FALSE(retryable_http_status(413));
  EXPECT_FALSE(retryable_http_status(400));
}

}  // namespace
}  // namespace chiron::push
