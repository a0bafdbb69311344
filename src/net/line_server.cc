// LineServer: acceptor + per-connection read → parse → handle → write loop.
// See line_server.h for the contract.
//
// A connection alternates between two phases, never both at once: reading
// (one async_read_some pending) and answering (handlers running or async
// replies outstanding, then one gathered write). This is what gives "one
// write per read", ordered replies, and back-pressure: we do not read more
// requests until the previous batch has been answered and written.

#include "net/line_server.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "common/check.h"
#include "common/ids.h"
#include "common/log.h"

namespace chiron::net {
namespace detail {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {
constexpr size_t kReadChunkBytes = 16 * 1024;
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
IdGenerator g_connection_ids;
}  // namespace

class LineConnection;

// Shared by the server and its connections. Holds no I/O object, so it may
// outlive contexts[0] (connections on other contexts keep it alive).
struct LineServerState {
  std::vector<asio::io_context*> contexts;
  LineServerOptions options;
  LineHandler sync_handler;
  LineAsyncHandler async_handler;

  std::atomic<uint16_t> port{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> connection_count{0};

  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<LineConnection>> live;  // Guarded by mu
};

// The listening socket. Confined to contexts[0]; owned by the LineServer and
// by its own pending handlers only, so it never outlives contexts[0].
struct LineAcceptor : std::enable_shared_from_this<LineAcceptor> {
  explicit LineAcceptor(std::shared_ptr<LineServerState> s)
      : state(std::move(s)), acceptor(*state->contexts[0]), retry_timer(*state->contexts[0]) {}

  void accept();
  void on_accept(const error_code& ec, tcp::socket socket);
  void refuse(tcp::socket socket);

  std::shared_ptr<LineServerState> state;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  size_t next_context = 0;
};

class LineConnection : public std::enable_shared_from_this<LineConnection> {
 public:
  LineConnection(std::shared_ptr<LineServerState> state, tcp::socket socket)
      : state_(std::move(state)),
        socket_(std::move(socket)),
        executor_(socket_.get_executor()),
        parser_(state_->options.limits),
        read_buf_(new char[kReadChunkBytes]),
        timer_(executor_) {
    info_.id = g_connection_ids.next();
    error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) info_.remote_address = ep.address().to_string() + ":" + std::to_string(ep.port());
    // Only ever called by a sync handler inside dispatch(), while this connection is alive.
    info_.defer = [this] {
      deferred_ = true;
      return make_reply(dispatch_seq_);
    };
  }

  // Bookkeeping also happens if the last reference goes away without a close
  // (an async handler dropped its LineReply without calling it).
  ~LineConnection() { close_now("connection released"); }

  const asio::any_io_executor& executor() const { return executor_; }

  void start() {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->live.emplace(info_.id, weak_from_this());
    }
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    last_activity_ = std::chrono::steady_clock::now();
    arm_idle_timer();
    // Registered first, then checked: a stop() racing with us either sees us or we see it.
    if (state_->stopping.load()) {
      drain();
      return;
    }
    read();
  }

  // stop(): no more requests; answer what was read, then close.
  void drain() {
    if (closed_ || draining_) return;
    draining_ = true;
    if (reading_) {
      error_code ec;
      socket_.cancel(ec);  // only the read is pending: reads and writes never overlap
    } else {
      try_write();
    }
  }

