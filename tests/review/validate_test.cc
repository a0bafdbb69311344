#include "review/validate.h"

#include <gtest/gtest.h>

namespace chiron::review {
namespace {

TEST(ValidateTest, NamesFollowTheContractPattern) {
  EXPECT_TRUE(valid_name("alice"));
  EXPECT_TRUE(valid_name("a1"));
  EXPECT_TRUE(valid_name("0day_x-y"));
  EXPECT_TRUE(valid_name(std::string(32, 'a')));
  EXPECT_FALSE(valid_name("a"));
  EXPECT_FALSE(valid_name(std::string(33, 'a')));
  EXPECT_FALSE(valid_name("Alice"));
  EXPECT_FALSE(valid_name("_alice"));
  EXPECT_FALSE(valid_name("-alice"));
  EXPECT_FALSE(valid_name("al ice"));
  EXPECT_FALSE(valid_name("al/ice"));
  EXPECT_FALSE(valid_name("ali\xc3\xa9"));
  EXPECT_FALSE(valid_name(""));
}

TEST(ValidateTest, DisplayNamesAreTrimmedPrintableUtf8) {
  EXPECT_EQ(*clean_display_name("  Alice B. "), "Alice B.");
  EXPECT_EQ(*clean_display_name("Zoë"), "Zoë");
  EXPECT_FALSE(clean_display_name("   ").ok());
  EXPECT_FALSE(clean_display_name("a\nb").ok());
  EXPECT_FALSE(clean_display_name("\xff\xfe").ok());
  EXPECT_FALSE(clean_display_name("\xed\xa0\x80").ok());  // a UTF-16 surrogate
  EXPECT_FALSE(clean_display_name(std::string(65, 'x')).ok());
}

TEST(ValidateTest, TagsAreLowerCasedDeduplicatedAndBounded) {
  auto t = parse_tags_json(R"(["C++","rust","c++","Go"])");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (std::vector<std::string>{"c++", "rust", "go"}));
  EXPECT_EQ(tags_to_json(*t), R"(["c++","rust","go"])");
  EXPECT_FALSE(parse_tags_json(R"("cpp")").ok());
  EXPECT_FALSE(parse_tags_json(R"([1])").ok());
  EXPECT_FALSE(parse_tags_json(R"(["<script>"])").ok());
  EXPECT_FALSE(parse_tags_json(R"([""])").ok());
  EXPECT_FALSE(parse_tags_json(R"(["a","b","c","d","e","f","g","h","i","j","k"])").ok());
  EXPECT_TRUE(parse_tags_json("[]").ok());
}

TEST(ValidateTest, OriginMustNameTheHost) {
  EXPECT_TRUE(origin_matches_host("http://localhost:8080", "localhost:8080"));
  EXPECT_TRUE(origin_matches_host("https://Chiron.Example", "chiron.example"));
  EXPECT_FALSE(origin_matches_host("http://evil.example", "chiron.example"));
  EXPECT_FALSE(origin_matches_host("http://localhost:8081", "localhost:8080"));
  EXPECT_FALSE(origin_matches_host("null", "localhost:8080"));
  EXPECT_FALSE(origin_matches_host("http://chiron.example@evil", "chiron.example@evil"));
  EXPECT_FALSE(origin_matches_host("http://localhost:8080", ""));
}

}  // namespace
}  // namespace chiron::review
