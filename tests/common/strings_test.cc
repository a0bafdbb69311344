#include "common/common.h"

#include <gtest/gtest.h>

namespace chiron {
namespace {

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(JsonEscapeTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_quote("h\xC3\xA9"), "\"h\xC3\xA9\"");
  EXPECT_EQ(json_quote("x\xFFy"), "\"x\xEF\xBF\xBDy\"");
}

TEST(Utf8Test, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));          // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));      // 😀
}

TEST(Utf8Test, RejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));              // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));          // surrogate D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));      // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));                  // lone continuation
}

TEST(HostPortTest, ParsesIpv4AndPortZero) {
  auto hp = parse_host_port("127.0.0.1:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 0);
}

TEST(HostPortTest, ParsesBracketedIpv6AndRoundTrips) {
  auto hp = parse_host_port("[::1]:8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->to_string(), "[::1]:8080");
}

TEST(HostPortTest, BarePortDefaultsToLoopback) {
  EXPECT_EQ(parse_host_port(":5300")->to_string(), "127.0.0.1:5300");
}

TEST(HostPortTest, RejectsGarbage) {
  for (const char* bad : {"", "host", "host:", "host:99999", "host:-1", "::1:80", "[::1]80", "h:1x"})
    EXPECT_FALSE(parse_host_port(bad).ok()) << bad;
}

TEST(ParseU64Test, RejectsTrailingJunkAndOverflow) {
  EXPECT_EQ(*parse_u64("42"), 42u);
  EXPECT_FALSE(parse_u64("42x").ok());
  EXPECT_FALSE(parse_u64("99999999999999999999999").ok());
  EXPECT_FALSE(parse_u64("-1").ok());
}

TEST(SplitTest, KeepsEmptyFields) {
  auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(trim("  x \r\n"), "x");
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
}

}  // namespace
}  // namespace chiron
