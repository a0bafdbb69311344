// libFuzzer target for the push client's ignore rules (src/push/ignore.h): the input is split
// into rule-file text and a path; parsing and matching must terminate without crashing, and a
// path under `.git/` is always excluded whatever the rules say.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "push/ignore.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Layout: rules \0 path [\0 nested-rules]
  const size_t z = in.find('\0');
  const std::string_view rules = in.substr(0, z);
  std::string_view rest = z == std::string_view::npos ? std::string_view() : in.substr(z + 1);
  const size_t z2 = rest.find('\0');
  const std::string path(rest.substr(0, z2));
  const std::string_view nested = z2 == std::string_view::npos ? std::string_view() : rest.substr(z2 + 1);

  chiron::push::IgnoreTree tree;
  tree.set_rules("", rules, nested);
  tree.set_rules("a", nested, rules);
  for (const auto& p : chiron::push::parse_ignore(rules)) {
    (void)chiron::push::wildmatch(p.glob, path);
    (void)chiron::push::pattern_matches(p, path, true);
  }
  (void)tree.ignored(path, false);
  (void)tree.ignored(path, true);
  CHIRON_CHECK(tree.ignored(".git/" + path, false), ".git/ must always be ignored");
  CHIRON_CHECK(tree.ignored("a/.git", true), ".git/ must always be ignored");
  return 0;
}
