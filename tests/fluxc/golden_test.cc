// Golden tests of the fluxion compiler (research §6.8–6.11, issue 8 part B): for each
// tests/fluxc/golden/<name>.js, the fluxional text must match <name>.flx — `flx` header and
// stream lines exactly, bodies modulo whitespace — two runs must be byte-identical, and the
// JSON must read back (flux::from_json) to the same text. <name>.callees.json, when present,
// is the --callees file; listing1, figure5 and listing3 also have their exact JSON (<name>.json).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flux/graph.h"
#include "fluxc/compile.h"

namespace chiron::fluxc {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(__FILE__).parent_path() / "golden"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Split {
  std::vector<std::string> structure;  // header and stream lines, in order
  std::vector<std::string> bodies;     // per fluxion, whitespace removed
};

// Splits fluxional text into its structure lines and bodies (without whitespace).
Split split(const std::string& text) {
  Split s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flx ", 0) == 0) {
      s.structure.push_back(line);
      s.bodies.emplace_back();
    } else if (line.rfind(">> ", 0) == 0 || line.rfind("-> ", 0) == 0) {
      s.structure.push_back(line);
    } else if (!s.bodies.empty()) {
      for (char c : line) {
        if (c != ' ' && c != '\t') s.bodies.back() += c;
      }
    }
  }
  return s;
}

Result<Compilation> compile_golden(const std::string& name) {
  CompileOptions opts;
  opts.filename = name + ".js";
  fs::path callees = golden_dir() / (name + ".callees.json");
  if (fs::exists(callees)) {
    auto table = read_callees(slurp(callees));
    if (!table.ok()) return table.status();
    opts.callees = std::move(*table);
  }
  return compile(slurp(golden_dir() / (name + ".js")), opts);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesExpectedFluxionalText) {
  const std::string name = GetParam();
  auto c = compile_golden(name);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const std::string text = to_text(*c);
  const std::string expected = slurp(golden_dir() / (name + ".flx"));
  ASSERT_FALSE(expected.empty()) << "missing " << name << ".flx";
  Split got = split(text), want = split(expected);
  EXPECT_EQ(got.structure, want.structure) << text;
  EXPECT_EQ(got.bodies, want.bodies) << text;
}

TEST_P(GoldenTest, TwoRunsAreByteIdentical) {
  const std::string name = GetParam();
  auto a = compile_golden(name);
  auto b = compile_golden(name);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(to_text(*a), to_text(*b));
  EXPECT_EQ(boost::json::serialize(to_json(*a)), boost::json::serialize(to_json(*b)));
}

TEST_P(GoldenTest, JsonReadsBackToTheSameText) {
  auto c = compile_golden(GetParam());
  ASSERT_TRUE(c.ok());
  const std::string json_text = boost::json::serialize(to_json(*c));
  auto back = flux::read_json(json_text);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, c->program());
  EXPECT_EQ(flux::write_text(*back), to_text(*c));
  // And the text reads back to the same program.
  auto from_text = flux::read_text(to_text(*c));
  ASSERT_TRUE(from_text.ok()) << from_text.status().to_string();
  EXPECT_EQ(*from_text, c->program());
}

INSTANTIATE_TEST_SUITE_P(Goldens, GoldenTest,
                         ::testing::Values("listing1", "figure5", "count3", "count4", "count5", "persistent_stream",
                                           "listing3", "listing3_start"));

// The exact JSON (variables, classes, streams' callees and lines, skipped calls).
TEST(GoldenJsonTest, MatchesExpectedJson) {
  for (const char* name : {"listing1", "figure5", "listing3"}) {
    auto c = compile_golden(name);
    ASSERT_TRUE(c.ok());
    boost::json::value want = boost::json::parse(slurp(golden_dir() / (std::string(name) + ".json")));
    boost::json::value got = to_json(*c);
    EXPECT_EQ(got, want) << name << ": " << boost::json::serialize(got);
  }
}

// The exact lines the issue names (a guard against someone "fixing" a .flx file).
TEST(GoldenLinesTest, Listing1GivesListing2Structure) {
  auto c = compile_golden("listing1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(split(to_text(*c)).structure,
            (std::vector<std::string>{"flx main & grp_res", ">> handler [res]", "flx handler", "-> reply [res]",
                                      "flx reply & grp_res {count, template}", "-> null"}));
}

TEST(GoldenLinesTest, Figure5GivesScopeStreamShare) {
  auto c = compile_golden("figure5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(split(to_text(*c)).structure,
            (std::vector<std::string>{"flx main", ">> onReq [req]", "flx onReq", "-> add [b]", "flx add & grp_c {a, c}",
                                      "-> end", "flx end & grp_c {c}", "-> null"}));
}

TEST(GoldenLinesTest, Listing3WithRawBodyAsPost) {
  auto c = compile_golden("listing3");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(split(to_text(*c)).structure,
            (std::vector<std::string>{"flx main & grp_req", "-> anonymous_1000 [req, next]",
                                      "flx anonymous_1000 & grp_req", "-> null"}));
  ASSERT_EQ(c->skipped.size(), 1u);
  EXPECT_EQ(c->skipped[0].callee, "app.post");
  EXPECT_EQ(c->skipped[0].line, 18u);
  EXPECT_NE(c->skipped[0].reason.find("argument 2 is not a function written in place (bodyParser(...))"),
            std::string::npos)
      << c->skipped[0].reason;
  EXPECT_NE(c->skipped[0].reason.find("argument 3 is not a function written in place (routes.writeTextToImages)"),
            std::string::npos)
      << c->skipped[0].reason;
}

TEST(GoldenLinesTest, Listing3WithRawBodyAsStart) {
  auto c = compile_golden("listing3_start");
  ASSERT_TRUE(c.ok());
  auto lines = split(to_text(*c)).structure;
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "flx main & grp_req");
  EXPECT_EQ(lines[1].rfind(">> anonymous_1000 [req, ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], "flx anonymous_1000 & grp_req");
}

}  // namespace
}  // namespace chiron::fluxc
