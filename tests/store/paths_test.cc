#include "store/paths.h"
#include "common/strings.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace chiron::store {
namespace {

TEST(PathsTest, AcceptsOrdinaryRelativePaths) {
  for (const std::string& p : std::vector<std::string>{"a", "main.cc", "src/a/b/c.txt", ".gitignore", "a/.hidden/x", "dir/..x", "x../y", "a b/c d.md",
                        "ünïcödé/文件.txt", "emoji/🙂.txt", "a-b_c.d~", std::string(255, 'x'), "a/" + std::string(255, 'y')}) {
    EXPECT_TRUE(validate_path(p).ok()) << p << ": " << validate_path(p).to_string();
  }
}

TEST(PathsTest, RejectsHostilePathsWithAPreciseMessage) {
  struct Case {
    std::string path;
    std::string message_part;
  };
  const Case cases[] = {
      {"", "empty"},
      {"/etc/passwd", "absolute"},
      {"..", "segment 1 is '..'"},
      {"../x", "segment 1 is '..'"},
      {"a/../../x", "segment 2 is '..'"},
      {"a/./b", "segment 2 is '.'"},
      {".", "segment 1 is '.'"},
      {"a//b", "empty segment 2"},
      {"a/", "trailing '/'"},
      {"a\\..\\b", "backslash at byte 1"},
      {"C:\\x", "backslash"},
      {std::string("a\0b", 3), "control character 0x00 at byte 1"},
      {"a\nb", "control character 0x0a"},
      {"a\x7f", "control character 0x7f"},
      {"tab\there", "control character 0x09"},
      {"\xc2\x85" "next-line", "C1 control"},
      {"\xff\xfe", "not UTF-8 at byte 0"},
      {"a\xc0\xaf" "b", "not UTF-8 at byte 1"},       // overlong '/'
      {"\xed\xa0\x80", "not UTF-8"},               // surrogate
      {"\xf4\x90\x80\x80", "not UTF-8"},           // > U+10FFFF
      {"ok/\xe2\x82", "not UTF-8 at byte 3"},      // truncated sequence
      {std::string(1025, 'a'), "longer than 1024 bytes"},
      {std::string(256, 's'), "segment 1 is longer than 255 bytes"},
      {"a/" + std::string(256, 's'), "segment 2 is longer than 255 bytes"},
  };
  for (const Case& c : cases) {
    Status st = validate_path(c.path);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.message_part;
    EXPECT_NE(st.message().find(c.message_part), std::string::npos) << "'" << st.message() << "' lacks '" << c.message_part << "'";
    EXPECT_EQ(st.message().rfind("invalid path: ", 0), 0u) << st.message();
  }
}

TEST(PathsTest, Utf8ValidatorFollowsRfc3629) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x99\x82"));
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
}

}  // namespace
}  // namespace chiron::store
