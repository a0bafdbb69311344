#include "media/rtmp_handshake.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

namespace chiron::media::rtmp {
namespace {

// The 32 bytes both keys end with.
constexpr unsigned char kKeyTail[32] = {0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0,
                                        0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80,
                                        0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

std::string make_key(std::string_view text) {
  std::string key(text);
  key.append(reinterpret_cast<const char*>(kKeyTail), sizeof kKeyTail);
  return key;
}

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n)) != 1) {
    // The random part only has to differ between sessions; a weak fill is harmless here.
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  }
  return s;
}

}  // namespace

std::string_view flash_player_key() {
  static const std::string key = make_key("Genuine Adobe Flash Player 001");
  return key;
}

std::string_view flash_media_server_key() {
  static const std::string key = make_key("Genuine Adobe Flash Media Server 001");
  return key;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

size_t digest_offset(std::string_view block, int schema) {
  const size_t base = schema == 0 ? 772 : 8;
  size_t sum = 0;
  for (size_t i = 0; i < 4; ++i) sum += static_cast<uint8_t>(block[base + i]);
  return sum % 728 + base + 4;
}

std::string block_digest(std::string_view block, size_t offset, std::string_view key) {
  std::string joined;
  joined.reserve(kHandshakeBlockBytes - kDigestBytes);
  joined.append(block.substr(0, offset));
  joined.append(block.substr(offset + kDigestBytes));
  return hmac_sha256(key, joined);
}

std::optional<int> find_valid_digest(std::string_view block, std::string_view key_prefix) {
  if (block.size() != kHandshakeBlockBytes) return std::nullopt;
  for (int schema : {0, 1}) {
    const size_t offset = digest_offset(block, schema);
    if (block_digest(block, offset, key_prefix) == block.substr(offset, kDigestBytes)) return schema;
  }
  return std::nullopt;
}

void sign_block(std::string& block, int schema, std::string_view key_prefix) {
  const size_t offset = digest_offset(block, schema);
  const std::string digest = block_digest(block, offset, key_prefix);
  std::memcpy(block.data() + offset, digest.data(), kDigestBytes);
}

std::string server_response(std::string_view c1) {
  std::string out;
  out.reserve(1 + 2 * kHandshakeBlockBytes);
  out.push_back(static_cast<char>(kRtmpVersion));
  const std::optional<int> schema = find_valid_digest(c1, flash_player_key().substr(0, 30));
  std::string s1 = random_bytes(kHandshakeBlockBytes);
  std::memset(s1.data(), 0, 4);  // time 0
  if (!schema) {
    // Simple handshake (§5.2.3): zero version bytes, S2 echoes C1.
    std::memset(s1.data() + 4, 0, 4);
    out += s1;
    out.append(c1);
    return out;
  }
  // Digest handshake: S1 signed like C1 (same schema) with the server key; S2 is random bytes
  // ending in HMAC(key = HMAC(full server key, C1 digest), S2 without its last 32 bytes).
  const char version[4] = {4, 5, 0, 1};
  std::memcpy(s1.data() + 4, version, 4);
  sign_block(s1, *schema, flash_media_server_key().substr(0, 36));
  out += s1;
  const std::string c1_digest(c1.substr(digest_offset(c1, *schema), kDigestBytes));
  const std::string s2_key = hmac_sha256(flash_media_server_key(), c1_digest);
  std::string s2 = random_bytes(kHandshakeBlockBytes);
  const std::string s2_digest = hmac_sha256(s2_key, std::string_view(s2).substr(0, kHandshakeBlockBytes - kDigestBytes));
  std::memcpy(s2.data() + kHandshakeBlockBytes - kDigestBytes, s2_digest.data(), kDigestBytes);
  out += s2;
  return out;
}

std::string client_hello() {
  std::string out;
  out.reserve(1 + kHandshakeBlockBytes);
  out.push_back(static_cast<char>(kRtmpVersion));
  std::string c1 = random_bytes(kHandshakeBlockBytes);
  std::memset(c1.data(), 0, 8);  // time 0, zero version: the simple handshake
  out += c1;
  return out;
}

}  // namespace chiron::media::rtmp
