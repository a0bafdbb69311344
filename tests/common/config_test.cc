#include "common/common.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace chiron {
namespace {

int parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app.parse(args);
    return 0;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
}

TEST(ConfigTest, DefaultsMatchDesign) {
  CLI::App app;
  CommonOptions o;
  add_common_flags(app, o);
  ASSERT_EQ(parse(app, {}), 0);
  EXPECT_EQ(o.http, "127.0.0.1:8080");
  EXPECT_EQ(o.rtmp, "127.0.0.1:1935");
  EXPECT_EQ(o.data, "./chiron-data");
}

TEST(ConfigTest, CommandLineBeatsEnvironment) {
  ::setenv("CHIRON_DATA", "/from/env", 1);
  ::setenv("CHIRON_RTMP", "127.0.0.1:1936", 1);
  CLI::App app;
  CommonOptions o;
  add_common_flags(app, o);
  ASSERT_EQ(parse(app, {"--data", "/from/cli"}), 0);
  ::unsetenv("CHIRON_DATA");
  ::unsetenv("CHIRON_RTMP");
  EXPECT_EQ(o.data, "/from/cli");
  EXPECT_EQ(o.rtmp, "127.0.0.1:1936");
}

TEST(ConfigTest, ReadsTomlFile) {
  auto path = std::filesystem::temp_directory_path() / "chiron_config_test.toml";
  {
    std::ofstream f(path);
    f << "http = \"127.0.0.1:9090\"\nlog-level = \"debug\"\n";
  }
  CLI::App app;
  CommonOptions o;
  add_common_flags(app, o);
  add_config_flag(app);
  ASSERT_EQ(parse(app, {"--config", path.string()}), 0);
  std::filesystem::remove(path);
  EXPECT_EQ(o.http, "127.0.0.1:9090");
  EXPECT_EQ(o.log_level, "debug");
}

TEST(ConfigTest, BadLogLevelIsAnError) {
  CommonOptions o;
  o.log_level = "shouty";
  Status s = apply_log_options(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chiron
