// Streamed responses (Response::takeover): the server writes the head, then hands the socket to
// the producer on the connection's io_context.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <memory>

#include "http_testutil.h"
#include "net/http_server.h"

namespace chiron::net {
namespace {

using testing::RawClient;
using testing::ServerHarness;
using tcp = boost::asio::ip::tcp;

// Writes two chunks and the last-chunk from the adopted socket, then closes it.
Router streaming_router(std::shared_ptr<std::atomic<int>> calls) {
  Router router;
  router.get("/stream", [calls](const Request&) {
    Response r;
    r.headers.add("Content-Type", "video/x-flv");
    r.body = "ignored";
    r.takeover = [calls](boost::asio::io_context& ctx, int fd, bool chunked) {
      calls->fetch_add(1);
      auto s = std::make_shared<tcp::socket>(ctx);
      boost::system::error_code ec;
      s->assign(tcp::v4(), fd, ec);
      if (ec) return;
      auto body = std::make_shared<std::string>(chunked ? "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" : "hello world");
      boost::asio::async_write(*s, boost::asio::buffer(*body), [s, body](boost::system::error_code, size_t) {
        boost::system::error_code ignored;
        s->shutdown(tcp::socket::shutdown_both, ignored);
        s->close(ignored);
      });
    };
    return r;
  });
  router.get("/refused", [calls](const Request&) {
    Response r = Response::error(404, "offline", "not live");
    r.takeover = [calls](boost::asio::io_context&, int fd, bool) {
      calls->fetch_add(1);
      ::close(fd);
    };
    return r;
  });
  return router;
}

TEST(HttpTakeoverTest, Http11GetsAChunkedHeadAndTheProducerWritesTheBody) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  ServerHarness h(streaming_router(calls));
  RawClient c(h.port());
  ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.wait_closed(5000));
  const std::string& got = c.buffered();
  EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("Content-Length"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Type: video/x-flv\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(calls->load(), 1);
  EXPECT_EQ(h.server().connection_count(), 0u);  // handed off: no longer the server's
}

TEST(HttpTakeoverTest, Http10GetsACloseDelimitedBody) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  ServerHarness h(streaming_router(calls));
  RawClient c(h.port());
  ASSERT_TRUE(c.send("GET /stream HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(c.wait_closed(5000));
  const std::string& got = c.buffered();
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("Transfer-Encoding"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "hello world");
}

TEST(HttpTakeoverTest, HeadAndErrorStatusesAreOrdinaryResponses) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  ServerHarness h(streaming_router(calls));
  RawClient c(h.port());
  ASSERT_TRUE(c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  ASSERT_TRUE(c.send("GET /refused HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto refused = c.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 404);
  EXPECT_NE(refused->body.find("offline"), std::string::npos);
  // The connection is still the server's and keeps serving.
  ASSERT_TRUE(c.send("GET /refused HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_response());
  EXPECT_EQ(calls->load(), 0);
}

}  // namespace
}  // namespace chiron::net
