// libFuzzer target: store path validation (src/store/paths.h). Invariants: never crashes; an
// accepted path is UTF-8, relative, within the byte limits and has no '', '.' or '..' segment
// nor backslash/control bytes; a rejected one says why ("invalid path: ...").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/strings.h"
#include "store/paths.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  chiron::Status st = chiron::store::validate_path(path);
  if (!st.ok()) {
    if (st.code() != chiron::StatusCode::kInvalidArgument || st.message().rfind("invalid path: ", 0) != 0) std::abort();
    return 0;
  }
  if (path.empty() || path.size() > chiron::store::kMaxPathBytes || path.front() == '/') std::abort();
  if (!chiron::is_valid_utf8(path)) std::abort();
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.size() > chiron::store::kMaxSegmentBytes) std::abort();
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == '\\') std::abort();
  }
  return 0;
}
