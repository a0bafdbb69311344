#pragma once
// MIME types by file extension for StaticFiles (IANA media types registry;
// text/javascript per RFC 9239). Pure functions; thread-safe.

#include <string_view>

namespace chiron::net {

// "text/html; charset=utf-8" for "index.html"; application/octet-stream when unknown.
std::string_view mime_type_for(std::string_view file_name);

// Whether gzip is worth applying: text, JSON, JS, SVG, wasm — not images,
// fonts or media that are compressed already.
bool is_compressible_type(std::string_view content_type);

}  // namespace chiron::net
