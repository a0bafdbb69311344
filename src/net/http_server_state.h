#pragma once
// Internal to net: what HttpServer, its acceptor and its connections share.
// Included only by http_server.cc and http_connection.cc (it pulls in Asio).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "net/http_server.h"

namespace chiron::net::detail {

// A connection as seen by its context's sweep and by stop().
class HttpConnectionBase {
 public:
  virtual ~HttpConnectionBase() = default;
  // Closes the connection if its current deadline has passed.
  virtual void on_sweep(std::chrono::steady_clock::time_point now) = 0;
  // Closes the connection if idle; otherwise it closes after the current response.
  virtual void on_server_stop() = 0;
};

// Per io_context bookkeeping. Loop-confined to `ctx`.
//
// Lifetime of I/O objects: the state outlives the HttpServer (pending
// handlers and connections hold it), possibly until the contexts are torn
// down one after another. An I/O object must die before its own context, so
// ~HttpServer destroys the sweeper (and, on slot 0, the acceptor) on the
// slot's own thread; the state left behind holds no I/O object.
struct HttpContextSlot {
  explicit HttpContextSlot(boost::asio::io_context& c) : ctx(c) {}
  boost::asio::io_context& ctx;
  std::unique_ptr<boost::asio::steady_timer> sweeper;  // null before start() and after teardown
  std::unordered_set<HttpConnectionBase*> connections;
  bool sweeping = false;
  std::atomic<bool> torn_down{false};
};

struct HttpServerState {
  HttpServerOptions options;
  Router router;
  std::unique_ptr<boost::asio::ssl::context> tls;  // set when serving HTTPS
  std::vector<std::unique_ptr<HttpContextSlot>> slots;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;  // on slots[0]'s context
  std::unique_ptr<boost::asio::steady_timer> accept_backoff;  // after EMFILE and friends
  std::chrono::milliseconds sweep_interval{250};
  uint16_t port = 0;

  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> acceptor_closed{false};
  std::atomic<size_t> next_slot{0};
  std::atomic<size_t> connections{0};
  std::atomic<bool> drained_notified{false};

  std::mutex mu_;
  std::function<void()> on_drained;  // Guarded by mu_

  // Called by every connection's destructor (any thread).
  void connection_gone();
  // Runs on_drained once, after the acceptor closed and the last connection went.
  void maybe_notify_drained();
  // Destroys slot i's I/O objects. Call on the slot's thread, or when no thread runs its context.
  void teardown_slot(size_t i);
};

// Creates the connection for an accepted socket and starts it. Call on the
// socket's context (the slot's).
void start_http_connection(std::shared_ptr<HttpServerState> state, HttpContextSlot& slot,
                           boost::asio::ip::tcp::socket socket);

}  // namespace chiron::net::detail
