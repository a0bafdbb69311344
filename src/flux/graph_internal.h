#pragma once
// Internal to src/flux: helpers shared by graph.cc, text.cc and json.cc.

#include <string>
#include <string_view>

namespace chiron::flux::detail {

constexpr bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
constexpr bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// A name from hostile input, safe to put in an error message: quoted, control bytes, quotes and
// backslashes as \xNN, cut after 40 characters.
std::string quote(std::string_view s);

// "fluxions[2]" or "fluxions[2].field".
std::string path_of(size_t fluxion, std::string_view field);

}  // namespace chiron::flux::detail
