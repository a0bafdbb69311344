#include "net/mime.h"

#include <array>
#include <utility>

#include "common/strings.h"

namespace chiron::net {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 26> kTypes = {{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
    {"flv", "video/x-flv"},
    {"mp4", "video/mp4"},
    {"m4s", "video/iso.segment"},
    {"pdf", "application/pdf"},
}};

}  // namespace

std::string_view mime_type_for(std::string_view file_name) {
  size_t slash = file_name.find_last_of('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  size_t dot = file_name.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return "application/octet-stream";
  std::string_view ext = file_name.substr(dot + 1);
  for (const auto& [e, type] : kTypes)
    if (iequals(e, ext)) return type;
  return "application/octet-stream";
}

bool is_compressible_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  t = trim(t);
  if (t.starts_with("text/")) return true;
  return iequals(t, "application/json") || iequals(t, "application/javascript") || iequals(t, "image/svg+xml") ||
         iequals(t, "application/wasm") || iequals(t, "application/xml") ||
         iequals(t, "application/vnd.apple.mpegurl");
}

}  // namespace chiron::net