 private:
  void read() {
    if (reading_ || closed_) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buf_.get(), kReadChunkBytes),
                            [self = shared_from_this()](const error_code& ec, size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (lingering_) {
      if (ec) {
        close_now("closed after protocol error");
      } else {
        read();  // discard until the peer's EOF
      }
      return;
    }
    if (ec) {
      close_now(ec == asio::error::eof ? "peer closed" : ec.message());
      return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    if (!draining_) process(std::string_view(read_buf_.get(), n));
    try_write();
  }

  void process(std::string_view data) {
    while (!data.empty()) {
      std::optional<RespCommand> cmd;
      auto used = parser_.parse(data, cmd);
      if (!used.ok()) {
        log::debug("line", "protocol error", {{"conn", info_.id}, {"remote", info_.remote_address},
                                              {"error", used.status().message()}});
        slots_.emplace_back(resp_protocol_error(used.status().message()));
        close_after_ = true;
        return;
      }
      data.remove_prefix(*used);
      if (cmd) dispatch(std::move(*cmd));
    }
  }

  void dispatch(RespCommand&& cmd) {
    const uint64_t seq = first_seq_ + slots_.size();
    slots_.emplace_back();
    if (state_->sync_handler) {
      deferred_ = false;
      dispatch_seq_ = seq;
      std::string reply;
      try {
        reply = state_->sync_handler(info_, cmd);
      } catch (const std::exception& e) {
        reply = handler_failed(e.what());
      }
      if (!deferred_) slots_[seq - first_seq_] = std::move(reply);
      return;
    }
    LineReply reply = make_reply(seq);
    try {
      state_->async_handler(info_, std::move(cmd), reply);
    } catch (const std::exception& e) {
      reply(handler_failed(e.what()));  // ignored if the handler already answered
    }
  }

  // A throwing handler costs its command an error reply, never the process or the connection.
  std::string handler_failed(const char* what) {
    log::error("line", "handler threw", {{"conn", info_.id}, {"error", std::string(what)}});
    return resp_error("internal error");
  }

  // The reply holds the connection: while a handler owes a reply nothing else may.
  LineReply make_reply(uint64_t seq) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), seq, done](std::string r) {
      if (done->exchange(true)) return;
      asio::post(self->executor_, [self, seq, r = std::move(r)]() mutable { self->complete(seq, std::move(r)); });
    };
  }

  void complete(uint64_t seq, std::string reply) {
    if (closed_ || seq < first_seq_ || seq - first_seq_ >= slots_.size()) return;
    auto& slot = slots_[seq - first_seq_];
    if (slot) return;
    slot = std::move(reply);
    try_write();
  }

  // Writes every reply that is ready, in order, as one write; then decides what comes next.
  void try_write() {
    if (writing_ || closed_ || lingering_) return;
    while (!slots_.empty() && slots_.front()) {
      out_.append(*slots_.front());
      slots_.pop_front();
      ++first_seq_;
    }
    if (!out_.empty()) {
      writing_ = true;
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this()](const error_code& ec, size_t) { self->on_write(ec); });
      return;
    }
    if (!slots_.empty()) return;  // waiting for an async reply
    if (close_after_) {
      linger();
    } else if (draining_) {
      close_now("server stopping");
    } else {
      read();
    }
  }

  void on_write(const error_code& ec) {
    writing_ = false;
    if (out_.capacity() > 4 * kReadChunkBytes) {
      out_ = std::string();
    } else {
      out_.clear();
    }
    if (closed_) return;
    if (ec) {
      close_now(ec.message());
      return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    try_write();
  }

  // After a protocol error: half-close so the client reads our -ERR line, then drain until EOF.
  void linger() {
    lingering_ = true;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    timer_.cancel();
    timer_.expires_after(kLingerTimeout);
    timer_.async_wait([self = shared_from_this()](const error_code& tec) {
      if (!tec) self->close_now("linger timeout");
    });
    read();
  }

  void arm_idle_timer() {
    const uint32_t idle_ms = state_->options.idle_timeout_ms;
    if (idle_ms == 0 || closed_ || lingering_) return;
    timer_.expires_at(last_activity_ + std::chrono::milliseconds(idle_ms));
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_ || self->lingering_) return;
      const auto idle = std::chrono::milliseconds(self->state_->options.idle_timeout_ms);
      if (std::chrono::steady_clock::now() - self->last_activity_ >= idle) {
        self->close_now("idle timeout");
      } else {
        self->arm_idle_timer();  // activity moved the deadline; catch up lazily
      }
    });
  }

  void close_now(std::string_view why) {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    socket_.close(ec);
    timer_.cancel();
    slots_.clear();
    log::debug("line", "connection closed", {{"conn", info_.id}, {"remote", info_.remote_address}, {"reason", why}});
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->live.erase(info_.id);
    }
    state_->connection_count.fetch_sub(1);
  }

  std::shared_ptr<LineServerState> state_;
  tcp::socket socket_;
  const asio::any_io_executor executor_;
  LineConnectionInfo info_;
  bool deferred_ = false;      // the sync handler running now called info_.defer()
  uint64_t dispatch_seq_ = 0;  // sequence number of the command being dispatched
  RespParser parser_;
  std::unique_ptr<char[]> read_buf_;
  asio::steady_timer timer_;  // idle deadline, or the linger deadline after a protocol error
  SteadyTime last_activity_;

  std::deque<std::optional<std::string>> slots_;  // replies in command order; nullopt = not ready
  uint64_t first_seq_ = 0;                        // sequence number of slots_.front()
  std::string out_;                               // the batch being written
  bool reading_ = false;
  bool writing_ = false;
  bool close_after_ = false;  // a protocol error reply is queued; close once it is written
  bool lingering_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

