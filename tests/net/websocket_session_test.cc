// WebSocket sessions over real loopback sockets. The test server performs the
// HTTP upgrade by hand (as the HTTP server does) and hands the socket to
// start_websocket_session; Beast's websocket client is the peer, and a raw
// TCP client is used where we need to send hostile bytes or never read.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "common/strings.h"
#include "net/websocket.h"
#include "net/websocket_frame.h"
#include "net/websocket_session.h"
#include "net/websocket_testing.h"

namespace chiron::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Records server-side events; every callback runs on the server thread.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WebSocketPtr> opened;                            // Guarded by mu
  std::map<uint64_t, std::vector<std::pair<uint16_t, std::string>>> closes;  // Guarded by mu
  std::set<std::thread::id> callback_threads;                  // Guarded by mu

  template <class Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }
  size_t close_count() {
    size_t n = 0;
    for (auto& [id, v] : closes) n += v.size();
    return n;
  }
};

// Accepts TCP connections, answers the upgrade with 101 and starts a session.
class WsTestServer {
 public:
  // `events` is cleared on destruction: sessions must die before their io_context.
  WsTestServer(Events& events, WsHandlers handlers, WsOptions options, int sndbuf = 0)
      : events_(events), handlers_(std::move(handlers)), options_(options), sndbuf_(sndbuf) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~WsTestServer() {
    ioc_.stop();
    thread_.join();
    std::lock_guard<std::mutex> lock(events_.mu);
    events_.opened.clear();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  asio::io_context& context() { return ioc_; }

 private:
  struct Pending {
    tcp::socket socket;
    std::string buf;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      if (sndbuf_ > 0) s.set_option(asio::socket_base::send_buffer_size(sndbuf_));
      auto p = std::make_shared<Pending>(Pending{std::move(s), {}});
      asio::async_read_until(p->socket, asio::dynamic_buffer(p->buf), "\r\n\r\n",
                             [this, p](boost::system::error_code rec, size_t n) { upgrade(p, rec, n); });
      accept();
    });
  }

  void upgrade(std::shared_ptr<Pending> p, boost::system::error_code ec, size_t header_bytes) {
    if (ec) return;
    std::string head = p->buf.substr(0, header_bytes);
    std::string leftover = p->buf.substr(header_bytes);
    std::string key;
    for (auto line : split(head, '\n')) {
      line = trim(line);
      auto colon = line.find(':');
      if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "sec-websocket-key"))
        key = std::string(trim(line.substr(colon + 1)));
    }
    auto response = std::make_shared<std::string>(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " + websocket_accept_key(key) + "\r\n\r\n");
    asio::async_write(p->socket, asio::buffer(*response),
                      [this, p, response, leftover](boost::system::error_code wec, size_t) {
                        if (wec) return;
                        Request req;
                        req.method = "GET";
                        req.path = req.target = "/ws";
                        detail::start_websocket_session(std::move(p->socket), leftover, std::move(req), handlers_,
                                                        options_);
                      });
  }

  Events& events_;
  WsHandlers handlers_;
  WsOptions options_;
  int sndbuf_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
};

// Handlers that record into `ev` and echo messages (text "close:CODE" closes instead).
WsHandlers echo_handlers(Events& ev) {
  WsHandlers h;
  h.on_open = [&ev](const WebSocketPtr& ws, const Request&) {
    std::lock_guard<std::mutex> lock(ev.mu);
    ev.opened.push_back(ws);
    ev.callback_threads.insert(std::this_thread::get_id());
    ev.cv.notify_all();
  };
  h.on_message = [&ev](const WebSocketPtr& ws, WsMessage&& m) {
    {
      std::lock_guard<std::mutex> lock(ev.mu);
      ev.callback_threads.insert(std::this_thread::get_id());
    }
    if (m.opcode == WsOpcode::kText && m.payload.rfind("close:", 0) == 0) {
      ws->close(static_cast<uint16_t>(std::stoi(m.payload.substr(6))), "requested");
      return;
    }
    ws->send(m.opcode == WsOpcode::kText ? SharedFrame::text(m.payload) : SharedFrame::binary(m.payload));
  };
  h.on_close = [&ev](const WebSocketPtr& ws, uint16_t code, std::string_view reason) {
    std::lock_guard<std::mutex> lock(ev.mu);
    ev.closes[ws->id()].emplace_back(code, std::string(reason));
    ev.callback_threads.insert(std::this_thread::get_id());
    ev.cv.notify_all();
  };
  return h;
}

