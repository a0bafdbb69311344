#pragma once
// DESIGN — chat session tokens. The platform (accounts, issue 5) signs who a chat socket is;
// the chat checks the signature and never sees a password. The format is a JSON Web Token
// (RFC 7519) with HMAC-SHA256 (JWS "HS256", RFC 7515), so any JWT library can mint one:
//
//   base64url({"alg":"HS256","typ":"JWT"}) "." base64url(claims) "." base64url(HMAC-SHA256(secret, first two parts))
//
// Claims: "sub" user id (required, 1..64 bytes), "name" display name (optional, ≤ 64 bytes,
// defaults to sub), "mod" array of room names the user moderates ("*" = every room), "post"
// (bool, default true; false = read-only viewer), "exp" expiry in unix seconds (required),
// "iat" (optional). Unknown claims are ignored.
//
// verify_chat_token refuses (kUnauthenticated, with the reason): other algorithms (incl.
// "none"), bad base64url or JSON, a wrong signature (constant-time compare), exp ≤ now − leeway,
// a missing sub/exp, and tokens over 4 KiB. It never throws. Thread-safe (pure functions).
// The secret comes from `chiron serve --chat-secret` (env CHIRON_CHAT_SECRET); `chiron chat
// token` prints tokens for scripts and tests.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron::chat {

struct ChatClaims {
  std::string user;                    // "sub"
  std::string name;                    // "name" (defaults to user)
  std::vector<std::string> moderates;  // "mod"
  bool can_post = true;                // "post"
  int64_t expires_unix_s = 0;          // "exp"

  bool moderates_room(std::string_view room) const;
};

// Whether a "mod" list (room names, "*" = every room) covers room.
bool moderates_room(const std::vector<std::string>& moderated, std::string_view room);

inline constexpr size_t kMaxChatTokenBytes = 4096;

Result<ChatClaims> verify_chat_token(std::string_view secret, std::string_view token, int64_t now_unix_s,
                                     int64_t leeway_s = 30);
// iat = now_unix_s; exp = claims.expires_unix_s.
std::string sign_chat_token(std::string_view secret, const ChatClaims& claims, int64_t now_unix_s);

}  // namespace chiron::chat
