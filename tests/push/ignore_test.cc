#include "push/ignore.h"

#include <gtest/gtest.h>

#include <string>

namespace chiron::push {
namespace {

bool ign(const IgnoreTree& t, const std::string& p, bool dir = false) { return t.ignored(p, dir); }

IgnoreTree root_rules(std::string_view text) {
  IgnoreTree t;
  t.set_rules("", text, "");
  return t;
}

TEST(WildmatchTest, StarAndQuestionStopAtSlash) {
  EXPECT_TRUE(wildmatch("*.o", "a.o"));
  EXPECT_FALSE(wildmatch("*.o", "d/a.o"));
  EXPECT_TRUE(wildmatch("a?c", "abc"));
  EXPECT_FALSE(wildmatch("a?c", "a/c"));
  EXPECT_TRUE(wildmatch("a/*/c", "a/b/c"));
  EXPECT_FALSE(wildmatch("a/*/c", "a/b/x/c"));
}

TEST(WildmatchTest, DoubleStarForms) {
  EXPECT_TRUE(wildmatch("**/foo", "foo"));
  EXPECT_TRUE(wildmatch("**/foo", "a/b/foo"));
  EXPECT_TRUE(wildmatch("abc/**", "abc/x"));
  EXPECT_TRUE(wildmatch("abc/**", "abc/x/y"));
  EXPECT_FALSE(wildmatch("abc/**", "abc"));
  EXPECT_TRUE(wildmatch("a/**/b", "a/b"));
  EXPECT_TRUE(wildmatch("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(wildmatch("a/**/b", "a/x/y/c"));
  // "**" not between slashes is an ordinary star.
  EXPECT_TRUE(wildmatch("a**b", "axxb"));
  EXPECT_FALSE(wildmatch("a**b", "a/b"));
}

TEST(WildmatchTest, BracketExpressions) {
  EXPECT_TRUE(wildmatch("[abc].txt", "b.txt"));
  EXPECT_FALSE(wildmatch("[abc].txt", "d.txt"));
  EXPECT_TRUE(wildmatch("[!abc].txt", "d.txt"));
  EXPECT_TRUE(wildmatch("[^abc].txt", "d.txt"));
  EXPECT_TRUE(wildmatch("[a-c]x", "bx"));
  EXPECT_FALSE(wildmatch("[a-c]x", "dx"));
  EXPECT_TRUE(wildmatch("[]]", "]"));
  EXPECT_TRUE(wildmatch("[[:digit:]]*", "7up"));
  EXPECT_FALSE(wildmatch("[[:digit:]]*", "up"));
  EXPECT_FALSE(wildmatch("[/]", "/"));
  EXPECT_FALSE(wildmatch("[abc", "a"));          // unterminated: matches nothing
  EXPECT_FALSE(wildmatch("[[:bogus:]]", "a"));   // unknown class: matches nothing
}

TEST(WildmatchTest, EscapesAreLiteral) {
  EXPECT_TRUE(wildmatch("\\*", "*"));
  EXPECT_FALSE(wildmatch("\\*", "x"));
  EXPECT_TRUE(wildmatch("a\\?", "a?"));
  EXPECT_FALSE(wildmatch("a\\", "a"));  // trailing backslash: no match
}

TEST(WildmatchTest, HostilePatternsTerminate) {
  const std::string text(2000, 'a');
  std::string pat;
  for (int i = 0; i < 200; ++i) pat += "*a";
  pat += "b";
  EXPECT_FALSE(wildmatch(pat, text));
  std::string stars;
  for (int i = 0; i < 300; ++i) stars += "**/";
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "d/";
  EXPECT_FALSE(wildmatch(stars + "x", deep + "y"));
}

TEST(ParseIgnoreTest, CommentsBlanksTrailingSpacesAndEscapes) {
  auto p = parse_ignore("# comment\n\n   \nfoo   \nbar\\ \n\\#hash\n\\!bang\n!keep\nbuild/\n/top\r\n");
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[0].glob, "foo");
  EXPECT_EQ(p[1].glob, "bar\\ ");
  EXPECT_EQ(p[2].glob, "\\#hash");
  EXPECT_FALSE(p[2].negate);
  EXPECT_EQ(p[3].glob, "\\!bang");
  EXPECT_FALSE(p[3].negate);
  EXPECT_TRUE(p[4].negate);
  EXPECT_TRUE(p[5].dir_only);
  EXPECT_FALSE(p[5].anchored);
  EXPECT_TRUE(p[6].anchored);
  EXPECT_EQ(p[6].glob, "top");
}

TEST(ParseIgnoreTest, BlankLineOfSpacesIsNotAPattern) {
  EXPECT_TRUE(parse_ignore("   \n!\n/\n!/\n").empty());
}

TEST(ParseIgnoreTest, SkipsBom) {
  auto p = parse_ignore("\xEF\xBB\xBF*.o\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].glob, "*.o");
}

TEST(IgnoreTreeTest, BasenamePatternMatchesAtAnyDepth) {
  auto t = root_rules("*.o\n");
  EXPECT_TRUE(ign(t, "a.o"));
  EXPECT_TRUE(ign(t, "x/y/a.o"));
  EXPECT_FALSE(ign(t, "a.c"));
}

TEST(IgnoreTreeTest, SlashAnchorsToTheRuleDirectory) {
  auto t = root_rules("/todo.txt\ndoc/*.txt\n");
  EXPECT_TRUE(ign(t, "todo.txt"));
  EXPECT_FALSE(ign(t, "sub/todo.txt"));
  EXPECT_TRUE(ign(t, "doc/a.txt"));
  EXPECT_FALSE(ign(t, "doc/x/a.txt"));
  EXPECT_FALSE(ign(t, "y/doc/a.txt"));
}

TEST(IgnoreTreeTest, TrailingSlashMatchesDirectoriesOnly) {
  auto t = root_rules("build/\n");
  EXPECT_TRUE(ign(t, "build", true));
  EXPECT_FALSE(ign(t, "build", false));
  EXPECT_TRUE(ign(t, "build/out.bin"));
  EXPECT_TRUE(ign(t, "sub/build/out.bin"));
}

TEST(IgnoreTreeTest, NegationReincludesAndLastMatchWins) {
  auto t = root_rules("*.log\n!keep.log\n");
  EXPECT_TRUE(ign(t, "a.log"));
  EXPECT_FALSE(ign(t, "keep.log"));
  auto t2 = root_rules("!keep.log\n*.log\n");
  EXPECT_TRUE(ign(t2, "keep.log"));
}

TEST(IgnoreTreeTest, FileUnderExcludedDirectoryCannotBeReincluded) {
  auto t = root_rules("logs/\n!logs/important.txt\n");
  EXPECT_TRUE(ign(t, "logs/important.txt"));
  // Excluding the contents (not the directory) does allow re-inclusion.
  auto t2 = root_rules("logs/*\n!logs/important.txt\n");
  EXPECT_FALSE(ign(t2, "logs/important.txt"));
  EXPECT_TRUE(ign(t2, "logs/other.txt"));
}

TEST(IgnoreTreeTest, NestedRulesApplyToTheirSubtreeAndOverrideParents) {
  IgnoreTree t;
  t.set_rules("", "*.tmp\n", "");
  t.set_rules("sub", "!*.tmp\nlocal.txt\n/anchored\n", "");
  EXPECT_TRUE(ign(t, "a.tmp"));
  EXPECT_FALSE(ign(t, "sub/a.tmp"));
  EXPECT_FALSE(ign(t, "sub/deeper/a.tmp"));
  EXPECT_TRUE(ign(t, "sub/local.txt"));
  EXPECT_FALSE(ign(t, "local.txt"));
  EXPECT_TRUE(ign(t, "sub/anchored"));
  EXPECT_FALSE(ign(t, "sub/x/anchored"));
}

TEST(IgnoreTreeTest, ChironignoreComesAfterGitignore) {
  IgnoreTree t;
  t.set_rules("", "*.md\n", "!README.md\nsecret.env\n");
  EXPECT_TRUE(ign(t, "notes.md"));
  EXPECT_FALSE(ign(t, "README.md"));
  EXPECT_TRUE(ign(t, "secret.env"));
}

TEST(IgnoreTreeTest, GitDirectoryAlwaysIgnored) {
  IgnoreTree t;
  EXPECT_TRUE(ign(t, ".git", true));
  EXPECT_TRUE(ign(t, ".git/config"));
  EXPECT_TRUE(ign(t, "sub/.git/HEAD"));
  EXPECT_FALSE(ign(t, ".gitignore"));
  EXPECT_FALSE(ign(t, "x.git"));
}

TEST(IgnoreTreeTest, DoubleStarPatterns) {
  auto t = root_rules("**/cache\nvendor/**\na/**/z.txt\n");
  EXPECT_TRUE(ign(t, "cache", true));
  EXPECT_TRUE(ign(t, "p/q/cache/x"));
  EXPECT_TRUE(ign(t, "vendor/lib/x.c"));
  EXPECT_FALSE(ign(t, "vendor", true));
  EXPECT_TRUE(ign(t, "a/z.txt"));
  EXPECT_TRUE(ign(t, "a/b/c/z.txt"));
}

TEST(IgnoreTreeTest, HostileRuleFilesDoNotCrash) {
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += std::string(1, static_cast<char>(i * 37 % 256)) + "[\\!*?/**\n";
  IgnoreTree t;
  t.set_rules("", junk, std::string(100000, '*'));
  (void)t.ignored("a/b/c", false);
  (void)t.ignored(std::string(5000, '/'), true);
  (void)t.ignored("", false);
  SUCCEED();
}

}  // namespace
}  // namespace chiron::push
