// Hostile-input tests for the RESP command parser and the reply encoders: bytes in, commands out.

#include "net/resp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chiron::net {
namespace {

using Args = std::vector<std::string>;

struct Parsed {
  std::vector<RespCommand> commands;
  std::string error;  // empty if none
  size_t consumed = 0;
};

// Feeds data in pieces of `step` bytes; collects commands until an error or the end.
Parsed parse_all(std::string_view data, size_t step = SIZE_MAX, RespLimits limits = {}) {
  RespParser parser(limits);
  Parsed out;
  for (size_t pos = 0; pos < data.size();) {
    std::string_view chunk = data.substr(pos, std::min(step, data.size() - pos));
    size_t off = 0;
    while (off < chunk.size()) {
      std::optional<RespCommand> cmd;
      auto used = parser.parse(chunk.substr(off), cmd);
      if (!used.ok()) {
        out.error = used.status().message();
        return out;
      }
      off += *used;
      if (cmd) out.commands.push_back(std::move(*cmd));
    }
    pos += off;
    out.consumed = pos;
  }
  return out;
}

Args only_args(std::string_view data, size_t step = SIZE_MAX) {
  Parsed p = parse_all(data, step);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.commands.size(), 1u);
  return p.commands.empty() ? Args{} : p.commands[0].args;
}

TEST(RespParserTest, ParsesArrayOfBulkStrings) {
  Parsed p = parse_all("*2\r\n$3\r\nREQ\r\n$3\r\nweb\r\n");
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_EQ(p.commands[0].args, (Args{"REQ", "web"}));
  EXPECT_FALSE(p.commands[0].is_inline);
}

TEST(RespParserTest, ParsesInlineCommandWithLfOrCrlf) {
  EXPECT_EQ(only_args("REQ web\n"), (Args{"REQ", "web"}));
  EXPECT_EQ(only_args("REQ   web  \r\n"), (Args{"REQ", "web"}));
  Parsed p = parse_all("PING\r\n");
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_TRUE(p.commands[0].is_inline);
}

TEST(RespParserTest, ParsesPipelinedMixOfBothForms) {
  std::string data = "PING\r\n*1\r\n$4\r\nPING\r\nREG web 10.0.0.1:80\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
  for (size_t step : std::vector<size_t>{1, 2, 7, SIZE_MAX}) {
    Parsed p = parse_all(data, step);
    EXPECT_EQ(p.error, "");
    ASSERT_EQ(p.commands.size(), 4u) << step;
    EXPECT_EQ(p.commands[0].args, (Args{"PING"}));
    EXPECT_EQ(p.commands[1].args, (Args{"PING"}));
    EXPECT_EQ(p.commands[2].args, (Args{"REG", "web", "10.0.0.1:80"}));
    EXPECT_EQ(p.commands[3].args, (Args{"SET", "k", ""}));
  }
}

TEST(RespParserTest, StopsAfterEachCommandSoCallerCanReplyInOrder) {
  RespParser parser;
  std::string data = "A\nB\n";
  std::optional<RespCommand> cmd;
  auto used = parser.parse(data, cmd);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 2u);
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->args, (Args{"A"}));
}

TEST(RespParserTest, KeepsBinaryDataInBulkStrings) {
  std::string payload("a\r\nb\0c\xff", 7);
  std::string data = "*2\r\n$3\r\nSET\r\n$7\r\n" + payload + "\r\n";
  for (size_t step : std::vector<size_t>{1, SIZE_MAX}) {
    Args args = only_args(data, step);
    ASSERT_EQ(args.size(), 2u);
    EXPECT_EQ(args[1], payload);
  }
}

TEST(RespParserTest, SkipsEmptyArraysAndBlankLines) {
  Parsed p = parse_all("*0\r\n*-1\r\n\r\n\n   \r\nPING\r\n");
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_EQ(p.commands[0].args, (Args{"PING"}));
}

TEST(RespParserTest, ParsesQuotedInlineArguments) {
  EXPECT_EQ(only_args("SET \"hello world\" 'it\\'s' \"a\\nb\"\r\n"), (Args{"SET", "hello world", "it's", "a\nb"}));
}

TEST(RespParserTest, RejectsNegativeBulkLength) {
  EXPECT_EQ(parse_all("*1\r\n$-1\r\n").error, "invalid bulk length");
  EXPECT_EQ(parse_all("*1\r\n$-5\r\n").error, "invalid bulk length");
}

TEST(RespParserTest, RejectsHugeLengthsBeforeBuffering) {
  EXPECT_EQ(parse_all("*1\r\n$9999999999\r\n").error, "invalid bulk length");
  EXPECT_EQ(parse_all("*1\r\n$99999999999999999999999\r\n").error, "invalid bulk length");
  EXPECT_EQ(parse_all("*99999999\r\n").error, "invalid multibulk length");
  RespLimits small{.max_args = 4, .max_bulk_bytes = 8, .max_inline_bytes = 32};
  EXPECT_EQ(parse_all("*5\r\n", SIZE_MAX, small).error, "invalid multibulk length");
  EXPECT_EQ(parse_all("*1\r\n$9\r\n", SIZE_MAX, small).error, "invalid bulk length");
  EXPECT_EQ(parse_all("*1\r\n$8\r\n12345678\r\n", SIZE_MAX, small).error, "");
}

TEST(RespParserTest, RejectsNonDigitLengths) {
  for (std::string bad : {"*x\r\n", "*\r\n", "*1x\r\n", "*+1\r\n", "* 1\r\n", "*1.5\r\n"}) {
    EXPECT_EQ(parse_all(bad).error, "invalid multibulk length") << bad;
  }
  for (std::string bad : {"*1\r\n$x\r\n", "*1\r\n$\r\n", "*1\r\n$3 \r\n", "*1\r\n$+3\r\n"}) {
    EXPECT_EQ(parse_all(bad).error, "invalid bulk length") << bad;
  }
}

