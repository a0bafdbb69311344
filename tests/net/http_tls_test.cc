// HTTPS: HttpServer with a self-signed certificate made by the openssl CLI.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>
#include <filesystem>

#include "http_testutil.h"

namespace chiron::net {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "chiron_tls_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                      (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI failed";
    options_.tls_cert_file = (dir_ / "cert.pem").string();
    options_.tls_key_file = (dir_ / "key.pem").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One HTTPS request with a blocking Asio client; returns the raw response.
  std::string https_request(uint16_t port, const std::string& request) {
    asio::io_context ctx;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.load_verify_file(options_.tls_cert_file);
    asio::ssl::stream<asio::ip::tcp::socket> stream(ctx, tls);
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{5, 0};
    ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    stream.handshake(asio::ssl::stream_base::client);
    asio::write(stream, asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (true) {
      size_t n = stream.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }

  fs::path dir_;
  HttpServerOptions options_;
};

TEST_F(HttpTlsTest, ServesHttpsWithKeepAlive) {
  Router router;
  router.get("/api/v1/health", [](const Request&) { return Response::json(200, R"({"tls":true})"); });
  testing::ServerHarness h(std::move(router), options_);
  ASSERT_TRUE(h.start_status().ok()) << h.start_status().to_string();
  EXPECT_TRUE(h.server().tls());
  std::string req = "GET /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string out = https_request(h.port(), req + "GET /api/v1/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  size_t second = out.find("HTTP/1.1 200 OK", 10);
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_NE(out.find(R"({"tls":true})", second), std::string::npos);
}

TEST_F(HttpTlsTest, PlainHttpOnTlsPortGetsNoHttpResponse) {
  testing::ServerHarness h(Router(), options_);
  testing::RawClient c(h.port());
  ASSERT_TRUE(c.send(testing::get_request("/")));
  EXPECT_TRUE(c.wait_closed(5000));
  EXPECT_FALSE(c.buffered().starts_with("HTTP/1.1"));
}

TEST_F(HttpTlsTest, WebSocketUpgradeOverTlsIsRefused) {
  Router router;
  router.websocket("/ws", WsHandlers{});
  testing::ServerHarness h(std::move(router), options_);
  std::string out = https_request(h.port(),
                                  "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Connection: close\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 501")) << out;
}

TEST_F(HttpTlsTest, MissingKeyFileFailsStart) {
  boost::asio::io_context ctx;
  HttpServerOptions o = options_;
  o.port = 0;
  o.tls_key_file = (dir_ / "missing.pem").string();
  HttpServer server({&ctx}, o, Router());
  Status s = server.start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos);
}

}  // namespace
}  // namespace chiron::net
