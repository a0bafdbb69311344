// libFuzzer target for the HTTP/1.1 request parser (net/http_parser.h), the
// router's path matching and the request accessors. Input: raw bytes as a
// client would send them, possibly several pipelined requests. The first
// byte picks the feed chunk size, so split points are fuzzed too.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_parser.h"
#include "net/http_response_writer.h"
#include "net/router.h"

namespace {

const chiron::net::Router& fuzz_router() {
  static const chiron::net::Router* router = [] {
    auto* r = new chiron::net::Router();
    auto ok = [](const chiron::net::Request&) { return chiron::net::Response::text(200, "ok"); };
    r->get("/api/v1/channels/:name/files/*path", ok);
    r->get("/api/v1/channels/:name", ok);
    r->post("/api/v1/channels", ok);
    r->get("/a/new", ok);
    r->any("/any/*rest", ok);
    r->websocket("/ws", {});
    return r;
  }();
  return *router;
}

void check(bool cond) {
  if (!cond) std::abort();
}

void exercise(chiron::net::Request& req) {
  check(!req.path.empty());
  (void)req.query_param("a");
  (void)req.cookie("session");
  chiron::net::RouteMatch m = fuzz_router().resolve(req);
  check(m.error.has_value() || m.handler || m.async_handler || m.websocket);
  // Echoing request data into a response head must either be refused or stay one header per line.
  chiron::net::Response resp;
  for (const auto& [k, v] : req.headers.items()) resp.headers.add(k, v);
  std::string head;
  if (chiron::net::append_response_head(head, resp, {})) {
    check(head.find("\r\n\r\n") == head.size() - 4);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  chiron::net::HttpLimits limits{.max_header_bytes = 2048, .max_body_bytes = 4096};

  size_t consumed = 0;
  auto one = chiron::net::parse_http_request(input, limits, &consumed);
  check(consumed <= input.size());
  if (one.ok()) exercise(one.value());

  // Incremental, pipelined: at most 16 requests per input.
  chiron::net::HttpRequestParser parser(limits);
  std::string pending;
  size_t pos = 0;
  int requests = 0;
  while (requests < 16) {
    if (pos < input.size()) {
      pending.append(input.substr(pos, chunk));
      pos += chunk;
    }
    size_t n = parser.feed(pending);
    check(n <= pending.size());
    pending.erase(0, n);
    auto st = parser.state();
    if (st == chiron::net::HttpRequestParser::State::kError) {
      check(parser.error_status() >= 400 && parser.error_status() < 600);
      break;
    }
    if (st == chiron::net::HttpRequestParser::State::kDone) {
      chiron::net::Request req = parser.take_request();
      exercise(req);
      ++requests;
      continue;
    }
    if (pos >= input.size() && n == 0) {
      parser.feed_eof();
      break;
    }
  }
  return 0;
}
