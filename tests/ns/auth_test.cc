#include "ns/auth.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace chiron::ns {
namespace {

constexpr int64_t kNowS = 1'700'000'000;  // ManualClock's default start
const std::string kMac64(64, 'a');

// Expected values below were computed with
//   printf '<msg>' | openssl dgst -sha256 -hmac '<key>'   (and Python's hmac for the empty key).
TEST(AuthMacTest, MatchesOpensslCliForKnownMessage) {
  // msg = "REG|web|10.0.0.1:80|1700000000|abcdefgh12345678", key = "s3cret"
  EXPECT_EQ(registration_mac("s3cret", "REG", "web", "10.0.0.1:80", kNowS, "abcdefgh12345678"),
            "43b16006b95dc775dd108daa6b01d02d06d25c75250a24643c0da0b7a8988239");
}

TEST(AuthMacTest, UpperCasesTheVerb) {
  EXPECT_EQ(registration_mac("s3cret", "reg", "web", "10.0.0.1:80", kNowS, "abcdefgh12345678"),
            "43b16006b95dc775dd108daa6b01d02d06d25c75250a24643c0da0b7a8988239");
}

TEST(AuthMacTest, RfcKeyJefeWithRegistrationMessage) {
  // RFC 4231 §4.3 key "Jefe"; msg = "REM|api|[::1]:8080|1|nonce-_Z9"
  EXPECT_EQ(registration_mac("Jefe", "REM", "api", "[::1]:8080", 1, "nonce-_Z9"),
            "79cc3ee2b7a2c57ed2d2ff2f21517500745acd305974d820a03dec620296c97b");
}

TEST(AuthMacTest, KeyLongerThanTheBlockIsHashedFirst) {
  // RFC 4231 §4.7 key (131 × 0xaa, longer than SHA-256's 64-byte block); msg "REG|s|1.2.3.4:5|42|abcdefgh"
  EXPECT_EQ(registration_mac(std::string(131, '\xaa'), "REG", "s", "1.2.3.4:5", 42, "abcdefgh"),
            "becad709cb5ca23df29e1e84b09db2e12e8e17682081928d4677d861c91e36e8");
}

TEST(AuthMacTest, EmptySecretIsStillAKey) {
  EXPECT_EQ(registration_mac("", "HB", "web", "10.0.0.1:80", kNowS, "abcdefgh12345678"),
            "e6f6bbf8c030a439bd7a94390ffbe8f51100b8ce100fbae38a54d5df1fa511b1");
}

TEST(AuthMacTest, SignedTokenParsesAndCarriesTheMac) {
  const std::string token = sign_registration("k", "REG", "web", "10.0.0.1:80", kNowS);
  auto parsed = parse_token(token);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->unix_ts, kNowS);
  EXPECT_EQ(parsed->nonce.size(), 16u);
  EXPECT_EQ(parsed->mac_hex, registration_mac("k", "REG", "web", "10.0.0.1:80", kNowS, parsed->nonce));
}

TEST(AuthMacTest, SignUsesAFreshNonceEachTime) {
  EXPECT_NE(sign_registration("k", "REG", "web", "a:1", kNowS), sign_registration("k", "REG", "web", "a:1", kNowS));
}

TEST(AuthTokenTest, ParsesWellFormedTokenAndLowerCasesMac) {
  auto parsed = parse_token("42.abcdEFGH_-09." + std::string(64, 'F'));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->unix_ts, 42);
  EXPECT_EQ(parsed->nonce, "abcdEFGH_-09");
  EXPECT_EQ(parsed->mac_hex, std::string(64, 'f'));
}

TEST(AuthTokenTest, AcceptsBoundaryLengths) {
  EXPECT_TRUE(parse_token("0.abcdefgh." + kMac64).ok());
  EXPECT_TRUE(parse_token("999999999999." + std::string(64, 'n') + "." + kMac64).ok());
}

