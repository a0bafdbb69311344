#include "kernel/trace_svg.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace chiron::kernel {
namespace {

TraceRecord rec(int64_t ts, std::string lane, uint64_t kernel, std::string type, std::string event) {
  TraceRecord r;
  r.ts_us = ts;
  r.lane = std::move(lane);
  r.device = r.lane.substr(0, r.lane.find('/'));
  r.kernel = kernel;
  r.type = std::move(type);
  r.event = std::move(event);
  return r;
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(TraceSvgTest, DrawsOneBarPerActIntervalWithLanesLegendAndMsTicks) {
  TraceFile f;
  f.records = {rec(0, "cpu/0", 1, "Generate", "act_begin"), rec(4000, "cpu/0", 1, "Generate", "act_end"),
               rec(1000, "disk/0", 2, "Write", "act_begin"), rec(9000, "disk/0", 2, "Write", "act_end"),
               rec(9500, "cpu/1", 3, "Generate", "failed")};
  std::string svg = render_trace_svg(f);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find(">cpu/0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">cpu/1</text>"), std::string::npos);
  EXPECT_NE(svg.find(">disk/0</text>"), std::string::npos);
  EXPECT_LT(svg.find(">cpu/1</text>"), svg.find(">disk/0</text>"));  // cpu lanes first
  EXPECT_NE(svg.find("Generate (1)"), std::string::npos);
  EXPECT_NE(svg.find("Write (1)"), std::string::npos);
  EXPECT_NE(svg.find("time, ms"), std::string::npos);
  EXPECT_NE(svg.find(">8</text>"), std::string::npos);  // a tick label at 8 ms
  EXPECT_EQ(count(svg, "fill=\"#0072B2\"/>"), 2u);     // Generate bar + legend swatch
  EXPECT_NE(svg.find("fill=\"#d00\""), std::string::npos);  // failure marker
}

TEST(TraceSvgTest, EscapesHostileNamesAndSurvivesDegenerateInput) {
  TraceFile f;
  f.records = {rec(5, "<script>&", 1, "\"A'<>", "act_begin")};
  std::string svg = render_trace_svg(f);
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;&amp;"), std::string::npos);
  EXPECT_NE(render_trace_svg(TraceFile{}).find("</svg>"), std::string::npos);
}

TEST(TraceSvgTest, MergesBarsThatTouchAtPixelResolution) {
  TraceFile f;
  for (uint64_t k = 0; k < 10000; ++k) {
    f.records.push_back(rec(static_cast<int64_t>(k * 10), "cpu/0", k, "T", "act_begin"));
    f.records.push_back(rec(static_cast<int64_t>(k * 10 + 9), "cpu/0", k, "T", "act_end"));
  }
  std::string svg = render_trace_svg(f);
  EXPECT_LT(svg.size(), 20'000u);
}

TEST(TraceSvgTest, FileRenderingReportsMissingInputAndAllBadInput) {
  std::string dir = ::testing::TempDir();
  EXPECT_EQ(render_trace_svg("/nonexistent.jsonl", dir + "/x.svg").code(), StatusCode::kNotFound);
  std::ofstream(dir + "/bad.jsonl") << "not json\n{\"ts_us\":\n";
  Status st = render_trace_svg(dir + "/bad.jsonl", dir + "/bad.svg");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("2 malformed lines"), std::string::npos) << st.to_string();
  std::ofstream(dir + "/ok.jsonl")
      << R"({"ts_us":0,"lane":"cpu/0","kernel":1,"type":"A","event":"act_begin"})" << "\n"
      << "junk\n"
      << R"({"ts_us":10,"lane":"cpu/0","kernel":1,"type":"A","event":"act_end"})" << "\n";
  ASSERT_TRUE(render_trace_svg(dir + "/ok.jsonl", dir + "/ok.svg").ok());
  std::stringstream ss;
  ss << std::ifstream(dir + "/ok.svg").rdbuf();
  EXPECT_NE(ss.str().find("1 malformed lines skipped"), std::string::npos);
}

}  // namespace
}  // namespace chiron::kernel
