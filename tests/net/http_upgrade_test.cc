// The WebSocket opening handshake (RFC 6455 §4.2) as answered by HttpServer.

#include <gtest/gtest.h>

#include "http_testutil.h"
#include "net/websocket.h"

namespace chiron::net {
namespace {

using testing::RawClient;
using testing::ServerHarness;

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3

Router ws_router() {
  Router router;
  WsHandlers handlers;
  handlers.on_message = [](const WebSocketPtr& ws, WsMessage&& m) { ws->send_text(m.payload); };
  router.websocket("/ws", std::move(handlers));
  return router;
}

std::string upgrade(std::string_view extra, std::string_view version = "13", std::string_view key = kKey) {
  return "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
         "Sec-WebSocket-Version: " + std::string(version) + "\r\nSec-WebSocket-Key: " + std::string(key) +
         "\r\n" + std::string(extra) + "\r\n";
}

TEST(HttpUpgradeTest, ValidHandshakeGets101WithAcceptKey) {
  ServerHarness h(ws_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(upgrade("")));
  auto r = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 101);
  EXPECT_EQ(r->header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(r->header("upgrade"), "websocket");
}

TEST(HttpUpgradeTest, FramesBehindTheRequestReachTheSession) {
  ServerHarness h(ws_router());
  RawClient c(h.port());
  // A masked text frame "hi" (RFC 6455 §5.7) sent in the same packet as the upgrade.
  std::string frame = {'\x81', '\x82', '\x01', '\x02', '\x03', '\x04', static_cast<char>('h' ^ 1),
                       static_cast<char>('i' ^ 2)};
  ASSERT_TRUE(c.send(upgrade("") + frame));
  auto r = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 101);
  // The echo comes back unmasked: 0x81 0x02 'h' 'i'.
  for (int i = 0; i < 50 && c.buffered().size() < 4; ++i) c.wait_closed(100);
  EXPECT_EQ(c.buffered().substr(0, 4), std::string("\x81\x02hi", 4));
}

TEST(HttpUpgradeTest, WrongVersionIs426WithSupportedVersion) {
  ServerHarness h(ws_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(upgrade("", "8")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 426);
  EXPECT_EQ(r->header("sec-websocket-version"), "13");
}

TEST(HttpUpgradeTest, PlainGetOnWebSocketRouteIs426) {
  ServerHarness h(ws_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(testing::get_request("/ws")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 426);
}

TEST(HttpUpgradeTest, BadKeyIs400) {
  ServerHarness h(ws_router());
  RawClient c(h.port());
  for (std::string_view key : {"short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "!!!!!!!!!!!!!!!!!!!!!!=="}) {
    ASSERT_TRUE(c.send(upgrade("", "13", key)));
    auto r = c.read_response();
    ASSERT_TRUE(r) << key;
    EXPECT_EQ(r->status, 400) << key;
  }
}

}  // namespace
}  // namespace chiron::net
