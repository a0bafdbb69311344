#pragma once
// RTMP handshake (RTMP 1.0 §5.2) plus the digest ("complex", Flash Player 9) variant that Flash
// clients expect: C0/S0 = version byte 3; C1/S1 = time(4) zero-or-version(4) random(1528);
// C2/S2 = echo of the peer's C1/S1.
//
// DESIGN: pure functions over fixed-size blocks. The server answers simply (S1 version bytes
// zero, which tells librtmp/OBS and ffmpeg not to look for digests) unless the client's C1
// carries a valid HMAC-SHA256 digest at either schema offset, in which case S1 and S2 carry
// digests made with the Flash Media Server key, as Flash Player checks. Internal to the media
// module. Thread-safe (no state).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chiron::media::rtmp {

inline constexpr size_t kHandshakeBlockBytes = 1536;  // C1, C2, S1, S2
inline constexpr uint8_t kRtmpVersion = 3;
inline constexpr size_t kDigestBytes = 32;

// The Genuine Adobe Flash Player key (62 bytes; the first 30 sign C1) and the Flash Media
// Server key (68 bytes; the first 36 sign S1, all 68 key the S2 digest).
std::string_view flash_player_key();
std::string_view flash_media_server_key();

// HMAC-SHA256(key, data).
std::string hmac_sha256(std::string_view key, std::string_view data);

// Schema 0 = "key then digest" (digest offset base 772), 1 = "digest then key" (base 8).
// Offset of the 32-byte digest inside a 1536-byte block for that schema.
size_t digest_offset(std::string_view block, int schema);
// The digest over the block minus its 32 digest bytes at `offset`, keyed with `key`.
std::string block_digest(std::string_view block, size_t offset, std::string_view key);
// The schema whose digest validates with `key_prefix` (30 bytes of the player key for C1, 36
// of the server key for S1), or nullopt.
std::optional<int> find_valid_digest(std::string_view block, std::string_view key_prefix);
// Writes a digest into `block` at the schema's offset.
void sign_block(std::string& block, int schema, std::string_view key_prefix);

// S0+S1+S2 (3073 bytes) answering C1 (1536 bytes).
std::string server_response(std::string_view c1);
// C0+C1 of a simple-handshake client.
std::string client_hello();

}  // namespace chiron::media::rtmp
