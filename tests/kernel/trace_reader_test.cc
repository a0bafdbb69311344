#include "kernel/trace_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace chiron::kernel {
namespace {

constexpr const char* kGood =
    R"({"ts_us":123,"lane":"cpu/0","device":"cpu","kernel":42,"type":"Generate","event":"act_begin"})";

TEST(TraceReaderTest, ParsesAWellFormedLine) {
  auto r = parse_trace_line(kGood);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->ts_us, 123);
  EXPECT_EQ(r->lane, "cpu/0");
  EXPECT_EQ(r->device, "cpu");
  EXPECT_EQ(r->kernel, 42u);
  EXPECT_EQ(r->type, "Generate");
  EXPECT_EQ(r->event, "act_begin");
}

TEST(TraceReaderTest, AcceptsEscapesUnknownKeysAndDefaults) {
  auto r = parse_trace_line(
      R"( { "event" : "react", "x": [], "kernel":1, "ts_us":-5, "lane":"disk\/1", "type":"A\u00e9\ud83d\ude00" } )");
  EXPECT_FALSE(r.ok());  // nested values are refused
  r = parse_trace_line(
      R"( { "event" : "react", "x": 1.5e3, "y":null, "z":true, "kernel":1, "ts_us":-5, "lane":"disk\/1", "type":"A\u00e9\ud83d\ude00" } )");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->lane, "disk/1");
  EXPECT_EQ(r->device, "disk");
  EXPECT_EQ(r->type, "A\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(r->ts_us, -5);
}

TEST(TraceReaderTest, RejectsHostileLinesWithAReason) {
  const char* bad[] = {
      "",
      "{",
      "}",
      "[1,2]",
      R"({"ts_us":1,"lane":"cpu/0","kernel":1,"event":"act_begin")",          // truncated
      R"({"ts_us":1,"lane":"cpu/0","kernel":1,"event":"act_begin"} x)",       // trailing
      R"({"ts_us":1.5,"lane":"cpu/0","kernel":1,"event":"a"})",               // fraction
      R"({"ts_us":99999999999999999999,"lane":"c","kernel":1,"event":"a"})",  // overflow
      R"({"ts_us":1,"lane":"c","kernel":-1,"event":"a"})",                    // negative id
      R"({"ts_us":1,"lane":"c","kernel":1})",                                 // no event
      R"({"lane":"c","kernel":1,"event":"a"})",                               // no ts
      R"({"ts_us":1,"lane":"c\q","kernel":1,"event":"a"})",                   // bad escape
      R"({"ts_us":1,"lane":"\ud800","kernel":1,"event":"a"})",                // lone surrogate
      R"({"ts_us":1,"lane":"\u12","kernel":1,"event":"a"})",                  // short \u
      "{\"ts_us\":1,\"lane\":\"a\tb\",\"kernel\":1,\"event\":\"a\"}",         // raw control char
      R"({"ts_us":1,"lane":"c","kernel":1,"event":"a",})",                    // trailing comma
      R"({"ts_us":1 "lane":"c"})",                                            // missing comma
      R"({"ts_us":-,"lane":"c","kernel":1,"event":"a"})",
      R"({"ts_us":1,"lane":"c","kernel":1,"event":"a","x":tru})",
      R"({"ts_us":1,"lane":"c","kernel":1,"event":"a","x":{"y":1}})",
  };
  for (const char* line : bad) {
    auto r = parse_trace_line(line);
    EXPECT_FALSE(r.ok()) << line;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(TraceReaderTest, RejectsOverlongLinesAndStrings) {
  std::string huge = R"({"ts_us":1,"lane":")" + std::string(kMaxTraceLineBytes, 'a') + R"(","kernel":1,"event":"a"})";
  EXPECT_FALSE(parse_trace_line(huge).ok());
  std::string long_string = R"({"ts_us":1,"lane":")" + std::string(5000, 'a') + R"(","kernel":1,"event":"a"})";
  EXPECT_FALSE(parse_trace_line(long_string).ok());
}

TEST(TraceReaderTest, SkipsAndCountsBadLinesKeepingTheFirstError) {
  std::string text = std::string(kGood) + "\n\n{garbage\n" + kGood + "\r\n" + std::string("\0\xff\n", 3) + kGood;
  TraceFile f = parse_trace_jsonl(text);
  EXPECT_EQ(f.records.size(), 3u);
  EXPECT_EQ(f.skipped_lines, 2u);
  EXPECT_EQ(f.first_error.rfind("line 3:", 0), 0u) << f.first_error;
}

TEST(TraceReaderTest, AFluxionRunBecomesABeginAndAnEndOnItsThreadsLane) {
  TraceFile f = parse_trace_jsonl(
      "{\"fluxion\":\"handler\",\"thread\":3,\"t0\":120,\"t1\":380}\n"
      "{\"fluxion\":\"reply\",\"thread\":0,\"t0\":400,\"t1\":410}\n" + std::string(kGood));
  ASSERT_EQ(f.records.size(), 5u) << f.first_error;
  EXPECT_EQ(f.records[0].lane, "worker/3");
  EXPECT_EQ(f.records[0].device, "worker");
  EXPECT_EQ(f.records[0].type, "handler");
  EXPECT_EQ(f.records[0].event, "act_begin");
  EXPECT_EQ(f.records[0].ts_us, 120);
  EXPECT_EQ(f.records[1].event, "act_end");
  EXPECT_EQ(f.records[1].ts_us, 380);
  EXPECT_EQ(f.records[0].kernel, f.records[1].kernel);
  EXPECT_EQ(f.records[2].lane, "main");
  EXPECT_EQ(f.records[2].type, "reply");
  EXPECT_NE(f.records[2].kernel, f.records[0].kernel);
  EXPECT_EQ(f.records[4].lane, "cpu/0");  // the kernel form still reads
}

TEST(TraceReaderTest, RejectsHostileFluxionLinesWithAReason) {
  const char* bad[] = {
      R"({"fluxion":"h","thread":1,"t0":5})",                  // no t1
      R"({"fluxion":"h","t0":1,"t1":2})",                      // no thread
      R"({"fluxion":"h","thread":-1,"t0":1,"t1":2})",          // negative thread
      R"({"fluxion":"h","thread":1,"t0":9,"t1":2})",           // t1 before t0
      R"({"fluxion":"","thread":1,"t0":1,"t1":2})",            // empty id
      R"({"fluxion":7,"thread":1,"t0":1,"t1":2})",             // not a string
      R"({"fluxion":"h","thread":1.5,"t0":1,"t1":2})",         // fraction
      R"({"fluxion":"h","thread":1,"t0":1,"t1":1e3})",         // exponent
      R"({"fluxion":"h","thread":1,"t0":1,"t1":99999999999999999999})",
      R"({"fluxion":["h"],"thread":1,"t0":1,"t1":2})",         // nested
  };
  for (const char* line : bad) {
    auto r = parse_trace_records(line, 1);
    EXPECT_FALSE(r.ok()) << line;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  TraceFile f = parse_trace_jsonl(std::string(bad[0]) + "\n" + kGood);
  EXPECT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.skipped_lines, 1u);
}

TEST(TraceReaderTest, MissingFileIsNotFound) {
  EXPECT_EQ(read_trace_file("/nonexistent/trace.jsonl").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chiron::kernel
