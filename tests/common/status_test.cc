#include "common/common.h"

#include <gtest/gtest.h>

namespace chiron {
namespace {

TEST(StatusTest, DefaultIsOkAndHasEmptyMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::not_found("channel alice");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.to_string(), "not_found: channel alice");
}

TEST(StatusTest, ContextPrependsOutermostFirst) {
  Status s = Status::invalid_argument("bad version").context("rtmp handshake").context("session 7");
  EXPECT_EQ(s.message(), "session 7: rtmp handshake: bad version");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(StatusTest, ContextOnOkStaysOk) {
  EXPECT_TRUE(Status().context("anything").ok());
}

TEST(StatusTest, CopyIsDeep) {
  Status a = Status::internal("x");
  Status b = a;
  b = std::move(b).context("y");
  EXPECT_EQ(a.message(), "x");
  EXPECT_EQ(b.message(), "y: x");
}

TEST(StatusTest, FromErrnoNamesTheError) {
  Status s = Status::from_errno("open /nope", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("No such file"), std::string::npos);
}

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::invalid_argument("not positive");
  return v;
}

Result<int> doubled(int v) {
  CHIRON_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check_both(int a, int b) {
  CHIRON_RETURN_IF_ERROR(parse_positive(a));
  CHIRON_RETURN_IF_ERROR(parse_positive(b).context("second"));
  return {};
}

TEST(ResultTest, HoldsValue) {
  Result<std::string> r = std::string("hi");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hi");
  EXPECT_EQ(r->size(), 2u);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsError) {
  Result<int> r = parse_positive(-1);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.value_or(7), 7);
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_EQ(doubled(0).status().message(), "not positive");
}

TEST(ResultTest, ReturnIfErrorAddsNoContextButKeepsCallersContext) {
  EXPECT_TRUE(check_both(1, 2).ok());
  EXPECT_EQ(check_both(1, -2).message(), "second: not positive");
  EXPECT_EQ(check_both(-1, 2).message(), "not positive");
}

TEST(ResultTest, ContextOnError) {
  auto r = parse_positive(0).context("port");
  EXPECT_EQ(r.status().message(), "port: not positive");
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = Status::internal("boom");
  EXPECT_DEATH({ (void)r.value(); }, "internal: boom");
}

TEST(CheckDeathTest, FailedCheckAbortsWithLocationAndReason) {
  EXPECT_DEATH(CHIRON_CHECK(1 + 1 == 3, "arithmetic is broken"), "status_test.cc:.*arithmetic is broken");
}

}  // namespace
}  // namespace chiron

namespace chiron {
namespace {

// A Result<bool> must not be constructible from another Result (whose explicit
// operator bool would otherwise silently turn an error into `false`).
static_assert(!std::is_constructible_v<Result<bool>, Result<int>>);
static_assert(!std::is_convertible_v<Result<int>, Result<bool>>);
static_assert(std::is_constructible_v<Result<bool>, bool>);

TEST(ResultTest, BoolResultKeepsItsError) {
  Result<bool> r = Status::not_found("x");
  EXPECT_FALSE(r.ok());
  Result<bool> t = true;
  EXPECT_TRUE(*t);
}

}  // namespace
}  // namespace chiron
