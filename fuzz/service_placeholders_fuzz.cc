// Fuzz target: the SQL rewriting of service/db.h — to_dollar_placeholders() and
// expand_dialect_macros() — on arbitrary text. Besides not crashing, checks against an
// independent character-level lexer that every `?` outside literals, quoted identifiers and
// comments became exactly one `$n`, that nothing else changed kind, and that no `{{id}}` is left
// outside literals.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "service/db.h"

namespace {

struct Counts {
  size_t question = 0;  // `?` outside literals and comments
  size_t dollar = 0;    // `$` outside literals and comments
  size_t id_macro = 0;  // `{{id}}` outside literals and comments
};

bool ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// A state machine written separately from db.cc's scanner, with the same rules.
Counts count(std::string_view s) {
  enum { kCode, kString, kEString, kDouble, kBacktick, kLine, kBlock } st = kCode;
  Counts c;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    switch (st) {
      case kCode:
        if (ch == '\'') {
          const bool e = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !ident(s[i - 2]));
          st = e ? kEString : kString;
        } else if (ch == '"') {
          st = kDouble;
        } else if (ch == '`') {
          st = kBacktick;
        } else if (ch == '-' && next == '-') {
          st = kLine;
          ++i;
        } else if (ch == '/' && next == '*') {
          st = kBlock;
          ++i;
        } else if (ch == '?') {
          ++c.question;
        } else if (ch == '$') {
          ++c.dollar;
        } else if (s.substr(i, 6) == "{{id}}") {
          ++c.id_macro;
        }
        break;
      case kString:
      case kDouble:
      case kBacktick: {
        const char q = st == kString ? '\'' : st == kDouble ? '"' : '`';
        if (ch == q) {
          if (next == q) {
            ++i;
          } else {
            st = kCode;
          }
        }
        break;
      }
      case kEString:
        if (ch == '\\') {
          ++i;
        } else if (ch == '\'') {
          if (next == '\'') {
            ++i;
          } else {
            st = kCode;
          }
        }
        break;
      case kLine:
        if (ch == '\n') st = kCode;
        break;
      case kBlock:
        if (ch == '*' && next == '/') {
          st = kCode;
          ++i;
        }
        break;
    }
  }
  return c;
}

std::string_view g_input;  // for the report of a failed check

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "service_placeholders_fuzz: %s fails for input (%zu bytes): ", what, g_input.size());
  for (unsigned char ch : g_input) std::fprintf(stderr, ch >= 0x20 && ch < 0x7f && ch != '\\' ? "%c" : "\\x%02x", ch);
  std::fprintf(stderr, "\n");
  std::abort();
}
#define CHECK_THAT(cond) check((cond), #cond)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using chiron::service::Dialect;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  g_input = in;
  const Counts before = count(in);

  const std::string out = chiron::service::to_dollar_placeholders(in);
  const Counts after = count(out);
  CHECK_THAT(after.question == 0);
  CHECK_THAT(after.dollar == before.dollar + before.question);
  if (before.question == 0) CHECK_THAT(out == in);

  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres}) {
    const std::string expanded = chiron::service::expand_dialect_macros(in, d);
    const Counts e = count(expanded);
    CHECK_THAT(e.id_macro == 0);
    CHECK_THAT(e.question == before.question);
    if (in.find("{{id}}") == std::string_view::npos) CHECK_THAT(expanded == in);
  }
  return 0;
}
