// SyntaxTree: tree-sitter-javascript 0.23.1 on libtree-sitter 0.20.7. The input is validated
// before parsing (size, NUL, UTF-8) because tree-sitter silently decodes anything; afterwards one
// iterative cursor walk finds the first ERROR / MISSING node, refuses grammar extensions that
// are not ES2020 (JSX, decorators) and bounds the nesting depth for the recursive walks that
// follow (scope analysis, compiler).
#include "fluxc/parse.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/strings.h"

extern "C" const TSLanguage* tree_sitter_javascript(void);

namespace chiron::fluxc {
namespace {

// A short, printable quote of a token for an error message.
std::string quote_token(std::string_view text) {
  constexpr size_t kMax = 24;
  bool cut = false;
  if (text.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
    text = text.substr(0, n);
    cut = true;
  }
  std::string out = "'";
  for (char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

bool is_jsx(std::string_view type) { return type.rfind("jsx_", 0) == 0; }

bool is_reserved_word(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
      "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
      "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof",
      "var", "void", "while", "with"};
  for (std::string_view k : kWords) {
    if (k == w) return true;
  }
  return false;
}

struct Leaf {
  TSNode node;
  std::string_view type;
  std::string_view text;
};

// The leaf tokens under `n`, in order (iterative; at most `limit`).
std::vector<Leaf> leaves_of(const SyntaxTree& tree, TSNode n, size_t limit) {
  std::vector<Leaf> out;
  TSTreeCursor cur = ts_tree_cursor_new(n);
  for (;;) {
    TSNode c = ts_tree_cursor_current_node(&cur);
    if (ts_node_child_count(c) == 0) {
      out.push_back({c, node_type(c), tree.text(c)});
      if (out.size() >= limit) break;
    } else if (ts_tree_cursor_goto_first_child(&cur)) {
      continue;
    }
    bool done = false;
    while (!ts_tree_cursor_goto_next_sibling(&cur)) {
      if (!ts_tree_cursor_goto_parent(&cur) || ts_node_eq(ts_tree_cursor_current_node(&cur), n)) {
        done = true;
        break;
      }
    }
    if (done) break;
  }
  ts_tree_cursor_delete(&cur);
  return out;
}

bool only_space_after(const std::string& src, uint32_t at) {
  for (size_t i = at; i < src.size(); ++i) {
    if (src[i] != ' ' && src[i] != '\t' && src[i] != '\n' && src[i] != '\r') return false;
  }
  return true;
}

struct Described {
  uint32_t at;
  std::string message;
};

// Describes what is wrong in an ERROR node: an unterminated literal or comment, an unclosed
// bracket at the end of input, or the first token the parser could not place.
Described describe_error(const SyntaxTree& tree, TSNode error) {
  const std::string& src = tree.source();
  std::vector<Leaf> leaves = leaves_of(tree, error, 100000);
  bool at_eof = only_space_after(src, node_end(error));
  // Unterminated literals: an opening quote / backtick / regex start without its closer.
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Leaf& l = leaves[i];
    if ((l.type == "\"" || l.type == "'") && !ts_node_is_named(l.node)) {
      bool closed = i + 1 < leaves.size() && leaves[i + 1].type == l.type;
      if (!closed && i + 2 < leaves.size() && leaves[i + 1].type == "string_fragment") {
        closed = leaves[i + 2].type == l.type;
      }
      if (!closed) return {node_begin(l.node), "syntax error: unterminated string literal"};
      i += leaves[i + 1].type == l.type ? 1 : 2;
      continue;
    }
    if (l.type == "regex_pattern") {
      uint32_t b = node_begin(l.node);
      bool comment = b > 0 && src[b - 1] == '/' && !l.text.empty() && l.text[0] == '*';
      bool closed = i + 1 < leaves.size() && leaves[i + 1].type == "/";
      if (comment) return {b - 1, "syntax error: unterminated comment"};
      if (!closed) return {b > 0 ? b - 1 : b, "syntax error: unterminated regular expression"};
    }
  }
  size_t backticks = 0;
  uint32_t last_open_tick = 0;
  for (const Leaf& l : leaves) {
    if (l.type == "`") {
      if (backticks++ % 2 == 0) last_open_tick = node_begin(l.node);
    }
  }
  if (backticks % 2 == 1) return {last_open_tick, "syntax error: unterminated template literal"};
  for (const Leaf& l : leaves) {
    unsigned char c0 = l.text.empty() ? ' ' : static_cast<unsigned char>(l.text[0]);
    if ((c0 < 0x20 && c0 != '\t' && c0 != '\n' && c0 != '\r' && c0 != '\v' && c0 != '\f') || c0 == 0x7f) {
      return {node_begin(l.node), "syntax error: unexpected character " + quote_token(l.text.substr(0, 1))};
    }
  }
  std::vector<const Leaf*> open;
  for (const Leaf& l : leaves) {
    if (l.text == "(" || l.text == "[" || l.text == "{" || l.text == "${") {
      open.push_back(&l);
    } else if (l.text == ")" || l.text == "]" || l.text == "}") {
      if (open.empty()) return {node_begin(l.node), "syntax error: unexpected " + quote_token(l.text)};
      open.pop_back();
    }
  }
  if (at_eof) {
    if (!open.empty()) {
      std::string_view o = open.back()->text;
      std::string closer = o == "(" ? ")" : o == "[" ? "]" : "}";
      SourcePos p = tree.position(node_begin(open.back()->node));
      return {static_cast<uint32_t>(src.size()), "syntax error: unexpected end of input, missing '" + closer +
                                                     "' to close '" + std::string(o) + "' at " +
                                                     std::to_string(p.line) + ":" + std::to_string(p.column)};
    }
    std::string_view last = leaves.empty() ? std::string_view() : leaves.back().text;
    if (!last.empty() && last != "}" && last != ";" && last != ")" && last != "]") {
      return {static_cast<uint32_t>(src.size()), "syntax error: unexpected end of input"};
    }
  }
  for (const Leaf& l : leaves) {
    if (!l.text.empty()) return {node_begin(l.node), "syntax error: unexpected " + quote_token(l.text)};
  }
  // An empty ERROR: the offending text follows it.
  size_t i = node_begin(error);
  while (i < src.size() && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) ++i;
  if (i >= src.size()) return {static_cast<uint32_t>(src.size()), "syntax error: unexpected end of input"};
  size_t j = i + 1;
  while (j < src.size() && j - i < 24 && src[j] != '\n' && src[j] != ' ') ++j;
  return {static_cast<uint32_t>(i),
          "syntax error: unexpected " + quote_token(std::string_view(src).substr(i, j - i))};
}

std::string describe_missing(TSNode missing) {
  std::string_view type = node_type(missing);
  if (ts_node_is_named(missing)) return "syntax error: missing " + std::string(type);
  return "syntax error: missing '" + std::string(type) + "'";
}

}  // namespace

std::string_view node_type(TSNode n) {
  const char* t = ts_node_type(n);
  return t ? std::string_view(t) : std::string_view();
}

TSNode child_by_field(TSNode n, std::string_view field) {
  return ts_node_child_by_field_name(n, field.data(), static_cast<uint32_t>(field.size()));
}

std::string location_prefix(const SyntaxTree& tree, uint32_t byte_offset) {
  SourcePos p = tree.position(byte_offset);
  return tree.filename() + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": ";
}

SyntaxTree::SyntaxTree(SyntaxTree&& o) noexcept
    : source_(std::move(o.source_)), filename_(std::move(o.filename_)), tree_(o.tree_),
      line_starts_(std::move(o.line_starts_)) {
  o.tree_ = nullptr;
}

SyntaxTree& SyntaxTree::operator=(SyntaxTree&& o) noexcept {
  if (this != &o) {
    if (tree_) ts_tree_delete(tree_);
    source_ = std::move(o.source_);
    filename_ = std::move(o.filename_);
    line_starts_ = std::move(o.line_starts_);
    tree_ = o.tree_;
    o.tree_ = nullptr;
  }
  return *this;
}

SyntaxTree::~SyntaxTree() {
  if (tree_) ts_tree_delete(tree_);
}

TSNode SyntaxTree::root() const { return ts_tree_root_node(tree_); }

std::string_view SyntaxTree::text(TSNode node) const { return text(node_begin(node), node_end(node)); }

std::string_view SyntaxTree::text(uint32_t begin, uint32_t end) const {
  begin = std::min<uint32_t>(begin, static_cast<uint32_t>(source_.size()));
  end = std::clamp<uint32_t>(end, begin, static_cast<uint32_t>(source_.size()));
  return std::string_view(source_).substr(begin, end - begin);
}

SourcePos SyntaxTree::position(uint32_t byte_offset) const {
  byte_offset = std::min<uint32_t>(byte_offset, static_cast<uint32_t>(source_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), byte_offset);
  size_t line = static_cast<size_t>(it - line_starts_.begin());  // >= 1: line_starts_[0] == 0
  SourcePos p;
  p.line = static_cast<uint32_t>(line);
  p.column = byte_offset - line_starts_[line - 1] + 1;
  return p;
}

TSNode SyntaxTree::node_at(uint32_t begin, uint32_t end) const {
  TSNode n = ts_node_named_descendant_for_byte_range(root(), begin, end);
  // tree-sitter may return a node that ends before `end` when end touches the next token.
  while (!ts_node_is_null(n) && (node_begin(n) > begin || node_end(n) < end)) n = ts_node_parent(n);
  return ts_node_is_null(n) ? root() : n;
}

Result<SyntaxTree> SyntaxTree::parse(std::string source, std::string filename) {
  if (source.size() > kMaxSourceBytes) {
    return Status::invalid_argument(filename + ": input is " + std::to_string(source.size()) +
                                    " bytes, over the 16 MiB limit");
  }
  SyntaxTree t;
  t.source_ = std::move(source);
  t.filename_ = std::move(filename);
  t.line_starts_.push_back(0);
  for (uint32_t i = 0; i < t.source_.size(); ++i) {
    if (t.source_[i] == '\n') t.line_starts_.push_back(i + 1);
  }
  const std::string& src = t.source_;
  auto fail_at = [&t](uint32_t offset, const std::string& msg) {
    return Status::invalid_argument(location_prefix(t, offset) + msg);
  };
  if (const void* nul = std::memchr(src.data(), '\0', src.size())) {
    return fail_at(static_cast<uint32_t>(static_cast<const char*>(nul) - src.data()),
                   "NUL byte in source (binary file?)");
  }
  for (size_t i = 0; i < src.size();) {
    size_t n = utf8_sequence_length(src, i);
    if (n == 0) return fail_at(static_cast<uint32_t>(i), "invalid UTF-8 in source");
    i += n;
  }

  // libtree-sitter 0.20.7 corrupts its heap on more than ~65,000 nested brackets (checked with
  // 66,000 '(' and with balanced ones), before any depth check on the tree could run. Count raw
  // bracket depth first (strings and comments included: conservative, and far above real code).
  {
    uint32_t depth = 0;
    for (uint32_t i = 0; i < src.size(); ++i) {
      char c = src[i];
      if (c == '(' || c == '[' || c == '{') {
        if (++depth > kMaxBracketDepth) {
          return fail_at(i, "nesting too deep (more than " + std::to_string(kMaxBracketDepth) + " open brackets)");
        }
      } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
        --depth;
      }
    }
  }

