#include "common/common.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace chiron {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_sink([this](std::string_view line) { lines_.emplace_back(line); });
    log::set_level(log::Level::kInfo);
  }
  void TearDown() override {
    log::set_sink({});
    log::set_json(false);
    log::set_level(log::Level::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, DropsLinesBelowLevel) {
  log::debug("t", "hidden");
  log::warn("t", "shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("WARN"), std::string::npos);
}

TEST_F(LogTest, TextLineHasComponentMessageAndFields) {
  log::info("http", "listening", {{"addr", "127.0.0.1:80"}, {"threads", 2}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("http: listening addr=127.0.0.1:80 threads=2\n"), std::string::npos);
}

TEST_F(LogTest, TextQuotesValuesWithSpaces) {
  log::info("t", "m", {{"reason", "bad thing"}});
  EXPECT_NE(lines_[0].find("reason=\"bad thing\""), std::string::npos);
}

TEST_F(LogTest, JsonLinesParseAndCarryFields) {
  log::set_json(true);
  log::error("rtmp", "refused \"x\"", {{"key", "a\nb"}});
  ASSERT_EQ(lines_.size(), 1u);
  auto v = boost::json::parse(lines_[0]).as_object();
  EXPECT_EQ(v["level"].as_string(), "error");
  EXPECT_EQ(v["component"].as_string(), "rtmp");
  EXPECT_EQ(v["msg"].as_string(), "refused \"x\"");
  EXPECT_EQ(v["key"].as_string(), "a\nb");
}

TEST(LogLevelTest, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(*log::parse_level("DEBUG"), log::Level::kDebug);
  EXPECT_EQ(*log::parse_level("warning"), log::Level::kWarn);
  EXPECT_FALSE(log::parse_level("loud").ok());
}

}  // namespace
}  // namespace chiron
