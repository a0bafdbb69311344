// AUTH, admin-only verbs and signed registrations through the verb executor.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ns/auth.h"
#include "ns/protocol.h"

namespace chiron::ns {
namespace {

using Args = std::vector<std::string>;

class ProtocolAuthTest : public ::testing::Test {
 protected:
  ProtocolAuthTest() {
    security_.admin_token = "adm1n";
    security_.verifier = &verifier_;
  }
  Reply run(Args args) { return execute(registry_, args, session_, security_); }
  int64_t now_s() const { return clock_.unix_ms() / 1000; }
  std::string sign(std::string_view verb, std::string_view service, std::string_view id, std::string_view secret = "s3") {
    return sign_registration(secret, verb, service, id, now_s());
  }

  ManualClock clock_;
  Registry registry_{clock_};
  Verifier verifier_{clock_};
  Security security_;
  Session session_;
};

TEST_F(ProtocolAuthTest, AdminVerbsNeedAuth) {
  ASSERT_EQ(run({"REG", "web", "10.0.0.1:80"}).text, "OK");
  for (Args a : {Args{"ALG", "web", "swrr"}, Args{"STATE", "web", "10.0.0.1:80", "drain"},
                 Args{"REM", "web", "10.0.0.1:80"}}) {
    Reply r = run(a);
    EXPECT_TRUE(r.is_error()) << a[0];
    EXPECT_STREQ(r.error_code, "NOAUTH") << a[0];
  }
  EXPECT_EQ(registry_.algorithm("web").value(), "rr");
  EXPECT_EQ(registry_.list("web").value().size(), 1u);
}

TEST_F(ProtocolAuthTest, WrongTokenIsWrongpassAndRightTokenOpensTheSession) {
  Reply bad = run({"AUTH", "nope"});
  EXPECT_STREQ(bad.error_code, "WRONGPASS");
  EXPECT_FALSE(session_.admin);
  EXPECT_EQ(run({"AUTH", "adm1n"}).text, "OK");
  EXPECT_TRUE(session_.admin);
  ASSERT_EQ(run({"REG", "web", "10.0.0.1:80"}).text, "OK");
  EXPECT_EQ(run({"ALG", "web", "swrr"}).text, "OK");
  EXPECT_EQ(run({"REM", "web", "10.0.0.1:80"}).integer, 1);
  // redis 6 clients send AUTH user password.
  Session other;
  EXPECT_EQ(execute(registry_, {"AUTH", "default", "adm1n"}, other, security_).text, "OK");
  EXPECT_TRUE(other.admin);
  // A later bad AUTH drops admin rights, as in Redis.
  EXPECT_TRUE(run({"AUTH", "wrong"}).is_error());
  EXPECT_FALSE(session_.admin);
}

TEST_F(ProtocolAuthTest, WithoutAdminTokenAdminVerbsAreOpenAndAuthIsAnError) {
  Security open;
  open.verifier = &verifier_;
  Session s;
  ASSERT_EQ(execute(registry_, {"REG", "web", "10.0.0.1:80"}, s, open).text, "OK");
  EXPECT_EQ(execute(registry_, {"ALG", "web", "edf"}, s, open).text, "OK");
  Reply r = execute(registry_, {"AUTH", "x"}, s, open);
  EXPECT_TRUE(r.is_error());
  EXPECT_NE(r.text.find("without any admin token"), std::string::npos);
}

TEST_F(ProtocolAuthTest, SecretServiceNeedsSignedRegistration) {
  ASSERT_TRUE(registry_.set_service("sec", std::nullopt, std::string_view("s3")).ok());
  Reply unsigned_reg = run({"REG", "sec", "10.0.0.1:80"});
  EXPECT_STREQ(unsigned_reg.error_code, "NOAUTH");
  EXPECT_TRUE(registry_.list("sec").value().empty());

  const std::string token = sign("REG", "sec", "10.0.0.1:80");
  EXPECT_EQ(run({"REG", "sec", "10.0.0.1:80", "3", token}).text, "OK");
  EXPECT_EQ(registry_.list("sec").value()[0].weight, 3u);
  // Replay of the same token is refused, even for an otherwise valid command.
  Reply replay = run({"REG", "sec", "10.0.0.1:80", "3", token});
  EXPECT_TRUE(replay.is_error());
  // Weight is optional: the token may follow the id directly.
  EXPECT_EQ(run({"REG", "sec", "10.0.0.2:80", sign("REG", "sec", "10.0.0.2:80")}).text, "OK");
}

TEST_F(ProtocolAuthTest, ForgedOrMisusedTokensAreRefused) {
  ASSERT_TRUE(registry_.set_service("sec", std::nullopt, std::string_view("s3")).ok());
  const Args forged[] = {
      {"REG", "sec", "10.0.0.1:80", sign("REG", "sec", "10.0.0.1:80", "wrong-secret")},
      {"REG", "sec", "10.0.0.1:80", sign("HB", "sec", "10.0.0.1:80")},   // token for another verb
      {"REG", "sec", "10.0.0.1:80", sign("REG", "sec", "10.0.0.9:80")},  // for another server
      {"REG", "sec", "10.0.0.1:80", sign("REG", "other", "10.0.0.1:80")},
      {"REG", "sec", "10.0.0.1:80", sign_registration("s3", "REG", "sec", "10.0.0.1:80", now_s() - 3600)},
      {"REG", "sec", "10.0.0.1:80", "1.2.3"},
  };
  for (const Args& a : forged) {
    Reply r = run(a);
    EXPECT_TRUE(r.is_error()) << a.back();
  }
  EXPECT_TRUE(registry_.list("sec").value().empty());
}

TEST_F(ProtocolAuthTest, HeartbeatAndRemoveOfASecretServiceTakeTheirOwnTokens) {
  ASSERT_TRUE(registry_.set_service("sec", std::nullopt, std::string_view("s3")).ok());
  ASSERT_EQ(run({"REG", "sec", "10.0.0.1:80", sign("REG", "sec", "10.0.0.1:80")}).text, "OK");
  EXPECT_TRUE(run({"HB", "sec", "10.0.0.1:80"}).is_error());
  EXPECT_EQ(run({"HB", "sec", "10.0.0.1:80", "load=3", sign("HB", "sec", "10.0.0.1:80")}).text, "OK");
  EXPECT_EQ(registry_.list("sec").value()[0].health, Health::kUp);
  EXPECT_EQ(registry_.list("sec").value()[0].reported_load, 3u);
  // A server may deregister itself with a REM token instead of the admin token.
  EXPECT_TRUE(run({"REM", "sec", "10.0.0.1:80", sign("HB", "sec", "10.0.0.1:80")}).is_error());
  EXPECT_EQ(run({"REM", "sec", "10.0.0.1:80", sign("REM", "sec", "10.0.0.1:80")}).integer, 1);
}

TEST_F(ProtocolAuthTest, AdminSessionMayRegisterWithoutSigning) {
  ASSERT_TRUE(registry_.set_service("sec", std::nullopt, std::string_view("s3")).ok());
  ASSERT_EQ(run({"AUTH", "adm1n"}).text, "OK");
  EXPECT_EQ(run({"REG", "sec", "10.0.0.1:80"}).text, "OK");
}

TEST_F(ProtocolAuthTest, OpenServicesIgnoreNoTokenButCheckAGivenRemToken) {
  EXPECT_EQ(run({"REG", "web", "10.0.0.1:80"}).text, "OK");
  // Open service, no admin session: REM needs AUTH (the admin token is configured).
  EXPECT_STREQ(run({"REM", "web", "10.0.0.1:80", sign("REM", "web", "10.0.0.1:80")}).error_code, "NOAUTH");
}

}  // namespace
}  // namespace chiron::ns
