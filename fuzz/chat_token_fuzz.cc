// libFuzzer target for chat session tokens (src/chat/token.h). The input is a token as a socket
// would present it in its CONNECT auth payload. Random bytes almost never carry a valid HMAC, so
// an input starting with '!' is taken as the JWS signing input (header "." payload) and signed
// here with the target's secret: that drives the header and claims checks behind the signature.
// verify_chat_token must never crash or throw, must refuse with kUnauthenticated and a reason,
// and every accepted token must meet the claim bounds and survive sign → verify.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/token.h"
#include "common/check.h"

namespace {

using chiron::StatusCode;
using namespace chiron::chat;

constexpr std::string_view kSecret = "fuzz-secret";
constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kLeeway = 30;

std::string b64url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) out.push_back(kAlphabet[(acc >> (bits -= 6)) & 63]);
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string signed_token(std::string_view signing_input) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), md, &len);
  return std::string(signing_input) + "." + b64url(md, len);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string token;
  if (!text.empty() && text[0] == '!') {
    token = signed_token(text.substr(1));
  } else {
    token = std::string(text);
  }

  auto r = verify_chat_token(kSecret, token, kNow, kLeeway);
  if (!r.ok()) {
    CHIRON_CHECK(r.status().code() == StatusCode::kUnauthenticated, "refusal must be kUnauthenticated");
    CHIRON_CHECK(!r.status().message().empty(), "refusal without a reason");
    return 0;
  }
  const ChatClaims& c = *r;
  CHIRON_CHECK(token.size() <= kMaxChatTokenBytes, "accepted an oversized token");
  CHIRON_CHECK(!c.user.empty() && c.user.size() <= 64, "sub bounds");
  CHIRON_CHECK(!c.name.empty() && c.name.size() <= 64, "name bounds");
  CHIRON_CHECK(c.expires_unix_s > kNow - kLeeway, "accepted an expired token");
  CHIRON_CHECK(!verify_chat_token("other-secret", token, kNow, kLeeway).ok(), "accepted under another secret");

  auto again = verify_chat_token(kSecret, sign_chat_token(kSecret, c, kNow), kNow, kLeeway);
  if (again.ok()) {
    CHIRON_CHECK(again->user == c.user && again->name == c.name && again->moderates == c.moderates &&
                     again->can_post == c.can_post && again->expires_unix_s == c.expires_unix_s,
                 "sign → verify changed the claims");
  } else {
    // Re-signing adds iat and may push many moderated rooms over the size limit; nothing else.
    CHIRON_CHECK(again.status().message() == "token over 4 KiB", "re-signed claims refused");
  }
  return 0;
}