WsOptions quiet_options() {
  WsOptions o;
  o.ping_interval_ms = 0;
  o.idle_timeout_ms = 0;
  return o;
}

using BeastClient = beast::websocket::stream<tcp::socket>;

std::unique_ptr<BeastClient> connect_beast(asio::io_context& ioc, uint16_t port) {
  auto ws = std::make_unique<BeastClient>(ioc);
  ws->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws->handshake("127.0.0.1:" + std::to_string(port), "/ws");  // verifies Sec-WebSocket-Accept
  return ws;
}

std::string read_text(BeastClient& ws) {
  beast::flat_buffer buf;
  ws.read(buf);
  return beast::buffers_to_string(buf.data());
}

// A hand-rolled client: sends whatever bytes a test wants and parses server frames.
class RawClient {
 public:
  explicit RawClient(uint16_t port, std::string_view after_request = {}, int rcvbuf = 0) {
    sock_.open(tcp::v4());
    if (rcvbuf > 0) sock_.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string req =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    req += after_request;
    asio::write(sock_, asio::buffer(req));
    size_t n = asio::read_until(sock_, asio::dynamic_buffer(in_), "\r\n\r\n");
    response_ = in_.substr(0, n);
    in_.erase(0, n);
  }
  void write(std::string_view bytes) { asio::write(sock_, asio::buffer(bytes.data(), bytes.size())); }
  // Next server event, or nullopt at EOF.
  std::optional<detail::WsEvent> next() {
    for (;;) {
      std::optional<detail::WsEvent> ev;
      size_t used = parser_.parse(in_, ev);
      in_.erase(0, used);
      if (ev) return ev;
      char buf[4096];
      boost::system::error_code ec;
      size_t n = sock_.read_some(asio::buffer(buf), ec);
      if (ec) return std::nullopt;
      in_.append(buf, n);
    }
  }
  // True if the server closed the TCP connection (EOF after any remaining bytes).
  bool reads_eof() {
    char buf[4096];
    boost::system::error_code ec;
    while (!ec) sock_.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof;
  }
  const std::string& response() const { return response_; }

 private:
  asio::io_context ioc_;
  tcp::socket sock_{ioc_};
  std::string in_;
  std::string response_;
  detail::WsFrameParser parser_{detail::WsParserLimits{1 << 24}, /*require_mask=*/false};
};

std::string masked(WsOpcode op, std::string_view payload, bool fin = true) {
  return detail::encode_ws_frame(op, payload, fin, std::array<uint8_t, 4>{1, 2, 3, 4});
}

TEST(WebSocketAcceptKeyTest, MatchesRfcExample) {
  // RFC 6455 §1.3.
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(SharedFrameTest, CopiesShareOneBuffer) {
  SharedFrame a = SharedFrame::text("hello");
  SharedFrame b = a;
  EXPECT_EQ(a.bytes().data(), b.bytes().data());
  EXPECT_EQ(a.bytes(), std::string_view("\x81\x05hello"));
  EXPECT_TRUE(SharedFrame().empty());
}

TEST(WebSocketSessionTest, EchoesTextAndBinaryWithBeastClient) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  ws->text(true);
  ws->write(asio::buffer(std::string("hello")));
  EXPECT_EQ(read_text(*ws), "hello");
  ws->binary(true);
  std::string bin("\x00\xff\x10", 3);
  ws->write(asio::buffer(bin));
  EXPECT_EQ(read_text(*ws), bin);
  EXPECT_TRUE(ws->got_binary());
  std::string big(200000, 'q');
  ws->write(asio::buffer(big));
  EXPECT_EQ(read_text(*ws), big);
  ws->close(beast::websocket::close_code::normal);
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
}

TEST(WebSocketSessionTest, ReassemblesFragmentedMessage) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  ws->text(true);
  ws->write_some(false, asio::buffer(std::string("frag")));
  ws->write_some(false, asio::buffer(std::string("men")));
  ws->write_some(true, asio::buffer(std::string("ted \xe2\x82\xac")));
  EXPECT_EQ(read_text(*ws), "fragmented \xe2\x82\xac");
  ws->close(beast::websocket::close_code::normal);
}

