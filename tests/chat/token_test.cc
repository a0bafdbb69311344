// Chat session tokens (JWT HS256, src/chat/token.h): the RFC 7515 example, round trips, and
// every way a token must be refused. Strings in, claims or a reason out.

#include "chat/token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chiron::chat {
namespace {

constexpr std::string_view kSecret = "correct horse battery staple";
constexpr int64_t kNow = 1'800'000'000;

// Test-side encoder, written independently of token.cc so a shared bug cannot hide.
std::string b64url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int bits = 0;
  unsigned acc = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out.push_back(kAlphabet[(acc >> (bits -= 6)) & 63]);
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string hmac_b64url(std::string_view key, std::string_view msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), md, &len);
  return b64url(std::string_view(reinterpret_cast<const char*>(md), len));
}

// A correctly signed token with arbitrary header and payload JSON.
std::string make_token(std::string_view header_json, std::string_view payload_json,
                       std::string_view secret = kSecret) {
  std::string input = b64url(header_json) + "." + b64url(payload_json);
  return input + "." + hmac_b64url(secret, input);
}

std::string make_token(std::string_view payload_json) {
  return make_token(R"({"alg":"HS256","typ":"JWT"})", payload_json);
}

ChatClaims claims_for(std::string user) {
  ChatClaims c;
  c.user = std::move(user);
  c.expires_unix_s = kNow + 3600;
  return c;
}

std::string refusal(std::string_view token, int64_t now = kNow) {
  auto r = verify_chat_token(kSecret, token, now);
  EXPECT_FALSE(r.ok()) << token;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().to_string();
  EXPECT_FALSE(r.status().message().empty());
  return r.status().message();
}

// ---- RFC 7515 Appendix A.1 ----

// The HS256 example JWS, its key (the JWK "k" value) and its exp (2011-03-22).
constexpr std::string_view kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kRfcKeyB64 =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr int64_t kRfcExp = 1300819380;

std::string rfc_key() {
  // Decode the JWK "k" (base64url) with OpenSSL's standard base64 after the alphabet swap.
  std::string std_b64(kRfcKeyB64);
  for (char& c : std_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (std_b64.size() % 4 != 0) std_b64.push_back('=');
  std::string out(std_b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(std_b64.data()), static_cast<int>(std_b64.size()));
  EXPECT_EQ(n, 66);         // 64 key bytes + 2 bytes of '=' fill that EVP_DecodeBlock reports
  out.resize(64);
  return out;
}

TEST(ChatTokenRfcTest, AppendixA1SignatureVerifiesThenLacksSub) {
  // The example carries iss/exp but no sub: reaching the claims check proves the signature passed.
  auto r = verify_chat_token(rfc_key(), kRfcToken, kRfcExp - 60);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "claims: missing sub");
}

TEST(ChatTokenRfcTest, AppendixA1WithOtherKeyIsBadSignature) {
  auto r = verify_chat_token("not the key", kRfcToken, kRfcExp - 60);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad signature");
}

TEST(ChatTokenRfcTest, SameKeyAndClaimsWithSubVerify) {
  const std::string token = make_token(R"({"typ":"JWT",)" "\r\n" R"( "alg":"HS256"})",
                                       R"({"sub":"joe","exp":1300819380})", rfc_key());
  auto r = verify_chat_token(rfc_key(), token, kRfcExp - 60);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->user, "joe");
  EXPECT_EQ(r->expires_unix_s, kRfcExp);
}

// ---- Round trips ----

TEST(ChatTokenTest, RoundTripsAllClaims) {
  ChatClaims c = claims_for("u42");
  c.name = "Ada <Lovelace>";
  c.moderates = {"lobby", "dev"};
  c.can_post = false;
  auto r = verify_chat_token(kSecret, sign_chat_token(kSecret, c, kNow), kNow);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->user, "u42");
  EXPECT_EQ(r->name, "Ada <Lovelace>");
  EXPECT_EQ(r->moderates, (std::vector<std::string>{"lobby", "dev"}));
  EXPECT_FALSE(r->can_post);
  EXPECT_EQ(r->expires_unix_s, kNow + 3600);
}

TEST(ChatTokenTest, NameDefaultsToSubAndPostDefaultsToTrue) {
  auto r = verify_chat_token(kSecret, make_token(R"({"sub":"bob","exp":1800003600})"), kNow);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->name, "bob");
  EXPECT_TRUE(r->can_post);
  EXPECT_TRUE(r->moderates.empty());
}

TEST(ChatTokenTest, SignedTokenHasStandardHeaderAndThreeParts) {
  const std::string token = sign_chat_token(kSecret, claims_for("u"), kNow);
  EXPECT_EQ(token.substr(0, token.find('.')), b64url(R"({"alg":"HS256","typ":"JWT"})"));
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(token.find('='), std::string::npos);
}

TEST(ChatTokenTest, AcceptsHeaderWithoutTyp) {
  EXPECT_TRUE(verify_chat_token(kSecret, make_token(R"({"alg":"HS256"})", R"({"sub":"a","exp":1800003600})"), kNow).ok());
}

