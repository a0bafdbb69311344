#pragma once
// BlobStore: content-addressed, immutable blobs under <data>/blobs/ab/<sha256 hex>.
//
// DESIGN: a blob is written to <data>/tmp/<random>, fsync'd, renamed into place, and the
// directory fsync'd, so once put()/adopt() returns the blob survives a crash and is either
// absent or complete (rename(2) is atomic). A blob is never modified afterwards; the same
// content is stored once. Metadata (which channel/path refers to which blob) lives in the Db
// and is committed only after the blob is durable: a crash in between leaves an orphan blob
// that no version refers to — invisible. open() removes stray temp files.
//
// Thread-safe (no mutable state besides the filesystem; concurrent puts of the same content
// race benignly: both renames install identical bytes).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::store {

struct BlobInfo {
  std::string sha256;
  uint64_t size = 0;
};

class BlobStore {
 public:
  // Creates <data>/blobs and <data>/tmp; empties <data>/tmp (a crash's leftovers).
  static Result<std::unique_ptr<BlobStore>> open(const std::filesystem::path& data_dir);

  // Stores bytes (deduplicated); durable on return.
  // sha256: the bytes' digest when the caller already has it (empty: computed here).
  Result<BlobInfo> put(std::string_view bytes, std::string_view sha256 = {});
  // Moves `file` (same filesystem, already fsync'd) into the store as the blob `sha256`
  // after verifying its content hashes to it; kInvalidArgument "checksum_mismatch" otherwise
  // (the file is left in place). When the blob already exists the file is removed.
  Result<BlobInfo> adopt(const std::filesystem::path& file, std::string_view sha256);

  bool exists(std::string_view sha256) const;
  Result<uint64_t> size(std::string_view sha256) const;
  std::filesystem::path path_of(std::string_view sha256) const;
  // Whole content (small blobs only: comment line counts, tests).
  Result<std::string> read(std::string_view sha256) const;
  // Up to max_bytes from the start (content sniffing).
  Result<std::string> read_prefix(std::string_view sha256, size_t max_bytes) const;
  // Newline count as an editor shows lines: "a\nb" and "a\nb\n" both have 2; "" has 0.
  Result<int64_t> line_count(std::string_view sha256) const;

  const std::filesystem::path& tmp_dir() const { return tmp_; }

 private:
  BlobStore(std::filesystem::path blobs, std::filesystem::path tmp) : blobs_(std::move(blobs)), tmp_(std::move(tmp)) {}
  Status install(const std::filesystem::path& from, std::string_view sha256);

  std::filesystem::path blobs_;
  std::filesystem::path tmp_;
};

// fsync of a directory (makes a rename or unlink in it durable).
Status fsync_dir(const std::filesystem::path& dir);

}  // namespace chiron::store
