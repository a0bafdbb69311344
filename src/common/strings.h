#pragma once
// Small string utilities shared by every module. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron {

// Appends s to out as the body of a JSON string (RFC 8259 §7), without the quotes.
// Invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid JSON.
void append_json_escaped(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);  // "\"...\"" with escaping

std::vector<std::string_view> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

// True if s is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, surrogates or code points
// above U+10FFFF), or 0 when it is malformed or cut off. i < s.size().
size_t utf8_sequence_length(std::string_view s, size_t i);

// Parses a decimal integer occupying all of s.
Result<uint64_t> parse_u64(std::string_view s);

struct HostPort {
  std::string host;  // "127.0.0.1", "::1" (no brackets), "localhost"
  uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 hosts: "[::1]:80"
};
// "host:port", "[v6]:port" or ":port" (host defaults to 127.0.0.1). Port 0 is allowed (pick a free port).
Result<HostPort> parse_host_port(std::string_view s);

}  // namespace chiron
