#pragma once
// Internal to the wire (wire.cc, wire_session.cc): HMAC-SHA256 (RFC 2104, FIPS 180-4) through
// OpenSSL's EVP_MAC, keyed once and re-initialised per message, so a frame costs the two
// compression passes of the message and not the key set-up. Not thread-safe (one per owner).

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include <openssl/types.h>

namespace chiron::cluster::detail {

inline constexpr size_t kHmacBytes = 32;
inline constexpr size_t kFrameMacBytes = 16;  // HMAC-SHA256 truncated (RFC 2104 §5)

class Hmac {
 public:
  explicit Hmac(std::string_view key);
  ~Hmac();
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  // HMAC of the concatenation of `parts`.
  std::array<unsigned char, kHmacBytes> digest(std::initializer_list<std::string_view> parts);

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

// One-shot HMAC-SHA256 as a 32-byte string (key derivation, AUTH proofs).
std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts);

// Appends one complete frame (wire.h layout) MAC'd with `mac` (nullptr: 16 zero bytes).
void append_frame(std::string& out, uint8_t type, uint16_t flags, uint64_t seq, std::string_view payload,
                  Hmac* mac);

}  // namespace chiron::cluster::detail
