#include "push/ignore.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace chiron::push {
namespace {

enum WildResult { kMatch = 0, kNoMatch = 1, kAbortAll = -1, kAbortToStarStar = -2 };

// Backtracking budget of one wildmatch call: far above any real pattern, far below a hang.
constexpr long kWildStepBudget = 200'000;

bool is_glob_special(char c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

// `[:name:]` character classes of POSIX brackets (git's wildmatch supports the same set).
bool class_matches(std::string_view name, unsigned char c, bool* known) {
  *known = true;
  if (name == "alnum") return std::isalnum(c);
  if (name == "alpha") return std::isalpha(c);
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c);
  if (name == "digit") return std::isdigit(c);
  if (name == "graph") return std::isgraph(c);
  if (name == "lower") return std::islower(c);
  if (name == "print") return std::isprint(c);
  if (name == "punct") return std::ispunct(c);
  if (name == "space") return std::isspace(c);
  if (name == "upper") return std::isupper(c);
  if (name == "xdigit") return std::isxdigit(c);
  *known = false;
  return false;
}

// Port of git's dowild() (wildmatch.c) with WM_PATHNAME, on string_views with indices.
int dowild(std::string_view p, size_t pi, std::string_view t, size_t ti, long& budget) {
  for (; pi < p.size(); ++pi, ++ti) {
    if (--budget < 0) return kAbortAll;
    const unsigned char p_ch = static_cast<unsigned char>(p[pi]);
    if (ti >= t.size() && p_ch != '*') return kAbortAll;
    const unsigned char t_ch = ti < t.size() ? static_cast<unsigned char>(t[ti]) : 0;
    switch (p_ch) {
      case '\\':
        // Literal match with the following character; a trailing backslash matches nothing.
        if (++pi >= p.size()) return kAbortAll;
        if (t_ch != static_cast<unsigned char>(p[pi])) return kNoMatch;
        break;
      case '?':
        if (t_ch == '/') return kNoMatch;
        break;
      case '*': {
        bool match_slash = false;
        if (pi + 1 < p.size() && p[pi + 1] == '*') {
          const bool at_start = pi == 0 || p[pi - 1] == '/';
          while (pi + 1 < p.size() && p[pi + 1] == '*') ++pi;
          ++pi;  // first character after the stars
          const bool at_end = pi >= p.size() || p[pi] == '/' ||
                              (p[pi] == '\\' && pi + 1 < p.size() && p[pi + 1] == '/');
          if (at_start && at_end) {
            // "**/" also matches zero directories.
            if (pi < p.size() && p[pi] == '/' && dowild(p, pi + 1, t, ti, budget) == kMatch) return kMatch;
            match_slash = true;
          }
        } else {
          ++pi;
        }
        if (pi >= p.size()) {
          // Trailing "**" matches everything; a trailing "*" only within the last component.
          if (!match_slash && t.find('/', ti) != std::string_view::npos) return kAbortToStarStar;
          return kMatch;
        }
        if (!match_slash && p[pi] == '/') {
          // One "*" followed by "/" matches the rest of this component.
          const size_t slash = t.find('/', ti);
          if (slash == std::string_view::npos) return kAbortAll;
          ti = slash;
          break;  // the loop's ++pi/++ti consume the two slashes
        }
        for (;;) {
          if (ti >= t.size()) break;
          if (--budget < 0) return kAbortAll;
          unsigned char tc = static_cast<unsigned char>(t[ti]);
          if (!is_glob_special(p[pi])) {
            // Skip ahead to the next occurrence of the literal that follows the star.
            const unsigned char want = static_cast<unsigned char>(p[pi]);
            while (ti < t.size() && (match_slash || t[ti] != '/')) {
              tc = static_cast<unsigned char>(t[ti]);
              if (tc == want) break;
              ++ti;
            }
            if (ti >= t.size() || tc != want) return kNoMatch;
          }
          const int matched = dowild(p, pi, t, ti, budget);
          if (matched != kNoMatch) {
            if (!match_slash || matched != kAbortToStarStar) return matched;
          } else if (!match_slash && tc == '/') {
            return kAbortToStarStar;
          }
          ++ti;
        }
        return kAbortAll;
      }
      case '[': {
        if (++pi >= p.size()) return kAbortAll;
        bool negated = p[pi] == '!' || p[pi] == '^';
        if (negated && ++pi >= p.size()) return kAbortAll;
        bool matched = false;
        unsigned char prev = 0;
        bool first = true;
        for (;; first = false) {
          if (pi >= p.size()) return kAbortAll;  // unterminated bracket
          unsigned char c = static_cast<unsigned char>(p[pi]);
          if (c == ']' && !first) break;
          if (c == '\\') {
            if (++pi >= p.size()) return kAbortAll;
            c = static_cast<unsigned char>(p[pi]);
            if (t_ch == c) matched = true;
          } else if (c == '-' && prev && pi + 1 < p.size() && p[pi + 1] != ']') {
            ++pi;
            unsigned char hi = static_cast<unsigned char>(p[pi]);
            if (hi == '\\') {
              if (++pi >= p.size()) return kAbortAll;
              hi = static_cast<unsigned char>(p[pi]);
            }
            if (t_ch <= hi && t_ch >= prev) matched = true;
            c = 0;  // a range cannot start another range
          } else if (c == '[' && pi + 1 < p.size() && p[pi + 1] == ':') {
            const size_t close = p.find(":]", pi + 2);
            if (close == std::string_view::npos) {
              if (t_ch == '[') matched = true;  // not a class: a literal '['
            } else {
              bool known = false;
              if (class_matches(p.substr(pi + 2, close - pi - 2), t_ch, &known)) matched = true;
              if (!known) return kAbortAll;  // malformed class: git gives up on the pattern
              pi = close + 1;
              c = 0;
            }
          } else if (t_ch == c) {
            matched = true;
          }
          prev = c;
          ++pi;
        }
        if (matched == negated || t_ch == '/') return kNoMatch;
        break;
      }
      default:
        if (t_ch != p_ch) return kNoMatch;
        break;
    }
  }
  return ti >= t.size() ? kMatch : kNoMatch;
}

// gitignore(5): trailing spaces are dropped unless quoted with a backslash.
std::string_view trim_trailing_spaces(std::string_view line) {
  size_t end = line.size();
  while (end > 0 && line[end - 1] == ' ') {
    // Count the backslashes right before this space: an odd number escapes it.
    size_t bs = 0;
    while (end - 1 >= bs + 1 && line[end - 2 - bs] == '\\') ++bs;
    if (bs % 2 == 1) break;
    --end;
  }
  return line.substr(0, end);
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string out;
  char buf[16384];
  // Rule files beyond 1 MiB are truncated: a rule file that size is a mistake, not a config.
  while (out.size() < (1u << 20) && in.read(buf, sizeof buf).gcount() > 0) out.append(buf, in.gcount());
  return out;
}

}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text) {
  long budget = kWildStepBudget;
  return dowild(pattern, 0, text, 0, budget) == kMatch;
}