TEST(RespParserTest, RejectsMissingCrlf) {
  EXPECT_EQ(parse_all("*1\n$4\r\nPING\r\n").error, "invalid multibulk length");
  EXPECT_EQ(parse_all("*1\r\n$4\nPING\r\n").error, "invalid bulk length");
  EXPECT_EQ(parse_all("*1\r\n$4\r\nPINGX\r\n").error, "expected CRLF after bulk string");
  EXPECT_EQ(parse_all("*1\r\n$4\r\nPING\rX").error, "expected CRLF after bulk string");
}

TEST(RespParserTest, RejectsElementThatIsNotABulkString) {
  EXPECT_EQ(parse_all("*1\r\n:4\r\n").error, "expected '$', got ':'");
  EXPECT_EQ(parse_all("*1\r\n\x01\r\n").error, "expected '$', got '\\x01'");
}

TEST(RespParserTest, RejectsOverlongLines) {
  RespLimits small{.max_args = 4, .max_bulk_bytes = 8, .max_inline_bytes = 32};
  EXPECT_EQ(parse_all(std::string(33, 'a'), 1, small).error, "too big inline request");
  EXPECT_EQ(parse_all("*" + std::string(40, '1'), SIZE_MAX, small).error, "too big mbulk count string");
  EXPECT_EQ(parse_all("*1\r\n$" + std::string(40, '1'), SIZE_MAX, small).error, "too big bulk count string");
  EXPECT_EQ(parse_all(std::string(32, 'a') + "\n", SIZE_MAX, small).error, "");
}

TEST(RespParserTest, RejectsUnbalancedQuotes) {
  EXPECT_EQ(parse_all("SET \"abc\n").error, "unbalanced quotes in request");
  EXPECT_EQ(parse_all("SET 'abc\n").error, "unbalanced quotes in request");
  EXPECT_EQ(parse_all("SET \"a\"b\n").error, "unbalanced quotes in request");
}

TEST(RespParserTest, ErrorIsFinal) {
  RespParser parser;
  std::optional<RespCommand> cmd;
  EXPECT_FALSE(parser.parse("*x\r\n", cmd).ok());
  EXPECT_FALSE(parser.parse("PING\r\n", cmd).ok());
  EXPECT_FALSE(cmd);
}

TEST(RespParserTest, TruncatedAtEveryOffsetYieldsNoCommandAndNoError) {
  const std::string data = "*3\r\n$3\r\nREG\r\n$3\r\nweb\r\n$12\r\n10.0.0.1:800\r\n";
  for (size_t cut = 0; cut < data.size(); ++cut) {
    for (size_t step : std::vector<size_t>{1, SIZE_MAX}) {
      Parsed p = parse_all(std::string_view(data).substr(0, cut), step);
      EXPECT_EQ(p.error, "") << cut;
      EXPECT_TRUE(p.commands.empty()) << cut;
      EXPECT_EQ(p.consumed, cut);
    }
  }
  EXPECT_EQ(parse_all(data, 1).commands.size(), 1u);
}

TEST(SplitInlineCommandTest, HandlesRedisCliQuoting) {
  auto args = split_inline_command(R"(SET "hello world" 'it\'s' "tab\there" "\x41\x42" x"y z"w)");
  // x"y z"w: a quote opens mid-token (sdssplitargs), but the closing one must end the token.
  EXPECT_FALSE(args.ok());
  args = split_inline_command(R"(SET "hello world" 'it\'s' "tab\there" "\x41\x42" "" '')");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"SET", "hello world", "it's", "tab\there", "AB", "", ""}));
  args = split_inline_command(R"(a"b c")");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (Args{"ab c"}));
  args = split_inline_command("  \t ");
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->empty());
  EXPECT_FALSE(split_inline_command(R"("abc\")").ok());
}

TEST(RespEncoderTest, EncodesEveryReplyType) {
  EXPECT_EQ(resp_simple("OK"), "+OK\r\n");
  EXPECT_EQ(resp_simple("a\r\nb"), "+a  b\r\n");
  EXPECT_EQ(resp_error("unknown command 'FOO'"), "-ERR unknown command 'FOO'\r\n");
  EXPECT_EQ(resp_error("bad type", "WRONGTYPE"), "-WRONGTYPE bad type\r\n");
  EXPECT_EQ(resp_protocol_error("invalid bulk length"), "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(resp_integer(-42), ":-42\r\n");
  EXPECT_EQ(resp_bulk(std::string("a\0b", 3)), std::string("$3\r\na\0b\r\n", 9));
  EXPECT_EQ(resp_bulk(""), "$0\r\n\r\n");
  EXPECT_EQ(resp_null(), "$-1\r\n");
  EXPECT_EQ(resp_null_array(), "*-1\r\n");
  EXPECT_EQ(resp_bulk_array({"a", "bc"}), "*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
  EXPECT_EQ(resp_array({resp_bulk("web"), resp_integer(3), resp_array({resp_null()})}),
            "*3\r\n$3\r\nweb\r\n:3\r\n*1\r\n$-1\r\n");
  EXPECT_EQ(resp_array(std::vector<std::string>{}), "*0\r\n");
}

TEST(RespEncoderTest, EncodedCommandRoundTripsThroughParser) {
  Args args{"REG", "web", std::string("\0\r\n", 3), std::string(70000, 'z')};
  Parsed p = parse_all(resp_bulk_array(args), 999);
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_EQ(p.commands[0].args, args);
}

}  // namespace
}  // namespace chiron::net
