#include "review/password.h"

#include <gtest/gtest.h>

namespace chiron::review {
namespace {

TEST(PasswordTest, DefaultHashIsArgon2idWithTheContractParameters) {
  auto h = hash_password("correct horse battery");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << *h;
  EXPECT_TRUE(verify_password(*h, "correct horse battery"));
  EXPECT_FALSE(verify_password(*h, "correct horse batterz"));
  EXPECT_FALSE(verify_password(*h, ""));
}

TEST(PasswordTest, SaltsMakeEveryHashDifferent) {
  PasswordParams cheap{1, 1024, 1};
  auto a = hash_password("same password", cheap);
  auto b = hash_password("same password", cheap);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password(*a, "same password"));
  EXPECT_TRUE(verify_password(*b, "same password"));
}

TEST(PasswordTest, RefusesPasswordsOutsideTheLengthLimits) {
  PasswordParams cheap{1, 1024, 1};
  EXPECT_EQ(hash_password("short", cheap).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hash_password(std::string(1025, 'x'), cheap).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(hash_password(std::string(8, 'x'), cheap).ok());
  EXPECT_TRUE(hash_password(std::string(1024, 'x'), cheap).ok());
}

TEST(PasswordTest, MalformedOrForeignEncodingsNeverVerify) {
  EXPECT_FALSE(verify_password("", "password1"));
  EXPECT_FALSE(verify_password("$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "password1"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "password1"));
  EXPECT_FALSE(verify_password("plaintext-password", "plaintext-password"));
}

}  // namespace
}  // namespace chiron::review
