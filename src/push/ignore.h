#pragma once
// Ignore rules of `chiron push`: git's .gitignore semantics (gitignore(5)) plus a `.chironignore`
// with the same syntax, read per directory.
//
// DESIGN
// - A line is: blank or `#...` (nothing); trailing spaces dropped unless escaped (`\ `); a leading
//   `!` negates (`\!` / `\#` are literals); a trailing `/` matches directories only; a `/` at the
//   start or in the middle anchors the pattern to the directory of the file, otherwise it matches
//   the last path component at any depth. `*`, `?`, `[...]` (ranges, `!`/`^` negation, `[:class:]`)
//   never match `/`; `**/x`, `x/**`, `a/**/b` cross directories (git's wildmatch, WM_PATHNAME).
//   A UTF-8 BOM at the start of a file and a CR before the LF are ignored.
// - Precedence: within one file the last matching line wins; `.chironignore` lines come after
//   the same directory's `.gitignore` lines; a deeper directory's files win over a shallower one's.
// - A path under an excluded directory stays excluded whatever a deeper `!` says (git does not
//   look inside excluded directories either); `.git/` is always excluded.
// - Matching is bounded: a pattern longer than kMaxPatternBytes is dropped and the wildmatch
//   backtracking has a step budget (hostile `**` chains answer "no match", never hang).
// Thread-compatible: IgnoreTree is not thread-safe; const calls may run concurrently.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace chiron::push {

inline constexpr size_t kMaxPatternBytes = 4096;
inline constexpr size_t kMaxPatternsPerFile = 10'000;

struct IgnorePattern {
  std::string glob;       // without `!`, leading `/` and trailing `/`; escapes kept for wildmatch
  bool negate = false;    // `!pattern`
  bool dir_only = false;  // `pattern/`
  bool anchored = false;  // had a `/` other than a trailing one: matched against the relative path
};

// Parses the text of one ignore file. Never fails; lines that cannot match are dropped.
std::vector<IgnorePattern> parse_ignore(std::string_view text);

// git's wildmatch with WM_PATHNAME: `*`/`?`/`[...]` stop at `/`, `**` between slashes crosses them.
bool wildmatch(std::string_view pattern, std::string_view text);

// Whether `pattern` (from a file in some directory) matches `rel` — the path relative to that
// directory — with basename `rel`'s last component.
bool pattern_matches(const IgnorePattern& pattern, std::string_view rel, bool is_dir);

// The rule files of one tree. Paths are relative to the root, `/`-separated, no leading `/`;
// "" is the root directory.
class IgnoreTree {
 public:
  // Replaces the rules of directory `dir` (the concatenated .gitignore then .chironignore text).
  void set_rules(const std::string& dir, std::string_view gitignore, std::string_view chironignore);
  void clear_rules(const std::string& dir);
  // Reads dir/.gitignore and dir/.chironignore under `root` (missing files = no rules).
  void load_dir(const std::string& root, const std::string& dir);

  // Whether `path` is excluded, counting excluded ancestors (the whole chain is checked).
  bool ignored(std::string_view path, bool is_dir) const;
  // Whether `path` itself is excluded by the rules, assuming its parent directories are not.
  bool ignored_here(std::string_view path, bool is_dir) const;

  // True for the names of the rule files (a change to one reloads the rules).
  static bool is_rule_file(std::string_view name) { return name == ".gitignore" || name == ".chironignore"; }

 private:
  std::map<std::string, std::vector<IgnorePattern>, std::less<>> rules_;  // dir → patterns
};

}  // namespace chiron::push
