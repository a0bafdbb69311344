// Fluxional text (graph.h, the paper's Figure 1): the canonical writer, the reader's leniency
// (CRLF, trailing blanks, missing final newline) and its precise "line:col: message" errors.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "flux/graph.h"
#include "graph_testutil.h"

namespace chiron::flux {
namespace {

using testing::kListing2;
using testing::listing2_program;

std::string error_of(std::string_view text) {
  Result<Program> r = read_text(text);
  if (r.ok()) return "(accepted)";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(GraphTextTest, ReadsListing2WithItsExactStructure) {
  Result<Program> r = read_text(kListing2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Program& p = *r;
  ASSERT_EQ(p.fluxions.size(), 3u);
  EXPECT_EQ(p.fluxions[0].id, "main");
  EXPECT_EQ(p.fluxions[0].tags, std::vector<std::string>{"grp_res"});
  EXPECT_TRUE(p.fluxions[0].ctx.empty());
  ASSERT_EQ(p.fluxions[0].streams.size(), 1u);
  EXPECT_EQ(p.fluxions[0].streams[0].type, StreamType::kStart);
  EXPECT_EQ(p.fluxions[0].streams[0].dest, std::vector<std::string>{"handler"});
  EXPECT_EQ(p.fluxions[0].streams[0].vars, std::vector<std::string>{"res"});
  EXPECT_EQ(p.fluxions[1].id, "handler");
  EXPECT_TRUE(p.fluxions[1].tags.empty());
  EXPECT_EQ(p.fluxions[1].streams[0].type, StreamType::kPost);
  EXPECT_EQ(p.fluxions[1].streams[0].dest, std::vector<std::string>{"reply"});
  EXPECT_EQ(p.fluxions[2].id, "reply");
  EXPECT_EQ(p.fluxions[2].ctx, (std::vector<std::string>{"count", "template"}));
  EXPECT_TRUE(p.fluxions[2].streams.empty());
  EXPECT_EQ(p, listing2_program());
}

TEST(GraphTextTest, WritesListing2ByteIdentical) {
  EXPECT_EQ(write_text(listing2_program()), kListing2);
  EXPECT_EQ(write_text(*read_text(kListing2)), kListing2);
}

TEST(GraphTextTest, BodyKeepsBlankLinesAndIndentationBeyondTwoColumns) {
  const Program p = *read_text(kListing2);
  EXPECT_EQ(p.fluxions[0].body,
            "var app = require('express')(),\n    fs = require('fs'),\n    count = 0;\n\napp.get('/', >> handler);\n"
            "app.listen(8080);");
  EXPECT_EQ(p.fluxions[1].body, "function handler(req, res) {\n  fs.readFile(__filename, -> reply);\n}");
}

TEST(GraphTextTest, EmptyProgramIsEmptyText) {
  EXPECT_EQ(write_text(Program{}), "");
  EXPECT_EQ(*read_text(""), Program{});
  EXPECT_EQ(*read_text("\n\n  \t\n"), Program{});
}

TEST(GraphTextTest, IndentedFlxAndArrowLinesAreBody) {
  const std::string text = "flx a\n-> b\n  flx b\n  >> a [x]\n  -> null\n\nflx b\n-> null\n";
  const Program p = *read_text(text);
  ASSERT_EQ(p.fluxions.size(), 2u);
  EXPECT_EQ(p.fluxions[0].body, "flx b\n>> a [x]\n-> null");
  EXPECT_EQ(write_text(p), text);
}

TEST(GraphTextTest, LeadingBlankBodyLineKeptTrailingOnesDropped) {
  const Program p = *read_text("flx a\n-> null\n\n  x\n\n\n\nflx b\n-> null\n  y\n\n\n");
  EXPECT_EQ(p.fluxions[0].body, "\nx");
  EXPECT_EQ(p.fluxions[1].body, "y");
  EXPECT_EQ(write_text(p), "flx a\n-> null\n\n  x\n\nflx b\n-> null\n  y\n");
}

TEST(GraphTextTest, WriterDropsTrailingNewlinesOfABody) {
  Program p;
  p.fluxions.push_back({"a", {}, {}, {}, "x\n\n"});
  EXPECT_EQ(write_text(p), "flx a\n-> null\n  x\n");
}

TEST(GraphTextTest, CrlfReadsAsLf) {
  std::string crlf;
  for (char c : kListing2) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  Result<Program> r = read_text(crlf);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, listing2_program());
}

TEST(GraphTextTest, AcceptsLooseSpacingTrailingBlanksAndNoFinalNewline) {
  const Program p = *read_text("flx\tmain&t1 ,t2{c}  \n>>a,b[ v ]\t\n  body  \nflx a\n->null \nflx b\n-> a");
  ASSERT_EQ(p.fluxions.size(), 3u);
  EXPECT_EQ(p.fluxions[0].tags, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(p.fluxions[0].ctx, std::vector<std::string>{"c"});
  EXPECT_EQ(p.fluxions[0].streams[0].dest, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.fluxions[0].streams[0].vars, std::vector<std::string>{"v"});
  EXPECT_EQ(p.fluxions[0].body, "body  ");  // body bytes are kept verbatim
  EXPECT_TRUE(p.fluxions[1].streams.empty());
  EXPECT_EQ(write_text(p), "flx main & t1, t2 {c}\n>> a, b [v]\n  body  \n\nflx a\n-> null\n\nflx b\n-> a\n");
}

TEST(GraphTextTest, WhitespaceOnlyLinesInABodyAreBlankLines) {
  const Program p = *read_text("flx a\n-> null\n  x\n \n\t\n  \n  y\n   \n");
  EXPECT_EQ(p.fluxions[0].body, "x\n\n\n\ny\n ");
}

TEST(GraphTextTest, SeveralStreamsAndDestinationsInOrder) {
  const std::string text = "flx a\n>> b, c [x, y]\n-> c\n>> a\n\nflx b\n-> null\n\nflx c\n-> null\n";
  const Program p = *read_text(text);
  ASSERT_EQ(p.fluxions[0].streams.size(), 3u);
  EXPECT_EQ(p.fluxions[0].streams[1], (Stream{StreamType::kPost, {"c"}, {}}));
  EXPECT_EQ(p.fluxions[0].streams[2], (Stream{StreamType::kStart, {"a"}, {}}));
  EXPECT_EQ(write_text(p), text);
}

TEST(GraphTextTest, UnicodeBodiesRoundTripAndColumnsCountCharacters) {
  const std::string text = "flx a\n-> null\n  s = 'é 日本 🚀';\n";
  EXPECT_EQ(write_text(*read_text(text)), text);
  EXPECT_EQ(error_of("flx a {é}\n-> null\n"), "1:8: expected a context variable name");
  EXPECT_EQ(error_of("flx a\n-> null\n  'é' \xff\n"), "3:7: invalid UTF-8");
}

struct BadText {
  std::string_view text;
  std::string_view error;
};

class GraphTextErrorTest : public ::testing::TestWithParam<BadText> {};

TEST_P(GraphTextErrorTest, ReportsLineColumnAndReason) { EXPECT_EQ(error_of(GetParam().text), GetParam().error); }

INSTANTIATE_TEST_SUITE_P(
    HostileInputs, GraphTextErrorTest,
    ::testing::Values(
        BadText{"hello\n", "1:1: expected 'flx <id>' to start a fluxion"},
        BadText{"\n  indented\n", "2:1: expected 'flx <id>' to start a fluxion, found an indented line"},
        BadText{"flxmain\n-> null\n", "1:1: expected 'flx <id>' to start a fluxion"},
        BadText{"flx\n-> null\n", "1:4: expected a fluxion id after 'flx'"},
        BadText{"flx 1a\n-> null\n",
                "1:5: expected a fluxion id (an identifier: letters, digits, '_' or '$', not starting with a digit)"},
        BadText{"flx null\n-> null\n", "1:5: 'null' is not a valid fluxion id"},
        BadText{"flx a b\n-> null\n", "1:7: expected '&', '{' or the end of the line after the fluxion id"},
        BadText{"flx a &\n-> null\n", "1:8: expected a tag name"},
        BadText{"flx a & t,\n-> null\n", "1:11: expected a tag name"},
        BadText{"flx a & t u\n-> null\n", "1:11: expected ',', '{' or the end of the line after the tags"},
        BadText{"flx a & t, t\n-> null\n", "1:12: duplicate tag 't'"},
        BadText{"flx a & null\n-> null\n", "1:9: 'null' is not a valid tag name"},
        BadText{"flx a {x\n-> null\n", "1:9: expected '}' to close the context variables"},
        BadText{"flx a {}\n-> null\n", "1:8: expected a context variable name"},
        BadText{"flx a {x, x}\n-> null\n", "1:11: duplicate context variable 'x'"},
        BadText{"flx a {x} y\n-> null\n", "1:11: expected the end of the line after '}'"},
        BadText{"flx a {x} & t\n-> null\n",
                "1:11: expected the end of the line after '}' (tags come before the context: flx id & tags {ctx})"},
        BadText{"flx a\n", "2:1: expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header"},
        BadText{"flx a", "2:1: expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header"},
        BadText{"flx a\n\n-> null\n",
                "2:1: expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header"},
        BadText{"flx a\n  body\n",
                "2:1: expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header"},
        BadText{"flx a\n->\n", "2:3: expected a destination fluxion id"},
        BadText{"flx a\n-> a,\n", "2:6: expected a destination fluxion id"},
        BadText{"flx a\n-> a a\n", "2:6: expected ',', '[' or the end of the line after the destination"},
        BadText{"flx a\n-> a, a\n", "2:7: duplicate destination 'a'"},
        BadText{"flx a\n-> a [x\n", "2:8: expected ']' to close the message variables"},
        BadText{"flx a\n-> a []\n", "2:7: expected a message variable name"},
        BadText{"flx a\n-> a [x, x]\n", "2:10: duplicate message variable 'x'"},
        BadText{"flx a\n-> a [x] y\n", "2:10: expected the end of the line after ']'"},
        BadText{"flx a\n>> null\n",
                "2:4: '>> null' is not a stream; a fluxion without streams has the single line '-> null'"},
        BadText{"flx a\n-> null [x]\n",
                "2:9: expected the end of the line after '-> null' (it stands alone, without destinations or "
                "message variables)"},
        BadText{"flx a\n-> a, null\n", "2:7: 'null' is not a valid destination ('-> null' stands alone on its line)"},
        BadText{"flx a\n-> a\n-> null\n", "3:1: '-> null' must be the only stream line of its fluxion"},
        BadText{"flx a\n-> null\n-> a\n", "3:1: '-> null' must be the only stream line of its fluxion"},
        BadText{"flx a\n-> null\nbody\n", "3:1: expected a stream line, a body line indented by 2 spaces or 'flx <id>'"},
        BadText{"flx a\n-> null\n  x\ny\n", "4:1: body lines must be indented by 2 spaces"},
        BadText{"flx a\n-> null\n  x\n y\n", "4:1: body lines must be indented by 2 spaces, not 1"},
        BadText{"flx a\n-> null\n\tx\n", "3:1: body lines must be indented by 2 spaces, not a tab"},
        BadText{"flx a\n-> null\n  x\n-> a\n", "4:1: stream lines must come right after the fluxion header, before the body"},
        BadText{"flx a\n-> null\n\n-> a\n", "4:1: stream lines must come right after the fluxion header, before the body"},
        BadText{"flx a\n-> b\n", "2:4: unknown destination fluxion 'b'"},
        BadText{"flx a\n>> a, a_, b [x]\n\nflx a_\n-> null\n", "2:11: unknown destination fluxion 'b'"},
        BadText{"flx a\n-> null\n\nflx b\n-> null\n\nflx  a\n-> null\n",
                "7:6: duplicate fluxion id 'a' (first on line 1)"},
        BadText{"flx a\r-> null\n", "1:6: carriage return not followed by a line feed"},
        BadText{"flx a\n-> null\n  x\r\r\n", "3:4: carriage return not followed by a line feed"},
        BadText{"flx \xc3\xa9\n-> null\n",
                "1:5: expected a fluxion id (an identifier: letters, digits, '_' or '$', not starting with a digit)"},
        BadText{"flx a\xc3\n-> null\n", "1:6: invalid UTF-8"},
        BadText{"flx a\n-> null\n  \xed\xa0\x80\n", "3:3: invalid UTF-8"},
        BadText{std::string_view("flx a\0\n-> null\n", 15),
                "1:6: expected '&', '{' or the end of the line after the fluxion id"}));

TEST(GraphTextTest, QuotesHostileNamesInErrors) {
  // Only identifiers reach the messages, but ids can be long: they are cut after 40 characters.
  const std::string id(100, 'x');
  EXPECT_EQ(error_of("flx a\n-> " + id + "\n"),
            "2:4: unknown destination fluxion '" + std::string(40, 'x') + "...'");
}

TEST(GraphTextTest, BodyLimitIsOneMebibyte) {
  std::string text = "flx a\n-> null\n";
  const std::string line(1023, 'x');
  for (int i = 0; i < 1024; ++i) text += "  " + line + "\n";  // 1024 * 1024 - 1 bytes of body
  Result<Program> ok = read_text(text);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->fluxions[0].body.size(), kMaxBodyBytes - 1);
  EXPECT_EQ(error_of(text + "\n\n  y\n"), "1029:1: the body of fluxion 'a' is longer than 1048576 bytes");
  EXPECT_EQ(write_text(*ok), text);
}

TEST(GraphTextTest, NameListLimit) {
  std::string header = "flx a &";
  for (size_t i = 0; i < kMaxNamesPerList; ++i) header += (i ? ", t" : " t") + std::to_string(i);
  Result<Program> ok = read_text(header + "\n-> null\n");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->fluxions[0].tags.size(), kMaxNamesPerList);
  EXPECT_EQ(error_of(header + ", extra\n-> null\n"),
            "1:" + std::to_string(header.size() + 3) + ": more than 10000 names in one list");
}

TEST(GraphTextTest, FluxionCountLimit) {
  std::string text;
  for (size_t i = 0; i <= kMaxFluxions; ++i) text += "flx f" + std::to_string(i) + "\n-> null\n";
  EXPECT_EQ(error_of(text), std::to_string(2 * kMaxFluxions + 1) + ":1: more than 100000 fluxions");
  text.resize(text.rfind("flx"));
  Result<Program> ok = read_text(text);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->fluxions.size(), kMaxFluxions);
}

TEST(GraphTextTest, DocumentLimit) {
  const std::string huge(kMaxDocumentBytes + 1, '\n');
  EXPECT_EQ(error_of(huge), "1:1: text longer than 67108864 bytes");
}

TEST(GraphTextTest, RandomProgramsRoundTrip) {
  std::mt19937_64 rng(20261122);
  for (int i = 0; i < 2000; ++i) {
    const Program p = testing::random_program(rng);
    ASSERT_TRUE(validate(p).ok()) << validate(p).to_string();
    const std::string text = write_text(p);
    Result<Program> back = read_text(text);
    ASSERT_TRUE(back.ok()) << back.status().to_string() << "\n" << text;
    ASSERT_EQ(*back, p) << text;
    ASSERT_EQ(write_text(*back), text);
  }
}

TEST(GraphTextTest, RandomEditsOfCanonicalTextNeverCrashAndStayStable) {
  // Whatever the reader accepts, it writes canonically and reads back to the same Program.
  std::mt19937_64 rng(7);
  const std::string base = std::string(kListing2);
  static constexpr char kBytes[] = {' ', '\n', '\r', '\t', '>', '-', '[', ']', '{', '}', '&', ',', 'f', 'x', '\0'};
  for (int i = 0; i < 20000; ++i) {
    std::string t = base;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
      const size_t at = rng() % (t.size() + 1);
      switch (rng() % 3) {
        case 0: t.insert(at, 1, kBytes[rng() % sizeof kBytes]); break;
        case 1: if (at < t.size()) t.erase(at, 1); break;
        default: if (at < t.size()) t[at] = kBytes[rng() % sizeof kBytes]; break;
      }
    }
    Result<Program> r = read_text(t);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(validate(*r).ok()) << t;
    const std::string w = write_text(*r);
    Result<Program> again = read_text(w);
    ASSERT_TRUE(again.ok()) << again.status().to_string() << "\n" << w;
    ASSERT_EQ(*again, *r);
  }
}

