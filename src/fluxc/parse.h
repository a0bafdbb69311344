#pragma once
// JavaScript parsing for the fluxion compiler: tree-sitter (Debian libtree-sitter 0.20.7) with
// the tree-sitter-javascript 0.23.1 grammar (npm, ABI 14), compiled from its src/parser.c and
// src/scanner.c by CMake (see src/fluxc/CMakeLists.txt). The tree is a concrete syntax tree
// with byte offsets; the compiler slices the original text, so output keeps the source exact.
//
// Errors: the first ERROR or MISSING node becomes Status::invalid_argument
// "<filename>:<line>:<col>: <message>" (1-based line and column, column in bytes), e.g.
// "app.js:3:14: syntax error: unexpected ')'" or "app.js:9:1: syntax error: missing '}'".
// Inputs over 16 MiB, with NUL bytes, or not valid UTF-8 are refused the same way.
// A leading "#!" line is accepted (hash_bang_line). JSX and decorators (accepted by the grammar,
// not ES2020) are refused as syntax errors. Trees nested deeper than kMaxNestingDepth are refused
// ("nesting too deep"), so every walk over an accepted tree may recurse once per node level.
//
// SyntaxTree owns the TSTree and the source; TSNode values borrowed from it stay valid while it
// lives. Movable, not copyable. Thread-compatible (parse many files on many threads).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tree_sitter/api.h>

#include "common/result.h"

namespace chiron::fluxc {

inline constexpr uint32_t kMaxSourceBytes = 16u << 20;
inline constexpr uint32_t kMaxNestingDepth = 2000;  // tree levels (a JS expression adds several)
inline constexpr uint32_t kMaxBracketDepth = 20000;  // raw ( [ { depth, checked before tree-sitter runs

struct SourcePos {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, bytes
};

class SyntaxTree {
 public:
  static Result<SyntaxTree> parse(std::string source, std::string filename);

  SyntaxTree(SyntaxTree&&) noexcept;
  SyntaxTree& operator=(SyntaxTree&&) noexcept;
  ~SyntaxTree();

  TSNode root() const;
  const std::string& source() const { return source_; }
  const std::string& filename() const { return filename_; }
  std::string_view text(TSNode node) const;           // the node's source slice
  std::string_view text(uint32_t begin, uint32_t end) const;
  SourcePos position(uint32_t byte_offset) const;      // line/column of a byte offset
  // The smallest named node covering [begin, end).
  TSNode node_at(uint32_t begin, uint32_t end) const;

 private:
  SyntaxTree() = default;
  std::string source_;
  std::string filename_;
  TSTree* tree_ = nullptr;
  std::vector<uint32_t> line_starts_;  // byte offset of each line's first byte
};

// Helpers over TSNode used throughout the compiler.
std::string_view node_type(TSNode n);                  // ts_node_type
TSNode child_by_field(TSNode n, std::string_view field);  // null node if absent
inline uint32_t node_begin(TSNode n) { return ts_node_start_byte(n); }
inline uint32_t node_end(TSNode n) { return ts_node_end_byte(n); }
// Calls f(child) for each named child of n, in order, in O(children) time (ts_node_named_child(n, i)
// is O(i): looping over it is quadratic on a 100k-element array literal). Comments included.
template <class F>
void for_each_named_child(TSNode n, F&& f) {
  TSTreeCursor cur = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&cur)) {
    do {
      TSNode c = ts_tree_cursor_current_node(&cur);
      if (ts_node_is_named(c)) f(c);
    } while (ts_tree_cursor_goto_next_sibling(&cur));
  }
  ts_tree_cursor_delete(&cur);
}

// "file:line:col: " for a byte offset, the prefix of every located error message.
std::string location_prefix(const SyntaxTree& tree, uint32_t byte_offset);

}  // namespace chiron::fluxc
