#pragma once
// HttpServer: HTTP/1.1 (RFC 9112) on Boost.Beast's parser and Asio sockets,
// optionally over TLS (OpenSSL).
//
// Connections: one acceptor; accepted sockets are spread round robin over the
// io_contexts passed in (the kernel's net pipeline, one context per thread)
// and each connection stays confined to its context. Requests on a
// connection are answered strictly in order — the next pipelined request is
// parsed only after the previous response is written — so pipelining is safe
// without a reorder queue. Keep-alive per RFC 9112 §9.3.
//
// Limits and timeouts: header bytes → 431, body bytes → 413, malformed → 400,
// each as a JSON error followed by a graceful close. idle_timeout_ms bounds a
// keep-alive connection with no request; read_timeout_ms bounds a request from
// its first byte to its last (slowloris); write_timeout_ms bounds each write;
// handler_timeout_ms bounds an async handler (504).
// A per-context sweep closes expired connections, so arming a deadline costs
// one clock read instead of a timer syscall per request.
//
// stop() refuses new connections, closes idle ones, and lets in-flight
// requests finish and be answered (with "Connection: close").
//
// Threading: start()/stop() from any thread. Handlers run on the
// connection's thread; async handlers may answer from any thread. Each
// io_context must be run by one thread, and must outlive the HttpServer.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/http_parser.h"
#include "net/router.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::net {

namespace detail {
struct HttpServerState;
}  // namespace detail

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see HttpServer::port()
  HttpLimits limits;     // header → 431, body → 413
  uint32_t idle_timeout_ms = 60'000;   // keep-alive connection waiting for a request
  uint32_t read_timeout_ms = 15'000;   // first byte of a request to its last byte (and TLS handshake)
  uint32_t write_timeout_ms = 30'000;  // each write of a response
  // An async handler that has not answered by then gets 504 sent for it (its
  // late answer is dropped); 0 waits forever.
  uint32_t handler_timeout_ms = 60'000;
  size_t max_connections = 10'000;     // beyond: accepted and closed at once
  int backlog = 1024;
  // Both set → HTTPS only on this listener (PEM files). WebSocket upgrades
  // over TLS are refused with 501 for now.
  std::string tls_cert_file;
  std::string tls_key_file;
  // gzip in-memory bodies of compressible types >= gzip_min_bytes when the
  // client accepts it (StaticFiles compresses files itself, see its options).
  bool gzip = true;
  size_t gzip_min_bytes = 1024;
  std::string server_name = "chiron";  // Server header; empty → none
};

class HttpServer {
 public:
  HttpServer(std::vector<boost::asio::io_context*> contexts, HttpServerOptions options, Router router);
  // stop(), then destroys the acceptor and timers on their own contexts
  // (waiting for running contexts to do it). The contexts must still exist;
  // connections still open live on until they finish or their context dies.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (synchronously, so port() is valid on return) and
  // starts accepting on the contexts. Fails on a bad address, a busy port or
  // unreadable TLS files.
  [[nodiscard]] Status start();

  // Stops accepting, closes idle connections and lets in-flight requests
  // finish. Returns at once; on_drained (optional) runs, on an arbitrary
  // thread, when the last connection is gone. Idempotent.
  void stop(std::function<void()> on_drained = {});

  // The bound port (after start()).
  uint16_t port() const;
  // Open HTTP connections (WebSockets handed off are not counted).
  size_t connection_count() const;
  bool tls() const;
  const HttpServerOptions& options() const;

 private:
  // Shared with the connections, which may outlive the server object after stop().
  std::shared_ptr<detail::HttpServerState> state_;
};

}  // namespace chiron::net