TEST(WebSocketSessionTest, AnswersClientPingWithPong) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  std::vector<std::string> pongs;
  ws->control_callback([&](beast::websocket::frame_type kind, beast::string_view payload) {
    if (kind == beast::websocket::frame_type::pong) pongs.emplace_back(payload);
  });
  ws->ping("are you there");
  ws->write(asio::buffer(std::string("after")));
  EXPECT_EQ(read_text(*ws), "after");  // the pong arrives first and is seen by the callback
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0], "are you there");
  ws->close(beast::websocket::close_code::normal);
}

TEST(WebSocketSessionTest, ServerSendsPingsAtInterval) {
  Events ev;
  WsOptions o = quiet_options();
  o.ping_interval_ms = 20;
  WsHandlers h = echo_handlers(ev);
  // "later" is answered 300 ms later, so the client sits in read() while pings arrive.
  // The timer lives on the server's context: a session must never outlive its io_context.
  std::atomic<asio::io_context*> server_context{nullptr};
  h.on_message = [&server_context](const WebSocketPtr& ws, WsMessage&&) {
    auto timer = std::make_shared<asio::steady_timer>(*server_context.load(), 300ms);
    timer->async_wait([ws, timer](boost::system::error_code) { ws->send_text("done"); });
  };
  WsTestServer server(ev, std::move(h), o);
  server_context = &server.context();
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  int pings = 0;
  ws->control_callback([&](beast::websocket::frame_type kind, beast::string_view) {
    if (kind == beast::websocket::frame_type::ping) ++pings;
  });
  ws->write(asio::buffer(std::string("later")));
  EXPECT_EQ(read_text(*ws), "done");
  EXPECT_GE(pings, 2);
  ws->close(beast::websocket::close_code::normal);
}

TEST(WebSocketSessionTest, ClientInitiatedCloseHandshake) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  ws->close(beast::websocket::close_reason(static_cast<beast::websocket::close_code>(4001), "bye now"));  // waits for the server's echo
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
  std::lock_guard<std::mutex> lock(ev.mu);
  auto& c = ev.closes.begin()->second;
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].first, 4001);
  EXPECT_EQ(c[0].second, "bye now");
}

TEST(WebSocketSessionTest, ServerInitiatedCloseReachesClient) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  ws->write(asio::buffer(std::string("close:4002")));
  beast::flat_buffer buf;
  boost::system::error_code ec;
  ws->read(buf, ec);  // Beast answers the close frame and reports `closed`
  EXPECT_EQ(ec, beast::websocket::error::closed);
  EXPECT_EQ(ws->reason().code, 4002);
  EXPECT_EQ(std::string(ws->reason().reason.c_str()), "requested");
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
  std::lock_guard<std::mutex> lock(ev.mu);
  EXPECT_EQ(ev.closes.begin()->second.at(0).first, 4002);
}

TEST(WebSocketSessionTest, IdleConnectionIsClosed) {
  Events ev;
  WsOptions o = quiet_options();
  o.idle_timeout_ms = 100;
  WsTestServer server(ev, echo_handlers(ev), o);
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  beast::flat_buffer buf;
  boost::system::error_code ec;
  ws->read(buf, ec);
  EXPECT_EQ(ec, beast::websocket::error::closed);
  EXPECT_EQ(ws->reason().code, kWsGoingAway);
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
}

TEST(WebSocketSessionTest, OversizedMessageClosesWith1009) {
  Events ev;
  WsOptions o = quiet_options();
  o.max_message_bytes = 1000;
  WsTestServer server(ev, echo_handlers(ev), o);
  asio::io_context ioc;
  auto ws = connect_beast(ioc, server.port());
  ws->binary(true);
  ws->write(asio::buffer(std::string(2000, 'x')));
  beast::flat_buffer buf;
  boost::system::error_code ec;
  ws->read(buf, ec);
  EXPECT_EQ(ec, beast::websocket::error::closed);
  EXPECT_EQ(ws->reason().code, kWsMessageTooBig);
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
  std::lock_guard<std::mutex> lock(ev.mu);
  EXPECT_EQ(ev.closes.begin()->second.at(0).first, kWsMessageTooBig);
}

