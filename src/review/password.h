#pragma once
// Password hashing for accounts: argon2id (RFC 9106) through libargon2, stored as the encoded
// PHC string ("$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>"), so the parameters travel with
// each hash and can be raised later without breaking old ones. Verification is libargon2's
// (constant-time comparison of the recomputed hash). Thread-safe (pure functions; each call
// allocates `memory_kib` of working memory).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chiron::review {

struct PasswordParams {
  uint32_t iterations = 3;        // t
  uint32_t memory_kib = 64 * 1024;  // m (64 MiB)
  uint32_t parallelism = 1;       // p
};

inline constexpr size_t kMinPasswordBytes = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

// A fresh 16-byte salt from the kernel CSPRNG, a 32-byte hash. kInvalidArgument for a password
// outside kMin..kMaxPasswordBytes.
Result<std::string> hash_password(std::string_view password, const PasswordParams& params = {});
// True when `encoded` is an argon2id PHC string and the password matches it. A malformed
// encoding is simply false.
bool verify_password(std::string_view encoded, std::string_view password);

}  // namespace chiron::review
