#pragma once
// Identifiers. random_bytes/random_token draw from the kernel CSPRNG
// (getrandom(2)) and are suitable for secrets (session ids, stream keys).
// IdGenerator hands out process-unique 64-bit ids cheaply. Thread-safe.

#include <atomic>
#include <cstdint>
#include <string>

namespace chiron {

// n bytes from getrandom(2); aborts if the kernel CSPRNG is unavailable.
std::string random_bytes(size_t n);
// Lower-case hex of n random bytes (2n characters).
std::string random_hex(size_t n);
// URL-safe base64 (RFC 4648 §5, no padding) of n random bytes: tokens, keys.
std::string random_token(size_t n = 24);
// A random RFC 4122 version-4 UUID: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string random_uuid();

// Monotonically increasing ids, unique within a process, starting at 1.
class IdGenerator {
 public:
  uint64_t next() { return next_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> next_{1};
};

}  // namespace chiron