TEST(AuthTokenTest, RejectsHostileInputs) {
  const std::string cases[] = {
      "",
      ".",
      "..",
      "no-dots-at-all",
      "123.abcdefgh",                                // missing mac
      "123.abcdefgh." + kMac64 + ".",                // extra dot
      "123.abc.defgh." + kMac64,                     // extra dot inside
      "." + std::string("abcdefgh.") + kMac64,       // empty ts
      "1234567890123.abcdefgh." + kMac64,            // 13 digits
      "99999999999999999999999.abcdefgh." + kMac64,  // would overflow
      "-1.abcdefgh." + kMac64,                       // sign
      "+1.abcdefgh." + kMac64,
      " 1.abcdefgh." + kMac64,  // whitespace
      "1e3.abcdefgh." + kMac64,
      "1.abcdefg." + kMac64,                       // nonce 7 chars
      "1." + std::string(65, 'n') + "." + kMac64,  // nonce 65 chars
      "1.abcd efgh." + kMac64,                     // space in nonce
      "1.abcd+efgh." + kMac64,                     // '+' not URL-safe
      "1.abcd/efgh." + kMac64,
      std::string("1.abcd\0efgh.", 12) + kMac64,   // NUL in nonce
      "1.abcdefgh.",                               // empty mac
      "1.abcdefgh." + std::string(63, 'a'),        // short mac
      "1.abcdefgh." + std::string(65, 'a'),        // long mac
      "1.abcdefgh." + std::string(63, 'a') + "g",  // bad hex
      "1.abcdefgh." + std::string(63, 'a') + "\xff",
      std::string(1 << 20, '1'),                  // huge, no dots
      std::string(1 << 20, '.'),                  // huge, all dots
      "1.abcdefgh." + std::string(1 << 20, 'a'),  // huge mac
  };
  for (const auto& c : cases) {
    auto parsed = parse_token(c);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << c.substr(0, 100);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

class AuthVerifierTest : public ::testing::Test {
 protected:
  std::string token(std::string_view verb, std::string_view service, std::string_view id, int64_t ts,
                    std::string_view nonce, std::string_view secret = "s3cret") {
    return std::to_string(ts) + "." + std::string(nonce) + "." + registration_mac(secret, verb, service, id, ts, nonce);
  }
  Status verify(std::string_view verb, std::string_view service, std::string_view tok,
                std::string_view secret = "s3cret") {
    return verifier_.verify(secret, verb, service, "10.0.0.1:80", tok);
  }

  ManualClock clock_;
  Verifier verifier_{clock_, VerifierOptions{.window_s = 30, .max_nonces = 1000}};
};

TEST_F(AuthVerifierTest, AcceptsFreshTokenAndRecordsNonce) {
  EXPECT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001")).ok());
  EXPECT_EQ(verifier_.nonce_count(), 1u);
}

TEST_F(AuthVerifierTest, AcceptsTimestampsAtTheWindowEdges) {
  EXPECT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS - 30, "nonce0001")).ok());
  EXPECT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS + 30, "nonce0002")).ok());
}

TEST_F(AuthVerifierTest, AcceptsSignedTokenFromSignRegistration) {
  EXPECT_TRUE(verify("HB", "web", sign_registration("s3cret", "hb", "web", "10.0.0.1:80", kNowS)).ok());
}

TEST_F(AuthVerifierTest, RefusesStaleTimestamp) {
  const std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  clock_.advance(std::chrono::seconds(31));
  Status st = verify("REG", "web", tok);
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(st.message(), "stale timestamp");
  EXPECT_EQ(verifier_.nonce_count(), 0u);
}

TEST_F(AuthVerifierTest, RefusesTimestampTooFarInTheFuture) {
  Status st = verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS + 31, "nonce0001"));
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(st.message(), "stale timestamp");
}

TEST_F(AuthVerifierTest, RefusesReplayedNonce) {
  const std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  ASSERT_TRUE(verify("REG", "web", tok).ok());
  clock_.advance(std::chrono::seconds(10));
  Status st = verify("REG", "web", tok);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "replayed nonce");
  EXPECT_EQ(verifier_.nonce_count(), 1u);
}

