#pragma once
// Router: method + path pattern → handler, for HttpServer.
//
// Patterns are "/"-separated segments: literals, ":name" (one segment) and a
// trailing "*name" (zero or more segments, joined with "/"). Literals win over
// ":name", which wins over "*name"; the router backtracks, so GET /a/new and
// GET /a/:id can coexist. Captured values are percent-decoded per segment
// (RFC 3986 §2.1) and land in Request::params.
//
// No route → 404, a route without the method → 405 with Allow (RFC 9110
// §15.5.6), an unknown method → 501 (RFC 9110 §9.1); HEAD falls back to GET.
//
// Handlers are either synchronous, Response(const Request&), run on the
// connection's thread; or asynchronous, void(Request, Responder): they may
// move the Responder to any thread (the disk pipeline, a timer) and call it
// later, once. A handler that throws answers 500 and the server carries on.
//
// Thread-safety: register routes before the server starts; afterwards the
// Router is read-only and safe to use from every net thread at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "net/http_message.h"
#include "net/static_files.h"
#include "net/websocket.h"

namespace chiron::net {

namespace detail {
// Where a Responder's response goes; the server's connection implements it.
// deliver() may be called from any thread; the first delivery for a token
// wins and later ones are dropped.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void deliver(uint64_t token, Response&& response) = 0;
};
}  // namespace detail

// The right to answer one request, exactly once, from any thread.
// Move-only. Destroying an unanswered Responder answers 500, so a request is
// never left hanging by a lost callback.
class Responder {
 public:
  Responder() = default;
  Responder(std::shared_ptr<detail::ResponseSink> sink, uint64_t token) : sink_(std::move(sink)), token_(token) {}
  Responder(Responder&& other) noexcept : sink_(std::move(other.sink_)), token_(other.token_) {}
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // A Responder that hands the response to `fn` (tests, composing handlers).
  static Responder from_callback(std::function<void(Response)> fn);

  // Sends the response. Thread-safe w.r.t. the connection. Returns false if
  // this Responder was already used (or moved from); the response is dropped.
  bool send(Response response);
  bool operator()(Response response) { return send(std::move(response)); }
  // True until send() is called or the Responder is moved from.
  explicit operator bool() const { return sink_ != nullptr; }

 private:
  friend class Router;  // answers 500 through the sink when an async handler throws
  std::shared_ptr<detail::ResponseSink> sink_;
  uint64_t token_ = 0;
};

using Handler = std::function<Response(const Request&)>;
using AsyncHandler = std::function<void(Request, Responder)>;

struct WebSocketRoute {
  WsHandlers handlers;
  WsOptions options;
};

// What Router::resolve() found for a request.
struct RouteMatch {
  const Handler* handler = nullptr;
  const AsyncHandler* async_handler = nullptr;
  const WebSocketRoute* websocket = nullptr;
  std::optional<Response> error;  // 404 / 405 / 501 when nothing runs
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // F is either Response(const Request&) or void(Request, Responder).
  template <class F> Router& get(std::string_view pattern, F&& f) { return route("GET", pattern, std::forward<F>(f)); }
  template <class F> Router& post(std::string_view pattern, F&& f) { return route("POST", pattern, std::forward<F>(f)); }
  template <class F> Router& put(std::string_view pattern, F&& f) { return route("PUT", pattern, std::forward<F>(f)); }
  template <class F> Router& patch(std::string_view pattern, F&& f) { return route("PATCH", pattern, std::forward<F>(f)); }
  template <class F> Router& del(std::string_view pattern, F&& f) { return route("DELETE", pattern, std::forward<F>(f)); }
  // Every method (a more specific method route on the same pattern wins).
  template <class F> Router& any(std::string_view pattern, F&& f) { return route("*", pattern, std::forward<F>(f)); }

  template <class F>
  Router& route(std::string_view method, std::string_view pattern, F&& f) {
    if constexpr (std::is_invocable_r_v<Response, F&, const Request&>) {
      return add(method, pattern, Handler(std::forward<F>(f)), nullptr);
    } else {
      static_assert(std::is_invocable_v<F&, Request, Responder>,
                    "a handler is Response(const Request&) or void(Request, Responder)");
      return add(method, pattern, nullptr, AsyncHandler(std::forward<F>(f)));
    }
  }

  // RFC 6455 upgrade endpoint (GET). The server validates the handshake,
  // answers 101 and hands the socket to the WebSocket layer.
  Router& websocket(std::string_view pattern, WsHandlers handlers, WsOptions options = {});

  // Serves files under root_dir at prefix ("/" → every path not matched by a
  // more specific route). Directories answer their index.html.
  Router& static_dir(std::string_view prefix, std::string root_dir, StaticFilesOptions options = {});
  // The same with a StaticFiles the caller keeps (shared: the router and the caller both use it).
  Router& static_dir(std::string_view prefix, std::shared_ptr<const StaticFiles> files);

  // Finds the route for request.method + request.target and fills request.params.
  RouteMatch resolve(Request& request) const;

  // Runs what resolve() found: the handler, or the error response; a
  // WebSocket route reached without an upgrade answers 426. Exceptions from
  // handlers become 500. The server calls it; the responder gets exactly one answer.
  void run(const RouteMatch& match, Request&& request, Responder responder) const;
  // resolve() + run(): a whole request without sockets (tests, composition).
  void handle(Request request, Responder responder) const;

 private:
  struct Node;
  struct Endpoint;
  Router& add(std::string_view method, std::string_view pattern, Handler handler, AsyncHandler async_handler);
  Endpoint& add_endpoint(std::string_view method, std::string_view pattern);

  std::unique_ptr<Node> root_;
  std::vector<std::string> methods_;  // every method some route uses, for 501
};

}  // namespace chiron::net
