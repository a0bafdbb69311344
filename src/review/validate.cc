#include "review/validate.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/strings.h"

namespace chiron::review {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length or 0 when invalid (RFC 3629 §4).
size_t utf8_len(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n = 0;
  uint32_t c = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    c = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
      (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return n;
}

bool text_ok(std::string_view s, bool allow_newlines) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = utf8_len(s, i, &cp);
    if (n == 0) return false;
    const bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
    if (control && !(allow_newlines && (cp == '\n' || cp == '\t' || cp == '\r'))) return false;
    i += n;
  }
  return true;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 32) return false;
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(name[0])) return false;
  for (char c : name.substr(1))
    if (!lower_digit(c) && c != '_' && c != '-') return false;
  return true;
}

bool reserved_name(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"system", "chiron", "admin", "root", "api", "anonymous", "moderator"};
  for (std::string_view r : kReserved)
    if (name == r) return true;
  return name.starts_with("anon-");
}

Result<std::string> clean_display_name(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty() || text.size() > 64 || !text_ok(text, false))
    return Status::invalid_argument("the display name must be 1..64 bytes of printable UTF-8");
  return std::string(text);
}

Result<std::string> normalise_tag(std::string_view tag) {
  std::string out;
  for (char c : tag) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return Status::invalid_argument("a tag may contain only letters, digits and + # . _ -");
    out.push_back(c);
  }
  if (out.empty() || out.size() > 24) return Status::invalid_argument("a tag must be 1..24 characters");
  return out;
}

Result<std::vector<std::string>> parse_tags_json(std::string_view json_text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json_text, ec);
  if (ec || !v.is_array()) return Status::invalid_argument("tags must be an array of strings");
  std::vector<std::string> tags;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) return Status::invalid_argument("tags must be an array of strings");
    CHIRON_ASSIGN_OR_RETURN(std::string tag, normalise_tag(std::string_view(item.get_string())));
    bool seen = false;
    for (const auto& t : tags) seen = seen || t == tag;
    if (!seen) tags.push_back(std::move(tag));
    if (tags.size() > kMaxTags) return Status::invalid_argument("at most " + std::to_string(kMaxTags) + " tags");
  }
  return tags;
}

std::string tags_to_json(const std::vector<std::string>& tags) {
  boost::json::array a;
  for (const auto& t : tags) a.emplace_back(t);
  return boost::json::serialize(a);
}

bool origin_matches_host(std::string_view origin, std::string_view host) {
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0 || host.empty()) return false;
  std::string_view scheme = origin.substr(0, sep);
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  std::string_view rest = origin.substr(sep + 3);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
  return iequals(rest, host);
}

bool valid_text(std::string_view text) { return text_ok(text, true); }

}  // namespace chiron::review