TEST_F(AuthVerifierTest, RefusesNonceReusedWithAnotherVerbOfTheSameService) {
  ASSERT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001")).ok());
  EXPECT_EQ(verify("HB", "web", token("HB", "web", "10.0.0.1:80", kNowS, "nonce0001")).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(AuthVerifierTest, AllowsSameNonceForDifferentService) {
  ASSERT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001")).ok());
  EXPECT_TRUE(verify("REG", "api", token("REG", "api", "10.0.0.1:80", kNowS, "nonce0001")).ok());
  EXPECT_EQ(verifier_.nonce_count(), 2u);
}

TEST_F(AuthVerifierTest, RefusesBadMac) {
  std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  tok.back() = tok.back() == '0' ? '1' : '0';
  Status st = verify("REG", "web", tok);
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(st.message(), "bad signature");
}

TEST_F(AuthVerifierTest, AcceptsUpperCaseHexMac) {
  std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  for (size_t i = tok.rfind('.') + 1; i < tok.size(); ++i)
    if (tok[i] >= 'a' && tok[i] <= 'f') tok[i] = static_cast<char>(tok[i] - 'a' + 'A');
  EXPECT_TRUE(verify("REG", "web", tok).ok());
}

TEST_F(AuthVerifierTest, RefusesRegTokenUsedAsRemOrHb) {
  const std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  EXPECT_EQ(verify("REM", "web", tok).message(), "bad signature");
  EXPECT_EQ(verify("HB", "web", tok).message(), "bad signature");
  EXPECT_TRUE(verify("REG", "web", tok).ok());  // the failures recorded nothing
}

TEST_F(AuthVerifierTest, RefusesTokenForAnotherServerOrService) {
  const std::string tok = token("REG", "web", "10.0.0.2:80", kNowS, "nonce0001");
  EXPECT_EQ(verify("REG", "web", tok).message(), "bad signature");
  EXPECT_EQ(verify("REG", "api", token("REG", "web", "10.0.0.1:80", kNowS, "nonce0002")).message(), "bad signature");
}

TEST_F(AuthVerifierTest, RefusesWrongSecret) {
  const std::string tok = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001", "other");
  EXPECT_EQ(verify("REG", "web", tok).code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthVerifierTest, MalformedTokenIsUnauthenticatedWithReason) {
  Status st = verify("REG", "web", "garbage");
  EXPECT_EQ(st.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(st.message().rfind("malformed token: ", 0), 0u) << st.message();
}

TEST_F(AuthVerifierTest, FailedVerificationsRecordNothing) {
  const std::string good = token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001");
  EXPECT_FALSE(verify("REG", "web", good, "wrong").ok());
  EXPECT_FALSE(verify("REM", "web", good).ok());
  EXPECT_FALSE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS - 60, "nonce0001")).ok());
  EXPECT_EQ(verifier_.nonce_count(), 0u);
  EXPECT_TRUE(verify("REG", "web", good).ok());
}

TEST_F(AuthVerifierTest, ForgetsNoncesAfterTwiceTheWindow) {
  ASSERT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS, "nonce0001")).ok());
  clock_.advance(std::chrono::seconds(61));
  ASSERT_TRUE(verify("REG", "web", token("REG", "web", "10.0.0.1:80", kNowS + 61, "nonce0002")).ok());
  EXPECT_EQ(verifier_.nonce_count(), 1u);
}

TEST(AuthVerifierBoundTest, EvictsOldestNonceAtMaxNonces) {
  ManualClock clock;
  Verifier verifier(clock, VerifierOptions{.window_s = 30, .max_nonces = 3});
  auto tok = [](std::string_view nonce) {
    return std::to_string(kNowS) + "." + std::string(nonce) + "." +
           registration_mac("k", "REG", "web", "a:1", kNowS, nonce);
  };
  for (const char* n : {"nonce0001", "nonce0002", "nonce0003", "nonce0004"})
    ASSERT_TRUE(verifier.verify("k", "REG", "web", "a:1", tok(n)).ok()) << n;
  EXPECT_EQ(verifier.nonce_count(), 3u);
  // nonce0001 was evicted (the documented cost of the bound); the newer ones are still refused.
  EXPECT_TRUE(verifier.verify("k", "REG", "web", "a:1", tok("nonce0001")).ok());
  EXPECT_FALSE(verifier.verify("k", "REG", "web", "a:1", tok("nonce0004")).ok());
  EXPECT_EQ(verifier.nonce_count(), 3u);
}

TEST(AuthAdminTokenTest, ComparesExactly) {
  EXPECT_TRUE(admin_token_equal("secret", "secret"));
  EXPECT_TRUE(admin_token_equal("", ""));
  EXPECT_FALSE(admin_token_equal("secret", "secreT"));
  EXPECT_FALSE(admin_token_equal("secret", "secret2"));
  EXPECT_FALSE(admin_token_equal("secret", "secre"));
  EXPECT_FALSE(admin_token_equal("secret", ""));
  EXPECT_FALSE(admin_token_equal("", "x"));
}

}  // namespace
}  // namespace chiron::ns
