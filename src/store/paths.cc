#include "store/paths.h"

#include <string>

namespace chiron::store {

namespace {

Status bad(std::string why) { return Status::invalid_argument("invalid path: " + why); }

// Length of the UTF-8 sequence at s[i], or 0 when it is malformed (RFC 3629 §4).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // ≤ U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

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
    size_t n = utf8_sequence(path, i);
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