void LineAcceptor::accept() {
  if (state->stopping.load()) return;
  asio::io_context& target = *state->contexts[next_context++ % state->contexts.size()];
  acceptor.async_accept(target, [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void LineAcceptor::on_accept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || state->stopping.load()) return;
  if (ec) {
    // EMFILE and friends: back off instead of spinning.
    log::warn("line", "accept failed", {{"error", ec.message()}});
    retry_timer.expires_after(kAcceptRetryDelay);
    retry_timer.async_wait([self = shared_from_this()](const error_code& tec) {
      if (!tec) self->accept();
    });
    return;
  }
  if (state->connection_count.load() >= state->options.max_connections) {
    refuse(std::move(socket));
  } else {
    state->connection_count.fetch_add(1);
    auto conn = std::make_shared<LineConnection>(state, std::move(socket));
    asio::post(conn->executor(), [conn] { conn->start(); });
  }
  accept();
}

void LineAcceptor::refuse(tcp::socket socket) {
  // Like Redis: tell the client why, then close.
  struct Refused {
    tcp::socket socket;
    std::string message = resp_error("max number of clients reached");
  };
  auto r = std::make_shared<Refused>(Refused{std::move(socket)});
  asio::async_write(r->socket, asio::buffer(r->message), [r](const error_code&, size_t) {
    error_code ec;
    r->socket.shutdown(tcp::socket::shutdown_send, ec);
    r->socket.close(ec);
  });
}

}  // namespace detail

namespace {

std::shared_ptr<detail::LineServerState> make_state(std::vector<boost::asio::io_context*> contexts,
                                                    LineServerOptions options) {
  CHIRON_CHECK(!contexts.empty(), "LineServer needs at least one io_context");
  for (auto* c : contexts) CHIRON_CHECK(c != nullptr, "null io_context");
  auto state = std::make_shared<detail::LineServerState>();
  state->contexts = std::move(contexts);
  state->options = std::move(options);
  return state;
}

}  // namespace

LineServer::LineServer(std::vector<boost::asio::io_context*> contexts, LineServerOptions options, LineHandler handler)
    : state_(make_state(std::move(contexts), std::move(options))) {
  CHIRON_CHECK(static_cast<bool>(handler), "LineServer needs a handler");
  state_->sync_handler = std::move(handler);
}

LineServer::LineServer(std::vector<boost::asio::io_context*> contexts, LineServerOptions options,
                       LineAsyncHandler handler)
    : state_(make_state(std::move(contexts), std::move(options))) {
  CHIRON_CHECK(static_cast<bool>(handler), "LineServer needs a handler");
  state_->async_handler = std::move(handler);
}

LineServer::~LineServer() { stop(); }

Status LineServer::start() {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  CHIRON_CHECK(!state_->started.exchange(true), "LineServer::start() called twice");
  const std::string where = "line server listen " + state_->options.address + ":" + std::to_string(state_->options.port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(state_->options.address, ec);
  if (ec) return Status::invalid_argument("bad address '" + state_->options.address + "'").context(where);
  const tcp::endpoint endpoint(address, state_->options.port);
  auto acceptor = std::make_shared<detail::LineAcceptor>(state_);
  tcp::acceptor& a = acceptor->acceptor;
  if (a.open(endpoint.protocol(), ec); ec) return Status::io_error(ec.message()).context(where);
  if (a.set_option(tcp::acceptor::reuse_address(true), ec); ec) return Status::io_error(ec.message()).context(where);
  if (a.bind(endpoint, ec); ec) return Status::io_error(ec.message()).context(where);
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return Status::io_error(ec.message()).context(where);
  state_->port.store(a.local_endpoint(ec).port());
  acceptor_ = acceptor;
  log::info("line", "listening", {{"addr", state_->options.address + ":" + std::to_string(state_->port.load())}});
  asio::post(*state_->contexts[0], [acceptor] { acceptor->accept(); });
  return Status();
}

uint16_t LineServer::port() const { return state_->port.load(); }

size_t LineServer::connection_count() const { return state_->connection_count.load(); }

void LineServer::stop() {
  if (!state_ || state_->stopping.exchange(true)) return;
  if (acceptor_) {
    boost::asio::post(*state_->contexts[0], [acceptor = std::move(acceptor_)] {
      boost::system::error_code ec;
      acceptor->acceptor.close(ec);
      acceptor->retry_timer.cancel();
    });
  }
  std::vector<std::shared_ptr<detail::LineConnection>> conns;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (auto& [id, weak] : state_->live)
      if (auto c = weak.lock()) conns.push_back(std::move(c));
  }
  for (auto& c : conns) boost::asio::post(c->executor(), [c] { c->drain(); });
}

}  // namespace chiron::net
