#pragma once
// LineServer: a TCP server for command/reply protocols — the base of the name
// server's data plane (`chiron ns`, paper verbs REG/REM/REQ/ALG/...).
//
// Each connection speaks RESP arrays and inline text lines interchangeably
// (see resp.h), so `redis-cli -p 5300 REQ web`, `redis-benchmark` and
// `printf 'REQ web\r\n' | nc` all work. For every command the handler returns
// the reply bytes (already encoded: resp_bulk(...), or a plain text line for
// inline clients — RespCommand::is_inline tells which form the client used).
//
// Pipelining: one read may hold many commands; their replies are written in
// command order in one write per read. The connection stops reading while
// replies are outstanding, so a client that pipelines without reading its
// replies is bounded by the socket buffers, not by our memory. A malformed
// request gets "-ERR Protocol error: ..." after the replies to the commands
// before it, and the connection is closed (as Redis does); other connections
// are unaffected.
//
// Async replies: a LineAsyncHandler receives a LineReply to call exactly once,
// from any thread, e.g. after work on the disk pipeline; ordering is kept. A sync
// handler may defer single replies the same way (LineConnectionInfo::defer).
// A handler that throws gets "-ERR internal error" for that command (logged);
// the connection and the server carry on.
//
// Threading: the acceptor runs on contexts[0] and hands connections round-robin
// to all contexts; a connection and its handler calls are confined to its
// context. start()/stop()/port()/connection_count() may be called from any
// thread (not concurrently with each other). The contexts must outlive the
// server's connections: run them until stop() has drained (connection_count()
// reaches 0) before destroying them.
//
// Lifetime: connections are shared_ptr-owned by their pending operations; the
// server's shared state (handler, options, registry) outlives the LineServer
// object if connections are still draining. The listening socket is released
// by stop() on contexts[0]; destroy the LineServer before the io_contexts.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/resp.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::net {

struct LineServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                  // 0 picks a free port; see port()
  size_t max_connections = 10000;     // beyond: "-ERR max number of clients reached", then close
  uint32_t idle_timeout_ms = 0;       // 0 = never; else close after this long without a request
  RespLimits limits;
};

// Completes one async command. Call exactly once, from any thread; later calls are ignored.
using LineReply = std::function<void(std::string reply)>;

// Passed to handlers. Stable for the connection's lifetime.
struct LineConnectionInfo {
  uint64_t id = 0;             // process-unique
  std::string remote_address;  // "127.0.0.1:53412"
  // Per-connection bits owned by the handler (e.g. "authenticated"); zero at accept. Handlers
  // of one connection run on its context one at a time, so they may update it without locks.
  mutable uint64_t user_flags = 0;
  // Sync handlers only, during the call: takes over the current command's reply, which the
  // returned LineReply must then deliver (from any thread); the handler's return value is
  // ignored. Lets one handler answer most commands inline (no per-command allocation) and a
  // few later, e.g. once a write is durable.
  std::function<LineReply()> defer;
};

// Sync handler: returns the complete reply bytes for one command.
using LineHandler = std::function<std::string(const LineConnectionInfo& conn, RespCommand& command)>;
using LineAsyncHandler =
    std::function<void(const LineConnectionInfo& conn, RespCommand&& command, LineReply reply)>;

namespace detail {
struct LineServerState;
struct LineAcceptor;
}  // namespace detail

// Thread-safe as described in the DESIGN block above.
class LineServer {
 public:
  LineServer(std::vector<boost::asio::io_context*> contexts, LineServerOptions options, LineHandler handler);
  LineServer(std::vector<boost::asio::io_context*> contexts, LineServerOptions options, LineAsyncHandler handler);
  ~LineServer();  // calls stop()
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // Binds and listens; connections are served once the contexts run.
  [[nodiscard]] Status start();
  // The bound port (the chosen one when options.port was 0). 0 before start().
  uint16_t port() const;
  // Stops accepting; each connection stops reading, writes the replies it owes, then closes.
  // Returns at once; idempotent.
  void stop();
  // Open connections (draining ones included).
  size_t connection_count() const;

 private:
  std::shared_ptr<detail::LineServerState> state_;
  std::shared_ptr<detail::LineAcceptor> acceptor_;  // confined to contexts[0]
};

}  // namespace chiron::net
