#pragma once
// Path validation for stored files (docs/platform-api.md "Files", Rules): a path is UTF-8,
// relative, '/'-separated, without empty / "." / ".." segments, backslashes or control
// characters, at most kMaxPathBytes bytes with segments of at most kMaxSegmentBytes bytes.
// Pure functions; thread-safe.

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace chiron::store {

inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxSegmentBytes = 255;

// OK, or kInvalidArgument whose message says what is wrong ("invalid path: segment 2 is '..'").
Status validate_path(std::string_view path);


}  // namespace chiron::store
