#include "common/encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

namespace chiron {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 §10 vectors, in the URL-safe alphabet and without padding.
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(Base64Url, DecodeIsStrict) {
  EXPECT_FALSE(base64url_decode("Zm9v="));   // padding
  EXPECT_FALSE(base64url_decode("Zm 9v"));   // whitespace
  EXPECT_FALSE(base64url_decode("Zm9v+"));   // standard alphabet
  EXPECT_FALSE(base64url_decode("Z"));       // impossible length
  EXPECT_FALSE(base64url_decode("Zh"));      // non-zero unused bits ("Zg" is the encoding of "f")
}

TEST(HmacSha256, Rfc4231TestCase2) {
  const auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  static constexpr unsigned char kExpected[] = {
      0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
      0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_TRUE(std::equal(mac.begin(), mac.end(), std::begin(kExpected)));
}

}  // namespace
}  // namespace chiron