TEST(GraphModelTest, ValidateNamesThePath) {
  Program p = listing2_program();
  EXPECT_TRUE(validate(p).ok());
  p.fluxions[1].streams[0].dest = {"reply", "nowhere"};
  EXPECT_EQ(validate(p).message(), "fluxions[1].streams[0].dest[1]: unknown fluxion 'nowhere'");
  p = listing2_program();
  p.fluxions[2].id = "main";
  EXPECT_EQ(validate(p).message(), "fluxions[2].id: duplicate fluxion id 'main' (also fluxions[0])");
  p = listing2_program();
  p.fluxions[0].id = "bad id";
  EXPECT_EQ(validate(p).message(), "fluxions[0].id: 'bad id' is not a valid fluxion id");
  p = listing2_program();
  p.fluxions[2].ctx = {"count", "count"};
  EXPECT_EQ(validate(p).message(), "fluxions[2].ctx[1]: duplicate context variable 'count'");
  p = listing2_program();
  p.fluxions[0].streams[0].dest.clear();
  EXPECT_EQ(validate(p).message(), "fluxions[0].streams[0].dest: must name at least one fluxion");
  p = listing2_program();
  p.fluxions[0].tags = {"null"};
  EXPECT_EQ(validate(p).message(), "fluxions[0].tags[0]: 'null' is not a valid tag");
  p = listing2_program();
  p.fluxions[0].streams[0].vars = {"a'\n"};
  EXPECT_EQ(validate(p).message(), "fluxions[0].streams[0].vars[0]: 'a\\x27\\x0a' is not a valid message variable");
}

TEST(GraphModelTest, IdentifiersAndNames) {
  EXPECT_TRUE(is_identifier("a"));
  EXPECT_TRUE(is_identifier("$_a9"));
  EXPECT_TRUE(is_identifier("anonymous_1000"));
  EXPECT_FALSE(is_identifier(""));
  EXPECT_FALSE(is_identifier("9a"));
  EXPECT_FALSE(is_identifier("a-b"));
  EXPECT_FALSE(is_identifier("null"));
  EXPECT_FALSE(is_identifier("é"));
  EXPECT_EQ(stream_type_name(StreamType::kStart), "start");
  EXPECT_EQ(stream_type_name(StreamType::kPost), "post");
  EXPECT_EQ(stream_arrow(StreamType::kStart), ">>");
  EXPECT_EQ(stream_arrow(StreamType::kPost), "->");
  const Program p = listing2_program();
  ASSERT_NE(p.find("reply"), nullptr);
  EXPECT_EQ(p.find("reply")->ctx.size(), 2u);
  EXPECT_EQ(p.find("nope"), nullptr);
}

}  // namespace
}  // namespace chiron::flux
