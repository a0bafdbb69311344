#include "common/encoding.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>

#include "common/check.h"

namespace chiron {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::array<unsigned char, kSha256Bytes> hmac_sha256(std::string_view key, std::string_view msg) {
  CHIRON_CHECK(key.size() <= static_cast<size_t>(INT_MAX), "HMAC key too long");
  static const unsigned char kEmpty = 0;
  // OpenSSL refuses a null key pointer even with length 0; an empty secret is still a key.
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const auto* msg_ptr = msg.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(msg.data());
  std::array<unsigned char, kSha256Bytes> md{};
  unsigned int md_len = 0;
  const unsigned char* out =
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), msg_ptr, msg.size(), md.data(), &md_len);
  CHIRON_CHECK(out != nullptr && md_len == kSha256Bytes, "HMAC-SHA256 failed");
  return md;
}

}  // namespace chiron
