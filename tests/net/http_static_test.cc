// StaticFiles served through HttpServer: bytes on the wire for 200/304/206/416/HEAD.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "http_testutil.h"
#include "net/http_gzip.h"

namespace chiron::net {
namespace {

namespace fs = std::filesystem;
using testing::RawClient;
using testing::ServerHarness;
using testing::get_request;

class HttpStaticTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "chiron_http_static_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "index.html") << "<h1>chiron</h1>";
    std::ofstream(dir_ / "digits.txt") << "0123456789";
    // Larger than one 64 KiB chunk, so streaming spans several writes.
    big_.resize(300'000);
    for (size_t i = 0; i < big_.size(); ++i) big_[i] = static_cast<char>('a' + (i * 7) % 26);
    std::ofstream(dir_ / "big.bin", std::ios::binary) << big_;
    std::string js;
    for (int i = 0; i < 300; ++i) js += "export const x" + std::to_string(i) + " = 1;\n";
    std::ofstream(dir_ / "app.js") << js;
    js_ = js;
    Router router;
    router.get("/api/v1/health", [](const Request&) { return Response::json(200, "{}"); });
    router.static_dir("/", dir_.string());
    harness_ = std::make_unique<ServerHarness>(std::move(router));
  }
  void TearDown() override {
    harness_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::string big_;
  std::string js_;
  std::unique_ptr<ServerHarness> harness_;
};

TEST_F(HttpStaticTest, ServesIndexAndFiles) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send(get_request("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<h1>chiron</h1>");
  EXPECT_EQ(r->header("content-type"), "text/html; charset=utf-8");
  ASSERT_TRUE(c.send(get_request("/big.bin")));
  auto big = c.read_response();
  ASSERT_TRUE(big);
  EXPECT_EQ(big->body, big_);
}

TEST_F(HttpStaticTest, EtagRevalidationGives304WithoutBody) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send(get_request("/digits.txt")));
  auto first = c.read_response();
  ASSERT_TRUE(first);
  std::string etag = first->header("etag");
  ASSERT_FALSE(etag.empty());
  ASSERT_TRUE(c.send(get_request("/digits.txt", "If-None-Match: " + etag + "\r\n") + get_request("/api/v1/health")));
  auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 304);
  EXPECT_EQ(second->body, "");
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "{}");
}

TEST_F(HttpStaticTest, RangeGives206Slice) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send(get_request("/big.bin", "Range: bytes=100000-250001\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->header("content-range"), "bytes 100000-250001/300000");
  EXPECT_EQ(r->body, big_.substr(100000, 150002));
}

TEST_F(HttpStaticTest, UnsatisfiableRangeGives416) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send(get_request("/digits.txt", "Range: bytes=50-60\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->header("content-range"), "bytes */10");
}

TEST_F(HttpStaticTest, HeadSendsLengthOnly) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send("HEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\n" + get_request("/digits.txt")));
  auto head = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "300000");
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "0123456789");
}

TEST_F(HttpStaticTest, TraversalIsRefused) {
  RawClient c(harness_->port());
  for (std::string target : {"/../etc/passwd", "/%2e%2e/etc/passwd", "/a/..%2f..%2fetc/passwd", "/%2e%2e%2fetc"}) {
    ASSERT_TRUE(c.send(get_request(target)));
    auto r = c.read_response();
    ASSERT_TRUE(r) << target;
    EXPECT_TRUE(r->status == 400 || r->status == 404) << target << " → " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos);
  }
}

TEST_F(HttpStaticTest, GzipForAcceptingClient) {
  RawClient c(harness_->port());
  ASSERT_TRUE(c.send(get_request("/app.js", "Accept-Encoding: gzip, deflate\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-encoding"), "gzip");
  EXPECT_EQ(r->header("content-type"), "text/javascript; charset=utf-8");
  auto plain = gzip_decompress(r->body);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, js_);
}

}  // namespace
}  // namespace chiron::net