TEST(WebSocketSessionTest, UnmaskedFrameFailsConnectionWith1002) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  RawClient c(server.port());
  c.write(detail::encode_ws_frame(WsOpcode::kText, "no mask"));
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, detail::WsEvent::Kind::kClose);
  EXPECT_EQ(e->code, kWsProtocolError);
  EXPECT_TRUE(c.reads_eof());
}

TEST(WebSocketSessionTest, InvalidUtf8SplitAcrossFragmentsFailsWith1007) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  RawClient c(server.port());
  c.write(masked(WsOpcode::kText, "ok\xe2", false));
  c.write(masked(WsOpcode::kContinuation, "\x28\xa1"));
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, kWsInvalidPayload);
  EXPECT_TRUE(c.reads_eof());
}

TEST(WebSocketSessionTest, ProcessesFramesSentRightBehindTheUpgrade) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  RawClient c(server.port(), masked(WsOpcode::kText, "early"));
  EXPECT_NE(c.response().find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
  auto e = c.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, detail::WsEvent::Kind::kMessage);
  EXPECT_EQ(e->payload, "early");
}

TEST(WebSocketSessionTest, BroadcastsOneSharedBufferToFiftyClients) {
  constexpr int kClients = 50;
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  std::mutex mu;
  std::map<uint64_t, std::vector<const char*>> written;  // Guarded by mu
  detail::set_ws_write_observer([&](uint64_t id, const std::vector<std::string_view>& bufs) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto b : bufs) written[id].push_back(b.data());
  });
  asio::io_context ioc;
  std::vector<std::unique_ptr<BeastClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(connect_beast(ioc, server.port()));
  ASSERT_TRUE(ev.wait_for([&] { return ev.opened.size() == kClients; }));

  SharedFrame frame = SharedFrame::text("to everyone");
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    for (auto& ws : ev.opened) EXPECT_TRUE(ws->send(frame));  // from the test thread
  }
  for (auto& c : clients) EXPECT_EQ(read_text(*c), "to everyone");
  detail::set_ws_write_observer({});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(written.size(), static_cast<size_t>(kClients));
  for (auto& [id, ptrs] : written) {
    ASSERT_EQ(ptrs.size(), 1u);
    EXPECT_EQ(ptrs[0], frame.bytes().data()) << "session " << id << " wrote a copy";
  }
  for (auto& c : clients) c->close(beast::websocket::close_code::normal);
}

TEST(WebSocketSessionTest, CoalescesFramesQueuedInOneTurnIntoOneWrite) {
  Events ev;
  WsHandlers h = echo_handlers(ev);
  h.on_message = [](const WebSocketPtr& ws, WsMessage&&) {
    for (int i = 0; i < 100; ++i) ws->send_text("m" + std::to_string(i));
  };
  WsTestServer server(ev, std::move(h), quiet_options());
  std::mutex mu;
  std::vector<size_t> writes;  // Guarded by mu
  detail::set_ws_write_observer([&](uint64_t, const std::vector<std::string_view>& bufs) {
    std::lock_guard<std::mutex> lock(mu);
    writes.push_back(bufs.size());
  });
  RawClient c(server.port());
  c.write(masked(WsOpcode::kText, "go"));
  for (int i = 0; i < 100; ++i) {
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->payload, "m" + std::to_string(i));
  }
  detail::set_ws_write_observer({});
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0], 100u);
}

