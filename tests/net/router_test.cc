// Router matching and dispatch, driven without sockets.

#include "net/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <thread>

namespace chiron::net {
namespace {

Request make(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  if (auto d = percent_decode(r.path)) r.path = *d;
  return r;
}

Response run(const Router& router, Request req) {
  std::optional<Response> out;
  router.handle(std::move(req), Responder::from_callback([&](Response r) { out = std::move(r); }));
  EXPECT_TRUE(out.has_value());
  return out ? std::move(*out) : Response{};
}

Response echo_params(const Request& r) {
  std::string body;
  for (const auto& [k, v] : r.params) body += k + "=" + v + ";";
  return Response::text(200, body);
}

TEST(RouterTest, MatchesParamsAndTrailingWildcard) {
  Router router;
  router.get("/api/v1/channels/:name/files/*path", echo_params);
  Response r = run(router, make("GET", "/api/v1/channels/alice/files/src/main.cc"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "name=alice;path=src/main.cc;");
}

TEST(RouterTest, WildcardMatchesEmptyRest) {
  Router router;
  router.get("/static/*path", echo_params);
  EXPECT_EQ(run(router, make("GET", "/static")).body, "path=;");
  EXPECT_EQ(run(router, make("GET", "/static/")).body, "path=;");
}

TEST(RouterTest, ParamsArePercentDecodedPerSegment) {
  Router router;
  router.get("/u/:name", echo_params);
  EXPECT_EQ(run(router, make("GET", "/u/a%2Fb%20c")).body, "name=a/b c;");
}

TEST(RouterTest, LiteralWinsOverParamWithBacktracking) {
  Router router;
  router.get("/a/new", [](const Request&) { return Response::text(200, "literal"); });
  router.get("/a/:id", [](const Request&) { return Response::text(200, "param"); });
  router.post("/a/new/x", [](const Request&) { return Response::text(200, "post"); });
  router.get("/a/:id/x", [](const Request&) { return Response::text(200, "param-x"); });
  EXPECT_EQ(run(router, make("GET", "/a/new")).body, "literal");
  EXPECT_EQ(run(router, make("GET", "/a/7")).body, "param");
  EXPECT_EQ(run(router, make("GET", "/a/new/x")).body, "param-x");
  EXPECT_EQ(run(router, make("POST", "/a/new/x")).body, "post");
}

TEST(RouterTest, NoRouteIs404Json) {
  Router router;
  router.get("/x", echo_params);
  Response r = run(router, make("GET", "/y"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos);
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router;
  router.get("/x", echo_params);
  router.del("/x", echo_params);
  Response r = run(router, make("POST", "/x"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow").value_or(""), "GET, HEAD, DELETE");
  EXPECT_NE(r.body.find("method_not_allowed"), std::string::npos);
}

TEST(RouterTest, UnknownMethodIs501) {
  Router router;
  router.get("/x", echo_params);
  EXPECT_EQ(run(router, make("BREW", "/x")).status, 501);
}

TEST(RouterTest, CustomMethodCanBeRouted) {
  Router router;
  router.route("PROPFIND", "/x", [](const Request&) { return Response::text(207, "ok"); });
  EXPECT_EQ(run(router, make("PROPFIND", "/x")).status, 207);
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  router.get("/x", [](const Request& r) { return Response::text(200, r.method); });
  EXPECT_EQ(run(router, make("HEAD", "/x")).body, "HEAD");
}

TEST(RouterTest, AnyMatchesEveryMethodButSpecificWins) {
  Router router;
  router.any("/x", [](const Request&) { return Response::text(200, "any"); });
  router.put("/x", [](const Request&) { return Response::text(200, "put"); });
  EXPECT_EQ(run(router, make("PATCH", "/x")).body, "any");
  EXPECT_EQ(run(router, make("PUT", "/x")).body, "put");
}

TEST(RouterTest, ThrowingHandlerIs500) {
  Router router;
  router.get("/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
  Response r = run(router, make("GET", "/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("kaput"), std::string::npos);  // internals stay in the log
}

TEST(RouterTest, AsyncHandlerAnswersFromAnotherThread) {
  Router router;
  router.get("/slow/:n", [](Request req, Responder responder) {
    std::thread([req = std::move(req), responder = std::move(responder)]() mutable {
      responder(Response::text(200, "n=" + std::string(req.param("n"))));
    }).join();
  });
  EXPECT_EQ(run(router, make("GET", "/slow/5")).body, "n=5");
}

TEST(RouterTest, ThrowingAsyncHandlerIs500) {
  Router router;
  router.get("/boom", [](Request, Responder) { throw std::runtime_error("x"); });
  EXPECT_EQ(run(router, make("GET", "/boom")).status, 500);
}

TEST(RouterTest, DroppedResponderAnswers500) {
  Router router;
  router.get("/drop", [](Request, Responder) {});
  EXPECT_EQ(run(router, make("GET", "/drop")).status, 500);
}

TEST(RouterTest, ResponderSendsOnlyOnce) {
  int calls = 0;
  Responder r = Responder::from_callback([&](Response) { ++calls; });
  EXPECT_TRUE(r.send(Response::text(200, "a")));
  EXPECT_FALSE(r.send(Response::text(200, "b")));
  EXPECT_FALSE(r);
  EXPECT_EQ(calls, 1);
}

TEST(RouterTest, WebSocketRouteWithoutUpgradeIs426) {
  Router router;
  router.websocket("/ws", WsHandlers{});
  Request req = make("GET", "/ws");
  RouteMatch m = router.resolve(req);
  EXPECT_NE(m.websocket, nullptr);
  Response r = run(router, make("GET", "/ws"));
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.headers.get("Sec-WebSocket-Version").value_or(""), "13");
}

TEST(RouterTest, RootPatternMatchesOnlyRoot) {
  Router router;
  router.get("/", [](const Request&) { return Response::text(200, "root"); });
  EXPECT_EQ(run(router, make("GET", "/")).body, "root");
  EXPECT_EQ(run(router, make("GET", "/x")).status, 404);
}

TEST(RouterTest, DuplicateRouteDies) {
  Router router;
  router.get("/x", echo_params);
  EXPECT_DEATH(router.get("/x", echo_params), "registered twice");
}

}  // namespace
}  // namespace chiron::net
