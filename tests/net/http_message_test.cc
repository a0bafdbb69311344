// Request/Response values, response-head serialisation, gzip, MIME and dates.

#include "net/http_message.h"

#include <gtest/gtest.h>

#include "net/http_date.h"
#include "net/http_gzip.h"
#include "net/http_response_writer.h"
#include "net/mime.h"

namespace chiron::net {
namespace {

TEST(HttpMessageTest, HeadersLookupIsCaseInsensitive) {
  Headers h;
  h.add("Content-Type", "text/plain");
  EXPECT_EQ(h.get("content-type").value_or(""), "text/plain");
  EXPECT_FALSE(h.has("x"));
}

TEST(HttpMessageTest, HeadersSetReplacesAllValues) {
  Headers h;
  h.add("X", "1");
  h.add("x", "2");
  h.set("X", "3");
  ASSERT_EQ(h.items().size(), 1u);
  EXPECT_EQ(h.get("X").value_or(""), "3");
  h.remove("X");
  EXPECT_TRUE(h.empty());
}

TEST(HttpMessageTest, QueryParamDecodesPlusAndPercent) {
  Request r;
  r.query = "a=1&name=J%C3%B6rg+M&empty=&flag&a=2";
  EXPECT_EQ(r.query_param("a").value_or(""), "1");
  EXPECT_EQ(r.query_param("name").value_or(""), "J\xC3\xB6rg M");
  EXPECT_EQ(r.query_param("empty").value_or("x"), "");
  EXPECT_EQ(r.query_param("flag").value_or("x"), "");
  EXPECT_FALSE(r.query_param("missing"));
}

TEST(HttpMessageTest, QueryParamWithBadEscapeIsAbsent) {
  Request r;
  r.query = "a=%zz";
  EXPECT_FALSE(r.query_param("a"));
}

TEST(HttpMessageTest, CookieFindsNamedValue) {
  Request r;
  r.headers.add("Cookie", "a=1; session=\"abc\"; b=2");
  r.headers.add("Cookie", "c=3");
  EXPECT_EQ(r.cookie("session").value_or(""), "abc");
  EXPECT_EQ(r.cookie("c").value_or(""), "3");
  EXPECT_FALSE(r.cookie("sess"));
}

TEST(HttpMessageTest, ParamReturnsEmptyWhenMissing) {
  Request r;
  r.params["name"] = "alice";
  EXPECT_EQ(r.param("name"), "alice");
  EXPECT_EQ(r.param("other"), "");
}

TEST(HttpMessageTest, PercentDecodeRejectsMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%2Fb").value_or(""), "a/b");
  EXPECT_EQ(percent_decode("a+b").value_or(""), "a+b");
  EXPECT_EQ(percent_decode("a+b", true).value_or(""), "a b");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%g0"));
}

TEST(HttpMessageTest, ErrorIsJsonEnvelope) {
  Response r = Response::error(404, "not_found", "no \"x\"");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no \"x\""}})");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
}

TEST(HttpMessageTest, FromStatusMapsCode) {
  Response r = Response::from_status(Status::already_exists("channel alice"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"error":{"code":"already_exists","message":"channel alice"}})");
}

TEST(HttpMessageTest, HttpStatusForMapsEveryCode) {
  EXPECT_EQ(http_status_for(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(http_status_for(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(http_status_for(StatusCode::kNotFound), 404);
  EXPECT_EQ(http_status_for(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(http_status_for(StatusCode::kFailedPrecondition), 412);
  EXPECT_EQ(http_status_for(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(http_status_for(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(http_status_for(StatusCode::kUnavailable), 503);
  EXPECT_EQ(http_status_for(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(http_status_for(StatusCode::kInternal), 500);
  EXPECT_EQ(http_status_for(StatusCode::kIoError), 500);
  EXPECT_EQ(http_status_for(12345), 500);
}

TEST(HttpResponseWriterTest, WritesStatusHeadersAndFraming) {
  Response r = Response::text(200, "hi");
  r.headers.add("Content-Length", "999");  // replaced by the server's framing
  std::string out;
  ResponseHead head;
  head.content_length = 2;
  head.close = true;
  head.server_name = "chiron";
  ASSERT_TRUE(append_response_head(out, r, head));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(out.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(out.find("999"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(out.find("Server: chiron\r\n"), std::string::npos);
  EXPECT_NE(out.find("Date: "), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(HttpResponseWriterTest, RefusesHeaderInjection) {
  Response r;
  r.headers.add("X-Name", "a\r\nSet-Cookie: evil=1");
  std::string out = "keep";
  EXPECT_FALSE(append_response_head(out, r, {}));
  EXPECT_EQ(out, "keep");
  Response bad_name;
  bad_name.headers.add("X Name", "v");
  EXPECT_FALSE(append_response_head(out, bad_name, {}));
}

TEST(HttpResponseWriterTest, RefusesInterimAndOutOfRangeStatus) {
  std::string out;
  Response interim;
  interim.status = 101;
  EXPECT_FALSE(append_response_head(out, interim, {}));
  Response huge;
  huge.status = 1000;
  EXPECT_FALSE(append_response_head(out, huge, {}));
  EXPECT_TRUE(out.empty());
}

TEST(HttpResponseWriterTest, OmitsContentLengthFor204And304) {
  Response r;
  r.status = 304;
  std::string out;
  ResponseHead head;
  head.content_length = 10;
  ASSERT_TRUE(append_response_head(out, r, head));
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

TEST(HttpGzipTest, RoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "hello gzip ";
  auto gz = gzip_compress(text);
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), text.size());
  auto back = gzip_decompress(*gz);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  EXPECT_FALSE(gzip_decompress("not gzip").ok());
}

TEST(HttpGzipTest, AcceptEncodingNegotiation) {
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
}

TEST(MimeTest, KnowsTheTypesWeServe) {
  EXPECT_EQ(mime_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("a/app.MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for("x.wasm"), "application/wasm");
  EXPECT_EQ(mime_type_for("live.m3u8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(mime_type_for("seg1.ts"), "video/mp2t");
  EXPECT_EQ(mime_type_for("font.woff2"), "font/woff2");
  EXPECT_EQ(mime_type_for("app.js.map"), "application/json");
  EXPECT_EQ(mime_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(mime_type_for("dir.d/noext"), "application/octet-stream");
}

TEST(MimeTest, CompressibleTypes) {
  EXPECT_TRUE(is_compressible_type("text/html; charset=utf-8"));
  EXPECT_TRUE(is_compressible_type("application/json"));
  EXPECT_TRUE(is_compressible_type("image/svg+xml"));
  EXPECT_FALSE(is_compressible_type("image/png"));
  EXPECT_FALSE(is_compressible_type("video/mp4"));
  EXPECT_FALSE(is_compressible_type("font/woff2"));
}

TEST(HttpDateTest, FormatsAndParsesAllThreeForms) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value_or(0), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").value_or(0), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994").value_or(0), 784111777);
  EXPECT_FALSE(parse_http_date("yesterday"));
}

}  // namespace
}  // namespace chiron::net
