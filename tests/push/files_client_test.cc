#include "push/files_client.h"

#include <gtest/gtest.h>

#include "fake_server.h"

namespace chiron::push {
namespace {

TEST(ServerUrlTest, ParsesHostPortAndPrefix) {
  auto u = parse_server_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->base_path, "");
  u = parse_server_url("http://example.com/chiron/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->base_path, "/chiron");
  u = parse_server_url("http://[::1]:9/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9");
}

TEST(ServerUrlTest, HttpsDefaultsToPort443) {
  auto u = parse_server_url("https://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, "443");
  EXPECT_FALSE(parse_server_url("http://example.com")->tls);
}

TEST(ServerUrlTest, RefusesJunk) {
  EXPECT_FALSE(parse_server_url("ftp://x").ok());
  EXPECT_FALSE(parse_server_url("http://").ok());
  EXPECT_FALSE(parse_server_url("http://host:port").ok());
  EXPECT_FALSE(parse_server_url("http://[::1").ok());
}

TEST(UrlEncodeTest, KeepsSlashesAndUnreservedEncodesTheRest) {
  EXPECT_EQ(url_encode_path("src/a-b_c.~d.cc"), "src/a-b_c.~d.cc");
  EXPECT_EQ(url_encode_path("a b/ü?#%"), "a%20b/%C3%BC%3F%23%25");
}

TEST(ApiReplyTest, ParsesContractErrors) {
  auto r = to_reply({413, R"({"error":{"code":"quota_exceeded","message":"used 101 MB of 100 MB"}})"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.code, "quota_exceeded");
  EXPECT_EQ(r.describe(), "413 quota_exceeded: used 101 MB of 100 MB");
  auto junk = to_reply({502, "<html>bad gateway</html>"});
  EXPECT_EQ(junk.code, "");
  EXPECT_EQ(junk.message, "<html>bad gateway</html>");
}

TEST(FilesClientTest, GivesUpAfterMaxAttemptsWhenConfigured) {
  testing::FakeServer server;
  server.network_failures = 100;
  int retries = 0;
  ClientHooks hooks;
  hooks.sleep = [](int64_t) { return true; };
  hooks.on_retry = [&](int64_t, const std::string&) { ++retries; };
  FilesClient c(std::make_unique<testing::FakeTransport>(server), "c", RetryPolicy{1, 1, 3}, hooks);
  auto r = c.list();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(retries, 2);
}

TEST(FilesClientTest, DoesNotRetryAFailedTlsVerification) {
  struct Refusing final : Transport {
    int calls = 0;
    Result<HttpResponse> send(const HttpRequest&) override {
      ++calls;
      return Status::permission_denied("certificate verification failed");
    }
  };
  auto t = std::make_unique<Refusing>();
  Refusing* raw = t.get();
  ClientHooks hooks;
  hooks.sleep = [](int64_t) { return true; };
  FilesClient c(std::move(t), "c", RetryPolicy{1, 1, 0}, hooks);
  EXPECT_FALSE(c.list().ok());
  EXPECT_EQ(raw->calls, 1);
}

TEST(FilesClientTest, RetriesThrottlingThenSucceeds) {
  testing::FakeServer server;
  server.unavailable = 4;
  bool recovered = false;
  ClientHooks hooks;
  hooks.sleep = [](int64_t) { return true; };
  hooks.on_recovered = [&] { recovered = true; };
  FilesClient c(std::make_unique<testing::FakeTransport>(server), "c", RetryPolicy{1, 1, 0}, hooks);
  auto r = c.list();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(recovered);
}

}  // namespace
}  // namespace chiron::push