std::vector<IgnorePattern> parse_ignore(std::string_view text) {
  std::vector<IgnorePattern> out;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() && out.size() < kMaxPatternsPerFile) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    line = trim_trailing_spaces(line);
    IgnorePattern pat;
    if (!line.empty() && line[0] == '!') {
      pat.negate = true;
      line.remove_prefix(1);
    }
    if (line.ends_with('/')) {
      // A trailing "\/" is an escaped slash, still a directory marker for git; strip either way.
      pat.dir_only = true;
      while (line.ends_with('/')) line.remove_suffix(1);
    }
    if (line.empty() || line.size() > kMaxPatternBytes) continue;
    pat.anchored = line.find('/') != std::string_view::npos;
    if (line[0] == '/') line.remove_prefix(1);
    if (line.empty()) continue;
    pat.glob = std::string(line);
    out.push_back(std::move(pat));
  }
  return out;
}

bool pattern_matches(const IgnorePattern& pattern, std::string_view rel, bool is_dir) {
  if (pattern.dir_only && !is_dir) return false;
  if (pattern.anchored) return wildmatch(pattern.glob, rel);
  const size_t slash = rel.rfind('/');
  return wildmatch(pattern.glob, slash == std::string_view::npos ? rel : rel.substr(slash + 1));
}

void IgnoreTree::set_rules(const std::string& dir, std::string_view gitignore, std::string_view chironignore) {
  std::vector<IgnorePattern> all = parse_ignore(gitignore);
  std::vector<IgnorePattern> more = parse_ignore(chironignore);
  all.insert(all.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  if (all.empty()) {
    rules_.erase(dir);
  } else {
    rules_[dir] = std::move(all);
  }
}

void IgnoreTree::clear_rules(const std::string& dir) { rules_.erase(dir); }

void IgnoreTree::load_dir(const std::string& root, const std::string& dir) {
  const std::string base = dir.empty() ? root : root + "/" + dir;
  set_rules(dir, read_small_file(base + "/.gitignore"), read_small_file(base + "/.chironignore"));
}

bool IgnoreTree::ignored_here(std::string_view path, bool is_dir) const {
  // Deepest directory first: its rules override the shallower ones (gitignore(5)).
  size_t cut = path.size();
  for (;;) {
    const size_t slash = cut == 0 ? std::string_view::npos : path.rfind('/', cut - 1);
    const std::string_view dir = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
    const std::string_view rel = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (auto it = rules_.find(dir); it != rules_.end()) {
      for (auto p = it->second.rbegin(); p != it->second.rend(); ++p) {
        if (pattern_matches(*p, rel, is_dir)) return !p->negate;
      }
    }
    if (slash == std::string_view::npos) return false;
    cut = slash;
  }
}

bool IgnoreTree::ignored(std::string_view path, bool is_dir) const {
  // Every ancestor first: nothing under an excluded directory can be re-included.
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view component =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (component == ".git") return true;
    if (slash == std::string_view::npos) break;
    if (ignored_here(path.substr(0, slash), true)) return true;
    start = slash + 1;
  }
  return ignored_here(path, is_dir);
}

}  // namespace chiron::push
