// HttpServer over real sockets on 127.0.0.1:0.

#include "net/http_server.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <thread>

#include "http_testutil.h"
#include "net/http_gzip.h"

namespace chiron::net {
namespace {

using testing::ParkedResponders;
using testing::RawClient;
using testing::ServerHarness;
using testing::get_request;

Router basic_router(std::shared_ptr<ParkedResponders> parked = nullptr) {
  Router router;
  router.get("/api/v1/health", [](const Request&) { return Response::json(200, R"({"ok":true})"); });
  router.get("/echo/:word", [](const Request& r) { return Response::text(200, std::string(r.param("word"))); });
  router.post("/upload", [](const Request& r) { return Response::text(200, std::to_string(r.body.size())); });
  router.get("/boom", [](const Request&) -> Response { throw std::runtime_error("boom"); });
  router.get("/inject", [](const Request&) {
    Response r = Response::text(200, "x");
    r.headers.add("X-Bad", "a\r\nSet-Cookie: evil=1");
    return r;
  });
  router.get("/interim", [](const Request&) { return Response::text(101, ""); });
  router.get("/big-json", [](const Request&) {
    std::string body = "[";
    for (int i = 0; i < 500; ++i) body += R"({"id":1,"name":"chiron"},)";
    body += "{}]";
    return Response::json(200, body);
  });
  if (parked) {
    router.get("/park/:n", [parked](Request req, Responder responder) {
      parked->park(std::move(req), std::move(responder));
    });
  }
  return router;
}

TEST(HttpServerTest, StartBindsAFreePort) {
  ServerHarness h(basic_router());
  ASSERT_TRUE(h.start_status().ok()) << h.start_status().to_string();
  EXPECT_NE(h.port(), 0);
}

TEST(HttpServerTest, BusyPortFailsToStart) {
  ServerHarness h(basic_router());
  boost::asio::io_context ctx;
  HttpServerOptions o;
  o.port = h.port();
  HttpServer second({&ctx}, o, Router());
  Status s = second.start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get_request("/api/v1/health")));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"ok":true})");
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("server"), "chiron");
    EXPECT_FALSE(r->header("date").empty());
    EXPECT_EQ(r->header("connection"), "");
  }
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto parked = std::make_shared<ParkedResponders>();
  ServerHarness h(basic_router(parked));
  RawClient c(h.port());
  // The first answer is held back; the sync ones behind it must wait for it.
  ASSERT_TRUE(c.send(get_request("/park/1") + get_request("/echo/two") + get_request("/park/3") +
                     get_request("/echo/four")));
  ASSERT_TRUE(parked->wait_for(1));
  parked->answer(0);
  ASSERT_TRUE(parked->wait_for(2));
  parked->answer(1);
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    bodies.push_back(r->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"/park/1", "two", "/park/3", "four"}));
}

TEST(HttpServerTest, AsyncResponderAnswersFromAnotherThread) {
  Router router;
  router.get("/later", [](Request, Responder responder) {
    std::thread([r = std::move(responder)]() mutable { r(Response::text(202, "later")); }).detach();
  });
  ServerHarness h(std::move(router));
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/later")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->body, "later");
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send("GET /api/v1/health HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.wait_closed(2000));

  RawClient k(h.port());
  ASSERT_TRUE(k.send("GET /api/v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r2 = k.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->header("connection"), "keep-alive");
  ASSERT_TRUE(k.send("GET /api/v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(k.read_response());
}

TEST(HttpServerTest, ConnectionCloseIsHonoured) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/api/v1/health", "Connection: close\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.wait_closed(2000));
}

TEST(HttpServerTest, OversizedHeaderIs431AndCloses) {
  HttpServerOptions o;
  o.limits.max_header_bytes = 4096;
  ServerHarness h(basic_router(), o);
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/api/v1/health", "X-Big: " + std::string(8000, 'a') + "\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("\"code\":\"header_too_large\""), std::string::npos);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.wait_closed(3000));
}

TEST(HttpServerTest, OversizedBodyIs413) {
  HttpServerOptions o;
  o.limits.max_body_bytes = 1000;
  ServerHarness h(basic_router(), o);
  RawClient c(h.port());
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b')));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("payload_too_large"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(3000));
}

TEST(HttpServerTest, BodyWithinLimitIsDelivered) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  std::string body(100000, 'z');
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + body));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "100000");
}

TEST(HttpServerTest, ExpectContinueGets100First) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto cont = c.read_response();
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.send("abcd"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "4");
}

TEST(HttpServerTest, MalformedRequestIs400Json) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("\"code\":\"bad_request\""), std::string::npos);
  EXPECT_TRUE(c.wait_closed(3000));
}