  TSParser* parser = ts_parser_new();
  if (!ts_parser_set_language(parser, tree_sitter_javascript())) {
    ts_parser_delete(parser);
    return Status::internal("tree-sitter-javascript grammar ABI does not match libtree-sitter");
  }
  t.tree_ = ts_parser_parse_string(parser, nullptr, t.source_.data(), static_cast<uint32_t>(t.source_.size()));
  ts_parser_delete(parser);
  if (!t.tree_) return Status::internal(t.filename_ + ": tree-sitter returned no tree");

  // One pre-order walk: first ERROR/MISSING (document order), JSX/decorators, depth.
  TSTreeCursor cur = ts_tree_cursor_new(t.root());
  uint32_t depth = 0;
  Status st;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cur);
    std::string_view type = node_type(n);
    if (ts_node_is_missing(n)) {
      st = Status::invalid_argument(location_prefix(t, node_begin(n)) + describe_missing(n));
      break;
    }
    if (type == "ERROR") {
      Described d = describe_error(t, n);
      st = Status::invalid_argument(location_prefix(t, d.at) + d.message);
      break;
    }
    if (type == "identifier" && is_reserved_word(t.text(n))) {
      st = Status::invalid_argument(location_prefix(t, node_begin(n)) + "syntax error: unexpected keyword " +
                                    quote_token(t.text(n)));
      break;
    }
    if (type == "expression_statement" && ts_node_child_count(n) > 0 && !ts_node_has_error(n)) {
      // `function () {}` / `class {}` at statement start: a declaration without its name.
      TSNode first = ts_node_child(n, 0);
      std::string_view ft = node_type(first);
      if (ft == "identifier" && ts_node_named_child_count(n) == 1 && t.text(first) == "let") {
        // tree-sitter reads `let\nx = 1` as the expression `let` plus `x = 1` (ASI); JavaScript
        // reads a let declaration. A bare `let` statement is useless anyway: refuse it.
        st = Status::invalid_argument(location_prefix(t, node_begin(first)) +
                                      "syntax error: `let` must be followed by its declaration on the same line");
        break;
      }
      if ((ft == "function_expression" || ft == "generator_function" || ft == "class") &&
          ts_node_child_count(first) > 0) {
        std::string_view kw = node_type(ts_node_child(first, 0));
        if (kw == "function" || kw == "class") {
          st = Status::invalid_argument(location_prefix(t, node_begin(first)) + "syntax error: a " +
                                        std::string(kw) + " declaration needs a name");
          break;
        }
      }
    }
    if (is_jsx(type)) {
      st = Status::invalid_argument(location_prefix(t, node_begin(n)) +
                                    "syntax error: JSX is not JavaScript (not supported)");
      break;
    }
    if (type == "decorator") {
      st = Status::invalid_argument(location_prefix(t, node_begin(n)) +
                                    "syntax error: decorators are not supported (not ES2020)");
      break;
    }
    if (depth > kMaxNestingDepth) {
      st = Status::invalid_argument(location_prefix(t, node_begin(n)) + "nesting too deep (more than " +
                                    std::to_string(kMaxNestingDepth) + " syntax tree levels)");
      break;
    }
    // Only descend where something may be wrong or deep; has_error prunes clean subtrees of the
    // error search but the depth bound needs every subtree, so descend always.
    if (ts_tree_cursor_goto_first_child(&cur)) {
      ++depth;
      continue;
    }
    bool done = false;
    while (!ts_tree_cursor_goto_next_sibling(&cur)) {
      if (!ts_tree_cursor_goto_parent(&cur)) {
        done = true;
        break;
      }
      --depth;
    }
    if (done) break;
  }
  ts_tree_cursor_delete(&cur);
  if (st.ok() && ts_node_has_error(t.root())) {
    st = Status::invalid_argument(location_prefix(t, 0) + "syntax error");  // not expected: the walk finds it
  }
  if (!st.ok()) return st;
  return t;
}

}  // namespace chiron::fluxc
