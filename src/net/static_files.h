#pragma once
// StaticFiles: serves the files under a root directory (the web UI, HLS
// segments, downloads).
//
//   - MIME type by extension (net/mime.h); Accept-Ranges: bytes.
//   - Validators: strong ETag "size-mtime" (a "-gz" suffix for the gzip
//     representation) and Last-Modified; If-None-Match / If-Modified-Since →
//     304 (RFC 9110 §13.1.2-3).
//   - One byte range → 206 with Content-Range, unsatisfiable → 416
//     (RFC 9110 §14); several ranges are answered with the whole file (allowed
//     by §14.2); If-Range is honoured.
//   - gzip for compressible types between gzip_min_bytes and gzip_max_bytes
//     when the client accepts it; compressed bodies are cached by
//     (path, size, mtime) up to gzip_cache_bytes.
//   - Refuses traversal: ".." / "." segments, encoded "/" "\" or NUL, and
//     symlinks that resolve outside the root.
//   - Directories: a path without a trailing "/" is redirected (301) so
//     relative links work; with one, index_file is served.
//
// Files are opened, stat'ed and (for gzip) read on the calling thread, the
// net thread; bodies are streamed by the server in chunks. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/http_message.h"

namespace chiron::net {

struct StaticFilesOptions {
  std::string index_file = "index.html";
  bool gzip = true;
  size_t gzip_min_bytes = 1024;            // smaller files gain nothing
  size_t gzip_max_bytes = 8 << 20;         // larger ones are streamed as they are
  size_t gzip_cache_bytes = 32 << 20;      // compressed bodies kept in memory
  // Cache-Control for HTML and playlists (they change in place) and for the rest.
  std::string revalidate_cache_control = "no-cache";
  std::string asset_cache_control = "public, max-age=3600";
};

class StaticFiles {
 public:
  explicit StaticFiles(std::string root_dir, StaticFilesOptions options = {});
  ~StaticFiles();
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  // Answers a GET/HEAD for rel_path: the decoded, "/"-separated path below
  // the root (the "*path" capture of a route). request.target is checked for
  // encoded separators that decoding would have hidden.
  Response serve(const Request& request, std::string_view rel_path) const;

  // Answers with one file chosen by the caller (no traversal checks): the
  // same validators, Range and gzip handling as serve().
  Response serve_file(const Request& request, const std::string& file_path) const;

  const std::string& root() const { return root_; }

 private:
  struct CacheEntry {
    std::string key;
    std::shared_ptr<const std::string> gz;
  };
  std::shared_ptr<const std::string> gzipped(const std::string& path, uint64_t size, int64_t mtime_ns) const;

  std::string root_;            // as given, without a trailing "/"
  std::string canonical_root_;  // realpath of the root, for the symlink check
  StaticFilesOptions options_;

  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const std::string>> gzip_cache_;  // Guarded by mu_
  mutable std::deque<std::string> gzip_cache_order_;  // Guarded by mu_ (FIFO eviction)
  mutable size_t gzip_cache_size_ = 0;                // Guarded by mu_
};

}  // namespace chiron::net
