#pragma once
// Input checks of the accounts API: names, display names, channel tags, and the Origin/Host
// comparison of the CSRF defence. Pure functions over untrusted bytes (fuzzed by
// fuzz/review_input_fuzz.cc). Thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron::review {

// docs/platform-api.md: ^[a-z0-9][a-z0-9_-]{1,31}$ (users and their channels).
bool valid_name(std::string_view name);
// Names nobody may sign up with: the chat's own identities ("system" posts line comments,
// "anon-…" are anonymous sockets) and words that read as the site itself.
bool reserved_name(std::string_view name);
// 1..64 bytes of valid UTF-8 without control characters; surrounding spaces trimmed.
Result<std::string> clean_display_name(std::string_view text);
// Channel tags from a JSON array text (as stored) — at most kMaxTags, each 1..24 bytes of
// [a-z0-9+#._-] after lower-casing, duplicates dropped, order kept.
inline constexpr size_t kMaxTags = 10;
Result<std::vector<std::string>> parse_tags_json(std::string_view json_text);
Result<std::string> normalise_tag(std::string_view tag);
std::string tags_to_json(const std::vector<std::string>& tags);
// True when an Origin header value ("https://host:port", RFC 6454 §7) names the same
// host[:port] as the Host header. "null" and malformed origins never match.
bool origin_matches_host(std::string_view origin, std::string_view host);
// Free-text fields (titles, descriptions, comments): valid UTF-8, no control characters other
// than \n and \t.
bool valid_text(std::string_view text);

}  // namespace chiron::review