TEST(ChatTokenTest, IgnoresUnknownClaims) {
  EXPECT_TRUE(verify_chat_token(kSecret, make_token(R"({"sub":"a","exp":1800003600,"x":{"y":[1]}})"), kNow).ok());
}

TEST(ChatTokenTest, EmptySecretIsStillAKey) {
  const std::string token = sign_chat_token("", claims_for("u"), kNow);
  EXPECT_TRUE(verify_chat_token("", token, kNow).ok());
  EXPECT_FALSE(verify_chat_token("x", token, kNow).ok());
}

// ---- Tampering ----

TEST(ChatTokenTest, RefusesTamperedPayload) {
  const std::string good = sign_chat_token(kSecret, claims_for("alice"), kNow);
  const std::string evil = sign_chat_token(kSecret, claims_for("mallory"), kNow);
  const size_t d1 = good.find('.'), d2 = good.rfind('.');
  const std::string spliced = good.substr(0, d1) + evil.substr(evil.find('.'), evil.rfind('.') - evil.find('.')) +
                              good.substr(d2);
  EXPECT_EQ(refusal(spliced), "bad signature");
}

TEST(ChatTokenTest, RefusesTamperedHeader) {
  const std::string good = sign_chat_token(kSecret, claims_for("alice"), kNow);
  const std::string tampered = b64url(R"({"alg":"HS256","typ":"jwt"})") + good.substr(good.find('.'));
  EXPECT_EQ(refusal(tampered), "bad signature");
}

TEST(ChatTokenTest, RefusesTamperedSignature) {
  std::string token = sign_chat_token(kSecret, claims_for("alice"), kNow);
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(refusal(token), "bad signature");
}

TEST(ChatTokenTest, RefusesWrongSecret) {
  EXPECT_EQ(refusal(make_token(R"({"alg":"HS256"})", R"({"sub":"a","exp":1800003600})", "other")), "bad signature");
}

TEST(ChatTokenTest, RefusesTruncatedSignature) {
  const std::string token = sign_chat_token(kSecret, claims_for("alice"), kNow);
  EXPECT_EQ(refusal(token.substr(0, token.size() - 3)), "bad signature");  // 40 chars: 30 bytes
  EXPECT_EQ(refusal(token.substr(0, token.rfind('.') + 1)), "bad signature");
}

// ---- Algorithms ----

TEST(ChatTokenTest, RefusesAlgNoneWithEmptySignature) {
  const std::string token = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(R"({"sub":"a","exp":1800003600})") + ".";
  EXPECT_EQ(refusal(token), "header: unsupported alg (want HS256)");
}

TEST(ChatTokenTest, RefusesHs512EvenWhenHmacSha256Matches) {
  EXPECT_EQ(refusal(make_token(R"({"alg":"HS512","typ":"JWT"})", R"({"sub":"a","exp":1800003600})")),
            "header: unsupported alg (want HS256)");
}

TEST(ChatTokenTest, RefusesMissingOrNonStringAlg) {
  EXPECT_EQ(refusal(make_token(R"({"typ":"JWT"})", R"({"sub":"a","exp":1800003600})")), "header: missing alg");
  EXPECT_EQ(refusal(make_token(R"({"alg":["HS256"]})", R"({"sub":"a","exp":1800003600})")), "header: missing alg");
}

TEST(ChatTokenTest, RefusesOtherTypAndCrit) {
  EXPECT_EQ(refusal(make_token(R"({"alg":"HS256","typ":"JOSE+JSON"})", R"({"sub":"a","exp":1800003600})")),
            "header: typ is not JWT");
  EXPECT_EQ(refusal(make_token(R"({"alg":"HS256","crit":["b64"],"b64":false})", R"({"sub":"a","exp":1800003600})")),
            "header: unsupported crit extensions");
}

// ---- Encoding ----

TEST(ChatTokenTest, RefusesBadBase64url) {
  const std::string token = sign_chat_token(kSecret, claims_for("alice"), kNow);
  EXPECT_EQ(refusal("e$J." + token.substr(token.find('.') + 1)), "header: bad base64url");
  std::string std_alphabet = token;
  std_alphabet.replace(0, 1, "+");
  EXPECT_EQ(refusal(std_alphabet), "header: bad base64url");
  EXPECT_EQ(refusal(token.substr(0, token.rfind('.') + 1) + "*"), "signature: bad base64url");
}

TEST(ChatTokenTest, RefusesPaddingCharacters) {
  // RFC 7515 §2: '=' is not in the alphabet, wherever it appears.
  const std::string payload = b64url(R"({"sub":"a","exp":1800003600})");
  std::string input = b64url(R"({"alg":"HS256"})") + "=." + payload;
  EXPECT_EQ(refusal(input + "." + hmac_b64url(kSecret, input)), "header: bad base64url");
  const std::string token = make_token(R"({"sub":"a","exp":1800003600})");
  EXPECT_EQ(refusal(token + "="), "signature: bad base64url");
}

TEST(ChatTokenTest, RefusesNonCanonicalTrailingBits) {
  std::string token = sign_chat_token(kSecret, claims_for("alice"), kNow);
  // 32 signature bytes → 43 characters; the last one carries 2 unused bits that must be zero.
  char& last = token.back();
  last = static_cast<char>(last + 1);
  EXPECT_EQ(refusal(token), "signature: bad base64url");
}

