#pragma once
// Streaming SHA-256 (FIPS 180-4) over OpenSSL's EVP interface, with lower-case hex output: blob
// addresses of the code storage, the push client's change detection, stored digests of session
// cookies and push tokens. Sha256 objects: not thread-safe; the free functions: thread-safe.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  // 64 lower-case hex digits; the object is spent afterwards.
  std::string final_hex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::string_view bytes);
// Reads `file` front to back in chunks of up to `chunk` bytes, handing each to `fn` (which
// returns false to stop early). Bounded memory; EINTR retried. Also used to count lines.
Status for_each_file_chunk(const std::filesystem::path& file, size_t chunk,
                           const std::function<bool(std::string_view)>& fn);
// Hashes a file in 1 MiB reads (bounded memory); also returns its size through *size_out.
Result<std::string> sha256_file(const std::filesystem::path& file, uint64_t* size_out = nullptr);
// 64 lower-case hex digits.
bool is_sha256_hex(std::string_view s);

}  // namespace chiron