TEST(HttpServerTest, NotFoundAndMethodNotAllowedAreJson) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/nope")));
  auto nf = c.read_response();
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_NE(nf->body.find("not_found"), std::string::npos);
  ASSERT_TRUE(c.send("DELETE /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto na = c.read_response();
  ASSERT_TRUE(na);
  EXPECT_EQ(na->status, 405);
  EXPECT_EQ(na->header("allow"), "GET, HEAD");
}

TEST(HttpServerTest, HeadHasLengthButNoBody) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send("HEAD /api/v1/health HTTP/1.1\r\nHost: a\r\n\r\n" + get_request("/echo/after")));
  auto head = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "11");
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "after");  // proves no body bytes were sent after the HEAD head
}

TEST(HttpServerTest, ThrowingHandlerIs500AndServerStaysUp) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/boom")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("\"code\":\"internal\""), std::string::npos);
  ASSERT_TRUE(c.send(get_request("/api/v1/health")));
  auto ok = c.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, HeaderInjectionFromHandlerIs500) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/inject")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->header("set-cookie"), "");
}

TEST(HttpServerTest, InterimStatusFromHandlerIs500WithBody) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/interim") + get_request("/echo/next")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "next");
}

TEST(HttpServerTest, GzipsLargeJsonWhenAccepted) {
  ServerHarness h(basic_router());
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/big-json", "Accept-Encoding: gzip\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-encoding"), "gzip");
  auto plain = gzip_decompress(r->body);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->starts_with("[{\"id\":1"));
  ASSERT_TRUE(c.send(get_request("/big-json")));
  auto identity = c.read_response();
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->header("content-encoding"), "");
  EXPECT_EQ(identity->body, *plain);
}

TEST(HttpServerTest, SlowlorisIsCutOffByReadTimeout) {
  HttpServerOptions o;
  o.read_timeout_ms = 200;
  ServerHarness h(basic_router(), o);
  RawClient c(h.port());
  ASSERT_TRUE(c.send("GET /api/v1/health HTTP/1.1\r\nHo"));
  EXPECT_TRUE(c.wait_closed(5000));
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions o;
  o.idle_timeout_ms = 200;
  ServerHarness h(basic_router(), o);
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/api/v1/health")));
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(c.wait_closed(5000));
}

TEST(HttpServerTest, SilentAsyncHandlerGets504AndLateAnswerIsDropped) {
  auto parked = std::make_shared<ParkedResponders>();
  HttpServerOptions o;
  o.handler_timeout_ms = 200;
  ServerHarness h(basic_router(parked), o);
  RawClient c(h.port());
  ASSERT_TRUE(c.send(get_request("/park/1")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  parked->answer(0);  // too late: must not show up as a response to the next request
  ASSERT_TRUE(c.send(get_request("/echo/next")));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "next");
}

TEST(HttpServerTest, ConnectionsAreSpreadOverContexts) {
  std::mutex mu;
  std::set<std::thread::id> seen;
  Router router;
  router.get("/tid", [&](const Request&) {
    std::lock_guard lock(mu);
    seen.insert(std::this_thread::get_id());
    return Response::text(200, "");
  });
  ServerHarness h(std::move(router), {}, 3);
  for (int i = 0; i < 6; ++i) {
    RawClient c(h.port());
    ASSERT_TRUE(c.send(get_request("/tid")));
    ASSERT_TRUE(c.read_response());
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), 3u);
}

TEST(HttpServerTest, MaxConnectionsRefusesExtraConnections) {
  HttpServerOptions o;
  o.max_connections = 1;
  ServerHarness h(basic_router(), o);
  RawClient first(h.port());
  ASSERT_TRUE(first.send(get_request("/api/v1/health")));
  ASSERT_TRUE(first.read_response());
  RawClient second(h.port());
  EXPECT_TRUE(second.wait_closed(3000));
  ASSERT_TRUE(first.send(get_request("/api/v1/health")));
  EXPECT_TRUE(first.read_response());
}

TEST(HttpServerTest, StopFinishesInFlightAndClosesIdle) {
  auto parked = std::make_shared<ParkedResponders>();
  ServerHarness h(basic_router(parked));
  RawClient idle(h.port());
  ASSERT_TRUE(idle.send(get_request("/api/v1/health")));
  ASSERT_TRUE(idle.read_response());
  RawClient busy(h.port());
  ASSERT_TRUE(busy.send(get_request("/park/1")));
  ASSERT_TRUE(parked->wait_for(1));

  auto drained = std::make_shared<std::promise<void>>();
  auto drained_future = drained->get_future();
  h.server().stop([drained] { drained->set_value(); });

  EXPECT_TRUE(idle.wait_closed(3000));
  RawClient late(h.port());
  EXPECT_TRUE(!late.connected() || late.wait_closed(3000));
  EXPECT_EQ(drained_future.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);

  parked->answer(0);
  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "/park/1");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(busy.wait_closed(3000));
  EXPECT_EQ(drained_future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

}  // namespace
}  // namespace chiron::net