TEST(ChatTokenTest, RefusesWrongNumberOfParts) {
  const std::string token = sign_chat_token(kSecret, claims_for("alice"), kNow);
  EXPECT_EQ(refusal(token.substr(0, token.rfind('.'))), "not a JWT (want header.payload.signature)");
  EXPECT_EQ(refusal(token + ".x"), "not a JWT (want header.payload.signature)");
  EXPECT_EQ(refusal(""), "not a JWT (want header.payload.signature)");
}

TEST(ChatTokenTest, RefusesNonObjectJson) {
  EXPECT_EQ(refusal(make_token(R"(["alg","HS256"])", R"({"sub":"a","exp":1800003600})")), "header: not a JSON object");
  EXPECT_EQ(refusal(make_token(R"("sub")")), "claims: not a JSON object");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a",)")), "claims: bad JSON");
  EXPECT_EQ(refusal(make_token(R"({"alg":"HS256"} trailing)", R"({"sub":"a","exp":1800003600})")), "header: bad JSON");
}

TEST(ChatTokenTest, RefusesDeeplyNestedJsonWithoutCrashing) {
  const std::string deep = R"({"sub":"a","exp":1800003600,"x":)" + std::string(500, '[') + std::string(500, ']') + "}";
  EXPECT_EQ(refusal(make_token(deep)), "claims: bad JSON");
}

TEST(ChatTokenTest, RefusesHugeToken) {
  ChatClaims c = claims_for("alice");
  c.moderates.assign(400, "some-room");
  EXPECT_EQ(refusal(sign_chat_token(kSecret, c, kNow)), "token over 4 KiB");
}

// ---- Claims ----

TEST(ChatTokenTest, RefusesMissingSubOrExp) {
  EXPECT_EQ(refusal(make_token(R"({"exp":1800003600})")), "claims: missing sub");
  EXPECT_EQ(refusal(make_token(R"({"sub":42,"exp":1800003600})")), "claims: missing sub");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a"})")), "claims: missing exp");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":"tomorrow"})")), "claims: exp is not a NumericDate");
}

TEST(ChatTokenTest, RefusesSubAndNameOutOfBounds) {
  EXPECT_EQ(refusal(make_token(R"({"sub":"","exp":1800003600})")), "claims: sub must be 1..64 bytes");
  EXPECT_EQ(refusal(make_token(R"({"sub":")" + std::string(65, 'a') + R"(","exp":1800003600})")),
            "claims: sub must be 1..64 bytes");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","name":")" + std::string(65, 'n') + R"(","exp":1800003600})")),
            "claims: name over 64 bytes");
  EXPECT_TRUE(verify_chat_token(kSecret, make_token(R"({"sub":")" + std::string(64, 'a') + R"(","exp":1800003600})"),
                                kNow).ok());
}

TEST(ChatTokenTest, RefusesMistypedOptionalClaims) {
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":1800003600,"mod":"lobby"})")), "claims: mod is not an array");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":1800003600,"mod":[1]})")), "claims: mod holds a non-string");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":1800003600,"post":"no"})")), "claims: post is not a boolean");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":1800003600,"name":7})")), "claims: name is not a string");
}

TEST(ChatTokenTest, ExpiresAfterLeeway) {
  const std::string token = make_token(R"({"sub":"a","exp":1800000000})");
  EXPECT_TRUE(verify_chat_token(kSecret, token, 1800000000 + 29, 30).ok());
  EXPECT_EQ(refusal(token, 1800000000 + 30), "token expired");
  EXPECT_EQ(verify_chat_token(kSecret, token, 1800000000, 0).status().message(), "token expired");
}

TEST(ChatTokenTest, AcceptsFractionalExpAndSurvivesExtremeValues) {
  EXPECT_TRUE(verify_chat_token(kSecret, make_token(R"({"sub":"a","exp":1800003600.5})"), kNow).ok());
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":1e300})")), "claims: exp is not a NumericDate");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":18446744073709551615})")), "claims: exp is not a NumericDate");
  EXPECT_EQ(refusal(make_token(R"({"sub":"a","exp":-9223372036854775808})"), INT64_MIN), "token expired");
  EXPECT_TRUE(verify_chat_token(kSecret, make_token(R"({"sub":"a","exp":9223372036854775807})"), INT64_MAX, INT64_MAX).ok());
}

TEST(ChatTokenTest, ModeratesRoomByNameOrStar) {
  ChatClaims c;
  EXPECT_FALSE(c.moderates_room("lobby"));
  c.moderates = {"dev", "ops"};
  EXPECT_TRUE(c.moderates_room("ops"));
  EXPECT_FALSE(c.moderates_room("lobby"));
  EXPECT_FALSE(c.moderates_room("op"));
  c.moderates = {"*"};
  EXPECT_TRUE(c.moderates_room("lobby"));
  EXPECT_TRUE(c.moderates_room("anything"));
}

}  // namespace
}  // namespace chiron::chat
