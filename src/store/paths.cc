#include "store/paths.h"

#include <string>

#include "common/strings.h"

namespace chiron::store {

namespace {

Status bad(std::string why) { return Status::invalid_argument("invalid path: " + why); }

}  // namespace

Status validate_path(std::string_view path) {
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxPathBytes) {
    return bad("longer than " + std::to_string(kMaxPathBytes) + " bytes (" + std::to_string(path.size()) + ")");
  }
  if (path.front() == '/') return bad("absolute (starts with '/')");
  for (size_t i = 0; i < path.size();) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7F) return bad("control character 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                                          std::string(1, "0123456789abcdef"[c & 15]) + " at byte " + std::to_string(i));
    if (c == '\\') return bad("backslash at byte " + std::to_string(i));
    size_t n = utf8_sequence_length(path, i);
    if (n == 0) return bad("not UTF-8 at byte " + std::to_string(i));
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(path[i + 1]) < 0xA0) {
      return bad("C1 control character at byte " + std::to_string(i));  // U+0080..U+009F
    }
    i += n;
  }
  size_t index = 1;
  for (size_t start = 0;; ++index) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return bad("empty segment " + std::to_string(index) + (slash == std::string_view::npos ? " (trailing '/')" : " ('//')"));
    if (seg == ".") return bad("segment " + std::to_string(index) + " is '.'");
    if (seg == "..") return bad("segment " + std::to_string(index) + " is '..'");
    if (seg.size() > kMaxSegmentBytes) {
      return bad("segment " + std::to_string(index) + " is longer than " + std::to_string(kMaxSegmentBytes) + " bytes");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status();
}

}  // namespace chiron::store
