#pragma once
// Byte encodings and the keyed hash the project signs with: base64url (RFC 4648 §5, no padding)
// for tokens and keys, HMAC-SHA256 (RFC 2104) for name-server registrations and chat tokens.
// Pure functions; thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chiron {

// RFC 4648 §5 base64url without '=' padding.
std::string base64url_encode(std::string_view bytes);
// Strict: no padding, no whitespace, and the unused low bits of the last character must be zero
// (RFC 4648 §3.5), so every byte string has exactly one accepted encoding. nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

inline constexpr size_t kSha256Bytes = 32;
std::array<unsigned char, kSha256Bytes> hmac_sha256(std::string_view key, std::string_view msg);

}  // namespace chiron
