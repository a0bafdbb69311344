// libFuzzer target: the accounts API's input checks (src/review/validate.h). The first byte picks
// the check, the rest is the input. Invariants: never crashes; an accepted name matches
// ^[a-z0-9][a-z0-9_-]{1,31}$; accepted tags are ≤ kMaxTags distinct 1..24-byte [a-z0-9+#._-]
// strings whose JSON re-parses to the same list; an accepted display name is 1..64 bytes with
// no surrounding spaces; a matching Origin never carries a path, userinfo or query.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "review/validate.h"

namespace {

bool name_pattern(std::string_view s) {
  if (s.size() < 2 || s.size() > 32) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron::review;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      if (valid_name(in) != name_pattern(in)) std::abort();
      break;
    case 1: {
      auto tags = parse_tags_json(in);
      if (!tags.ok()) break;
      if (tags->size() > kMaxTags) std::abort();
      for (size_t i = 0; i < tags->size(); ++i) {
        const std::string& t = (*tags)[i];
        if (t.empty() || t.size() > 24) std::abort();
        for (char c : t)
          if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '.' || c == '_' ||
                c == '-'))
            std::abort();
        for (size_t j = 0; j < i; ++j)
          if ((*tags)[j] == t) std::abort();
      }
      auto again = parse_tags_json(tags_to_json(*tags));
      if (!again.ok() || *again != *tags) std::abort();
      break;
    }
    case 2: {
      auto name = clean_display_name(in);
      if (!name.ok()) break;
      if (name->empty() || name->size() > 64 || name->front() == ' ' || name->back() == ' ') std::abort();
      if (!valid_text(*name)) std::abort();
      break;
    }
    case 3: {
      size_t nl = in.find('\n');
      if (nl == std::string_view::npos) break;
      std::string_view origin = in.substr(0, nl), host = in.substr(nl + 1);
      if (origin_matches_host(origin, host) && host.find_first_of("/?#@ ") != std::string_view::npos) std::abort();
      break;
    }
  }
  return 0;
}
