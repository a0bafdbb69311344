#include "fluxc/parse.h"

#include <string>

#include <gtest/gtest.h>

namespace chiron::fluxc {
namespace {

std::string parse_error(std::string src) {
  auto r = SyntaxTree::parse(std::move(src), "app.js");
  if (r.ok()) return "ok";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseTest, ParsesListing1AndSlicesText) {
  std::string src =
      "var app = require('express')(), fs = require('fs'), count = 0;\n"
      "app.get('/', function handler(req, res){\n"
      "  fs.readFile(__filename, function reply(err, data){\n"
      "    count += 1;\n"
      "    res.send(err || template(count, data));\n"
      "  });\n"
      "});\n"
      "app.listen(8080);\n";
  auto t = SyntaxTree::parse(src, "listing1.js");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(node_type(t->root()), "program");
  EXPECT_EQ(t->source(), src);
  EXPECT_EQ(t->filename(), "listing1.js");
  EXPECT_EQ(ts_node_named_child_count(t->root()), 3u);
  TSNode decl = ts_node_named_child(t->root(), 0);
  EXPECT_EQ(node_type(decl), "variable_declaration");
  TSNode first = ts_node_named_child(decl, 0);
  EXPECT_EQ(t->text(child_by_field(first, "name")), "app");
  EXPECT_EQ(t->text(child_by_field(first, "value")), "require('express')()");
  EXPECT_TRUE(ts_node_is_null(child_by_field(first, "nonexistent")));
}

TEST(ParseTest, PositionsAreOneBasedByteColumns) {
  auto t = SyntaxTree::parse("a\nbc\n\ndé+f", "x.js");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->position(0).line, 1u);
  EXPECT_EQ(t->position(0).column, 1u);
  EXPECT_EQ(t->position(1).column, 2u);  // the newline itself ends line 1
  EXPECT_EQ(t->position(2).line, 2u);
  EXPECT_EQ(t->position(3).column, 2u);
  EXPECT_EQ(t->position(5).line, 3u);
  EXPECT_EQ(t->position(6).line, 4u);
  SourcePos f = t->position(10);  // 'é' is two bytes
  EXPECT_EQ(f.line, 4u);
  EXPECT_EQ(f.column, 5u);
  EXPECT_EQ(t->position(1000).line, 4u);  // clamped to the end
  EXPECT_EQ(location_prefix(*t, 2), "x.js:2:1: ");
}

TEST(ParseTest, NodeAtFindsSmallestNamedNode) {
  std::string src = "foo(bar.baz, 42);";
  auto t = SyntaxTree::parse(src, "x.js");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(node_type(t->node_at(4, 7)), "identifier");
  EXPECT_EQ(node_type(t->node_at(4, 11)), "member_expression");
  EXPECT_EQ(node_type(t->node_at(8, 11)), "property_identifier");
  EXPECT_EQ(node_type(t->node_at(0, 16)), "call_expression");
  EXPECT_EQ(t->text(t->node_at(13, 15)), "42");
}

TEST(ParseTest, AcceptsHashbangAndEs2020) {
  std::string src =
      "#!/usr/bin/env node\n"
      "'use strict';\n"
      "class A extends B { #p = 1; static s = 2; constructor(x) { super(x); } get v() { return this.#p; }\n"
      "  set v(y) {} async *gen() { yield* other(); await z; } static { init(); } }\n"
      "const {a, b: [c, ...d] = [], ...rest} = obj ?? {};\n"
      "let big = 123n, r = /a\\/b[/]c/gi, t = tag`x${a?.b?.[c]?.(d)}y`;\n"
      "for await (const x of xs) {}\n"
      "label: for (;;) { break label; }\n"
      "x ||= 1; y &&= 2; z ?" "?= 3; w **= 2;\n"
      "const f = async (p = 1, {q}, ...rs) => ({...p, q});\n"
      "import('./m.js').then(m => m);\n";
  auto t = SyntaxTree::parse(src, "es.js");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(node_type(ts_node_child(t->root(), 0)), "hash_bang_line");
}

TEST(ParseTest, ReportsUnexpectedToken) {
  EXPECT_EQ(parse_error("foo(1, 2));"), "app.js:1:10: syntax error: unexpected ')'");
  EXPECT_EQ(parse_error("var x = 1 2;"), "app.js:1:11: syntax error: unexpected '2'");
  EXPECT_EQ(parse_error("x = 1 +* 2"), "app.js:1:8: syntax error: unexpected '*'");
  EXPECT_EQ(parse_error("f(function() {\n  x = ;\n});"), "app.js:2:5: syntax error: unexpected '='");
  EXPECT_EQ(parse_error("))))"), "app.js:1:1: syntax error: unexpected ')'");
}

TEST(ParseTest, ReportsMissingToken) {
  EXPECT_EQ(parse_error("function f() { return 1;"), "app.js:1:25: syntax error: missing '}'");
  EXPECT_EQ(parse_error("var a = 1;\nvar b = [1, 2;\nvar c = 3;"), "app.js:2:14: syntax error: missing ']'");
  EXPECT_EQ(parse_error("a.b.=3;"), "app.js:1:5: syntax error: missing property_identifier");
}

TEST(ParseTest, ReportsUnterminatedLiteralsAndComments) {
  EXPECT_EQ(parse_error("var x = \"abc"), "app.js:1:9: syntax error: unterminated string literal");
  EXPECT_EQ(parse_error("var x = 'abc\ny = 2;"), "app.js:1:9: syntax error: unterminated string literal");
  EXPECT_EQ(parse_error("var t = `abc ${x}"), "app.js:1:9: syntax error: unterminated template literal");
  EXPECT_EQ(parse_error("var r = /abc"), "app.js:1:9: syntax error: unterminated regular expression");
  EXPECT_EQ(parse_error("x = 1;\n/* abc"), "app.js:2:1: syntax error: unterminated comment");
}

TEST(ParseTest, ReportsEndOfInput) {
  EXPECT_EQ(parse_error("a +"), "app.js:1:4: syntax error: unexpected end of input");
  EXPECT_EQ(parse_error("f(function() { if (a) { x("),
            "app.js:1:27: syntax error: unexpected end of input, missing ')' to close '(' at 1:26");
}

TEST(ParseTest, RefusesWhatTreeSitterTolerates) {
  EXPECT_EQ(parse_error("var if = 3;"), "app.js:1:5: syntax error: unexpected keyword 'if'");
  EXPECT_EQ(parse_error("return return;"), "app.js:1:8: syntax error: unexpected keyword 'return'");
  EXPECT_EQ(parse_error("function (a) {}"), "app.js:1:1: syntax error: a function declaration needs a name");
  EXPECT_EQ(parse_error("var x = <div/>;"), "app.js:1:9: syntax error: JSX is not JavaScript (not supported)");
  EXPECT_EQ(parse_error("@dec class A {}"),
            "app.js:1:1: syntax error: decorators are not supported (not ES2020)");
  EXPECT_EQ(parse_error("let\n  z = 1;"),
            "app.js:1:1: syntax error: `let` must be followed by its declaration on the same line");
  EXPECT_EQ(parse_error("(function () {});"), "ok");
  EXPECT_EQ(parse_error("let let1 = 1, async = 2, of = 3, get = 4, set = 5, yield_ = 6;"), "ok");
}

TEST(ParseTest, RefusesBinaryAndOversizedInput) {
  EXPECT_EQ(parse_error(std::string("var a = 1;\nb\0c", 14)), "app.js:2:2: NUL byte in source (binary file?)");
  EXPECT_EQ(parse_error("var s = '\xff\xfe';"), "app.js:1:10: invalid UTF-8 in source");
  EXPECT_EQ(parse_error("var s = '\xed\xa0\x80';"), "app.js:1:10: invalid UTF-8 in source");  // surrogate
  EXPECT_EQ(parse_error("\x01\x02garbage\x7f{{"), "app.js:1:1: syntax error: unexpected character '\\x01'");
  std::string big(kMaxSourceBytes + 1, ' ');
  EXPECT_EQ(parse_error(big), "app.js: input is 16777217 bytes, over the 16 MiB limit");
  EXPECT_EQ(parse_error("var s = 'ünïcødé ✓';"), "ok");
}

TEST(ParseTest, DeepNestingIsRefusedNotCrashed) {
  // 100k '(' crash libtree-sitter 0.20.7 itself (heap corruption past ~65k); we refuse first.
  std::string open(100000, '(');
  EXPECT_EQ(parse_error("x = " + open), "app.js:1:20005: nesting too deep (more than 20000 open brackets)");
  EXPECT_EQ(parse_error("x = " + open + "1" + std::string(100000, ')')),
            "app.js:1:20005: nesting too deep (more than 20000 open brackets)");
  // Under the bracket limit the tree depth bound applies (recursive walks stay bounded).
  std::string s = "x = " + std::string(5000, '(') + "1" + std::string(5000, ')') + ";";
  std::string err = parse_error(s);
  EXPECT_NE(err.find("nesting too deep (more than 2000 syntax tree levels)"), std::string::npos) << err;
  std::string chain = "x = 1";
  for (int i = 0; i < 10000; ++i) chain += "+1";
  err = parse_error(chain);
  EXPECT_NE(err.find("nesting too deep"), std::string::npos) << err;
  // Moderate nesting is fine.
  EXPECT_EQ(parse_error("x = " + std::string(200, '[') + std::string(200, ']') + ";"), "ok");
}

TEST(ParseTest, MoveKeepsTreeValid) {
  auto a = SyntaxTree::parse("var x = 1;", "a.js");
  ASSERT_TRUE(a.ok());
  SyntaxTree t = std::move(a).value();
  auto b = SyntaxTree::parse("let y = 2;", "b.js");
  ASSERT_TRUE(b.ok());
  t = std::move(b).value();
  EXPECT_EQ(t.filename(), "b.js");
  EXPECT_EQ(node_type(ts_node_named_child(t.root(), 0)), "lexical_declaration");
}

TEST(ParseTest, RandomGarbageGivesLocatedErrorsOrTrees) {
  // Deterministic pseudo-random printable garbage, biased to JS punctuation: never a crash, and
  // every refusal says where.
  uint64_t x = 88172645463325252ull;
  const std::string alphabet = "(){}[];,.=+-*/%<>!?:'\"`$#@\\ \n\tabcxyz019_ifvarletfunction=>";
  for (int round = 0; round < 300; ++round) {
    std::string s;
    size_t len = 1 + round % 97;
    for (size_t i = 0; i < len; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s += alphabet[x % alphabet.size()];
    }
    auto t = SyntaxTree::parse(s, "g.js");
    if (!t.ok()) {
      EXPECT_EQ(t.status().message().rfind("g.js:", 0), 0u) << t.status().message();
      EXPECT_NE(t.status().message().find(": syntax error"), std::string::npos) << t.status().message();
    }
  }
}

}  // namespace
}  // namespace chiron::fluxc