TEST(WebSocketSessionTest, SlowConsumerIsClosedWith1008AndQueueStaysBounded) {
  constexpr size_t kCap = 64 * 1024;
  Events ev;
  WsOptions o = quiet_options();
  o.max_send_queue_bytes = kCap;
  WsTestServer server(ev, echo_handlers(ev), o, /*sndbuf=*/4096);
  RawClient c(server.port(), {}, /*rcvbuf=*/4096);  // never reads again
  ASSERT_TRUE(ev.wait_for([&] { return ev.opened.size() == 1; }));
  WebSocketPtr ws;
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    ws = ev.opened[0];
  }
  SharedFrame frame = SharedFrame::binary(std::string(1024, 'b'));
  // Phase 1: send one frame at a time until a write stays pending, i.e. the
  // socket buffers are full and the server is really blocked on this client.
  bool stalled = false;
  for (int i = 0; i < 10000 && !stalled; ++i) {
    ASSERT_TRUE(ws->send(frame));
    const auto deadline = std::chrono::steady_clock::now() + 20ms;
    while (ws->queued_bytes() != 0 && !stalled) stalled = std::chrono::steady_clock::now() > deadline;
  }
  ASSERT_TRUE(stalled);
  // Phase 2: keep producing; the queue must stop at the cap and the connection be failed.
  size_t max_queued = 0;
  int accepted = 0;
  for (int i = 0; i < 100000 && ws->send(frame); ++i) {
    ++accepted;
    max_queued = std::max(max_queued, ws->queued_bytes());
  }
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
  EXPECT_LE(max_queued, kCap);
  EXPECT_LT(accepted, 100000);
  std::lock_guard<std::mutex> lock(ev.mu);
  auto& closes = ev.closes.begin()->second;
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].first, kWsPolicyViolation);
  EXPECT_EQ(closes[0].second, "send queue overflow");
  EXPECT_FALSE(ws->send(frame));
  EXPECT_EQ(ws->queued_bytes(), 0u);  // everything released once the socket is closed
}

TEST(WebSocketSessionTest, SlowConsumerThatResumesReadingReceivesThe1008CloseFrame) {
  Events ev;
  WsOptions o = quiet_options();
  o.max_send_queue_bytes = 64 * 1024;
  WsTestServer server(ev, echo_handlers(ev), o, /*sndbuf=*/4096);
  RawClient c(server.port(), {}, /*rcvbuf=*/4096);
  ASSERT_TRUE(ev.wait_for([&] { return ev.opened.size() == 1; }));
  WebSocketPtr ws;
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    ws = ev.opened[0];
  }
  SharedFrame frame = SharedFrame::binary(std::string(1024, 'b'));
  for (int i = 0; i < 100000 && ws->send(frame); ++i) {
  }
  // Whole frames that were already being written, then the close frame.
  std::optional<detail::WsEvent> e;
  for (int i = 0; i < 1000; ++i) {
    e = c.next();
    if (!e || e->kind != detail::WsEvent::Kind::kMessage) break;
    EXPECT_EQ(e->payload.size(), 1024u);
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, detail::WsEvent::Kind::kClose);
  EXPECT_EQ(e->code, kWsPolicyViolation);
  EXPECT_EQ(e->payload, "send queue overflow");
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
}

TEST(WebSocketSessionTest, SendFromAnotherThreadKeepsOrder) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  asio::io_context ioc;
  auto client = connect_beast(ioc, server.port());
  ASSERT_TRUE(ev.wait_for([&] { return ev.opened.size() == 1; }));
  WebSocketPtr ws;
  {
    std::lock_guard<std::mutex> lock(ev.mu);
    ws = ev.opened[0];
  }
  std::thread producer([ws] {
    for (int i = 0; i < 1000; ++i) ws->send_text(std::to_string(i));
  });
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(read_text(*client), std::to_string(i));
  producer.join();
  client->close(beast::websocket::close_code::normal);
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 1; }));
}

TEST(WebSocketSessionTest, CallbacksRunOnTheConnectionThreadAndCloseIsReportedOnce) {
  Events ev;
  WsTestServer server(ev, echo_handlers(ev), quiet_options());
  {
    asio::io_context ioc;
    auto a = connect_beast(ioc, server.port());
    auto b = connect_beast(ioc, server.port());
    a->write(asio::buffer(std::string("x")));
    EXPECT_EQ(read_text(*a), "x");
    a->close(beast::websocket::close_code::normal);
    b->next_layer().close();  // abrupt: no close frame
  }
  ASSERT_TRUE(ev.wait_for([&] { return ev.close_count() == 2; }));
  std::lock_guard<std::mutex> lock(ev.mu);
  EXPECT_EQ(ev.close_count(), 2u);
  for (auto& [id, v] : ev.closes) EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(ev.callback_threads.size(), 1u);
  std::set<uint16_t> codes;
  for (auto& [id, v] : ev.closes) codes.insert(v[0].first);
  EXPECT_TRUE(codes.count(1000));
  EXPECT_TRUE(codes.count(1006));
}

}  // namespace
}  // namespace chiron::net
