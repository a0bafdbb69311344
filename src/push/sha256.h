#pragma once
// A file's SHA-256 (common/sha256.h) streamed in 64 KiB reads, keeping small contents so the
// bytes uploaded are the bytes hashed. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sha256.h"

namespace chiron::push {

using ::chiron::sha256_hex;

struct FileDigest {
  uint64_t size = 0;
  std::string sha256;
  std::string content;  // filled when the file is at most keep_max bytes
};
// Hashes the regular file at `path` (O_NOFOLLOW: a symlink is an error); keeps the content when
// it is at most keep_max bytes, so the bytes uploaded are the bytes hashed.
Result<FileDigest> digest_file(const std::string& path, uint64_t keep_max);

}  // namespace chiron::push
