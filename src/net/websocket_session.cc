// One WebSocket connection on a raw TCP socket (RFC 6455), after the HTTP
// server has answered the upgrade with 101.
//
// Why not beast::websocket: we want to write one pre-encoded SharedFrame to
// many sockets. A server frame is unmasked (§5.1), so its bytes are the same
// for every receiver; the send queue holds SharedFrame references and the
// gathered write points iovecs straight at the shared buffers.
//
// Threading: every member below is confined to the socket's executor except
// accepting_ and queued_bytes_ (atomics read by send() from any thread).
// send()/close() dispatch onto the executor. Callbacks run only from
// completion handlers, never nested inside send()/close(), so a handler may
// broadcast to a room while another member of that room is being closed.
//
// Lifetime: the session is owned by shared_ptr because it must outlive the
// last pending read/write/timer, which hold a reference, as do users keeping
// a WebSocketPtr (rooms, subscriptions). report_close() drops the handlers so
// lambdas capturing a WebSocketPtr do not keep the session alive in a cycle.
//
// Closing (§7): close() or a protocol error queues a close frame; once it is
// written and the peer's close has arrived (or we are failing the
// connection, §7.1.7) the session reports on_close, shuts down its sending
// side and drains reads until EOF ("lingering"), so the peer sees our close
// frame instead of a reset. Every waiting phase has a deadline. A send-queue
// overflow drops the unsent frames and fails the connection with 1008; if the
// frames already being written do not drain within kOverflowGrace (the peer
// really stopped reading) the socket is closed without the close frame.

#include "net/websocket_session.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "common/ids.h"
#include "common/log.h"
#include "net/websocket_frame.h"
#include "net/websocket_testing.h"

namespace chiron::net::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// How long we wait for the peer's close frame, and then for its EOF.
constexpr std::chrono::milliseconds kCloseHandshakeTimeout{5000};
constexpr std::chrono::milliseconds kLingerTimeout{2000};
// After a send-queue overflow: how long the frames already being written get to
// drain so the client still receives our 1008 close frame.
constexpr std::chrono::milliseconds kOverflowGrace{1000};
constexpr size_t kReadChunkBytes = 64 * 1024;

// One receive buffer per thread, not per socket: a session waits for readability and then reads
// into this buffer, and the frame parser keeps whatever partial frame remains. An idle socket
// so holds no receive buffer at all (10k idle chat clients, issue 4).
char* thread_read_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[kReadChunkBytes]);
  return buf.get();
}

IdGenerator g_session_ids;

std::atomic<bool> g_has_observer{false};
std::mutex g_observer_mu;
WsWriteObserver g_observer;  // Guarded by g_observer_mu

void notify_observer(uint64_t id, const std::vector<asio::const_buffer>& bufs) {
  if (!g_has_observer.load(std::memory_order_relaxed)) return;
  std::vector<std::string_view> views;
  views.reserve(bufs.size());
  for (const auto& b : bufs) views.emplace_back(static_cast<const char*>(b.data()), b.size());
  std::lock_guard<std::mutex> lock(g_observer_mu);
  if (g_observer) g_observer(id, views);
}

const SharedFrame& empty_ping() {
  static const SharedFrame frame = SharedFrame::ping("");
  return frame;
}

class WsSession final : public WebSocket, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(asio::ip::tcp::socket socket, std::string already_read, Request request, WsHandlers handlers,
            WsOptions options)
      : socket_(std::move(socket)),
        executor_(socket_.get_executor()),
        pending_input_(std::move(already_read)),
        request_(std::make_unique<Request>(std::move(request))),
        handlers_(std::move(handlers)),
        options_(options),
        id_(g_session_ids.next()),
        remote_(request_->remote_address),
        parser_(WsParserLimits{options.max_message_bytes}),
        ping_timer_(executor_),
        deadline_timer_(executor_) {}

  void start();
  const asio::any_io_executor& executor() const { return executor_; }

  bool send(SharedFrame frame) override;
  bool send_text(std::string_view payload) override { return send(SharedFrame::text(payload)); }
  void close(uint16_t code, std::string_view reason) override;
  uint64_t id() const override { return id_; }
  const std::string& remote_address() const override { return remote_; }
  size_t queued_bytes() const override { return queued_bytes_.load(std::memory_order_relaxed); }

 private:
  enum class State { kOpen, kClosing, kLingering, kClosed };

  void read_more();
  void on_readable(const error_code& ec);
  void on_read(const error_code& ec, std::string_view data);
  void consume(std::string_view data);
  void handle_event(WsEvent&& ev);

  // Appends a frame whose bytes are already counted in queued_bytes_.
  void enqueue(SharedFrame frame, bool is_close);
  // Counts and appends a frame we generate ourselves (ping, pong); false on overflow.
  bool enqueue_own(SharedFrame frame);
  void flush();
  void on_written(const error_code& ec);
  void overflow();
  void on_overflow();

  void begin_close(uint16_t code, std::string reason, bool fail);
  void on_peer_close(uint16_t code, std::string reason);
  void linger();
  void terminate(uint16_t code, std::string_view reason);
  void report_close(uint16_t code, std::string_view reason);

  void arm_deadline();
  void on_deadline(const error_code& ec);
  void arm_ping();

  asio::ip::tcp::socket socket_;
  const asio::any_io_executor executor_;
  std::string pending_input_;
  std::unique_ptr<Request> request_;  // until on_open (freed then: idle sockets are small)
  WsHandlers handlers_;
  const WsOptions options_;
  const uint64_t id_;
  std::string remote_;
  WsFrameParser parser_;

  State state_ = State::kOpen;
  std::atomic<bool> accepting_{true};     // send() may queue; false once closing
  std::atomic<size_t> queued_bytes_{0};   // reserved by send(), released when written or dropped

  std::vector<SharedFrame> queue_;     // waiting for the next write
  std::vector<SharedFrame> inflight_;  // being written (keeps the buffers alive)
  std::vector<asio::const_buffer> write_bufs_;
  size_t inflight_bytes_ = 0;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool close_queued_ = false;    // the close frame is the last entry of queue_
  bool close_inflight_ = false;  // ... of inflight_
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool failing_ = false;
  bool reported_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;

  asio::steady_timer ping_timer_;
  asio::steady_timer deadline_timer_;
  SteadyTime last_rx_;
  SteadyTime close_deadline_;
};

void WsSession::start() {
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // reads happen after a readiness wait (read_more)
  if (remote_.empty()) {
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  last_rx_ = std::chrono::steady_clock::now();
  if (handlers_.on_open) handlers_.on_open(shared_from_this(), *request_);
  request_.reset();
  if (state_ == State::kClosed) return;
  consume(std::exchange(pending_input_, {}));
  if (state_ == State::kClosed) return;
  read_more();
  arm_ping();
  arm_deadline();
}

bool WsSession::send(SharedFrame frame) {
  if (frame.empty() || !accepting_.load(std::memory_order_acquire)) return false;
  // Reserve before queueing, from any thread, so frames still travelling through
  // the executor's queue also count against the cap.
  const size_t size = frame.size();
  const size_t before = queued_bytes_.fetch_add(size, std::memory_order_relaxed);
  if (before + size > options_.max_send_queue_bytes) {
    queued_bytes_.fetch_sub(size, std::memory_order_relaxed);
    overflow();
    return false;
  }
  asio::dispatch(executor_, [self = shared_from_this(), f = std::move(frame)]() mutable {
    self->enqueue(std::move(f), false);
  });
  return true;
}

void WsSession::close(uint16_t code, std::string_view reason) {
  asio::dispatch(executor_, [self = shared_from_this(), code, r = std::string(reason)]() mutable {
    self->begin_close(code, std::move(r), false);
  });
}

void WsSession::overflow() {
  // Deferred: overflow is detected inside send(), possibly in a broadcast loop.
  if (!accepting_.exchange(false)) return;
  asio::post(executor_, [self = shared_from_this()] { self->on_overflow(); });
}

void WsSession::on_overflow() {
  if (state_ != State::kOpen) return;
  // Frames not yet handed to the socket are dropped; the write in flight holds
  // whole frames, so our close frame can follow it and the stream stays valid.
  size_t dropped = 0;
  for (const SharedFrame& f : queue_) dropped += f.size();
  queue_.clear();
  queued_bytes_.fetch_sub(dropped, std::memory_order_relaxed);
  begin_close(kWsPolicyViolation, "send queue overflow", /*fail=*/true);
  // A consumer that does not read will not take the close frame either: give up soon.
  close_deadline_ = std::chrono::steady_clock::now() + kOverflowGrace;
  arm_deadline();
}

void WsSession::read_more() {
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->on_readable(ec); });
}

void WsSession::on_readable(const error_code& ec) {
  if (ec) return on_read(ec, {});
  char* buf = thread_read_buffer();
  error_code read_ec;
  const size_t n = socket_.read_some(asio::buffer(buf, kReadChunkBytes), read_ec);  // non-blocking socket
  if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
    if (state_ != State::kClosed) read_more();
    return;
  }
  on_read(read_ec, std::string_view(buf, n));
}

void WsSession::on_read(const error_code& ec, std::string_view data) {
  if (state_ == State::kClosed) return;
  if (ec) {
    if (state_ == State::kOpen) {
      terminate(1006, ec == asio::error::eof ? "connection closed without a close frame" : ec.message());
    } else {
      terminate(close_code_, close_reason_);
    }
    return;
  }
  last_rx_ = std::chrono::steady_clock::now();
  if (state_ != State::kLingering) consume(data);
  if (state_ != State::kClosed) read_more();
}

void WsSession::consume(std::string_view data) {
  while (!data.empty() && !parser_.failed() && (state_ == State::kOpen || state_ == State::kClosing)) {
    std::optional<WsEvent> ev;
    const size_t used = parser_.parse(data, ev);
    data.remove_prefix(used);
    if (ev) handle_event(std::move(*ev));
    if (used == 0 && !ev) break;
  }
}

void WsSession::handle_event(WsEvent&& ev) {
  switch (ev.kind) {
    case WsEvent::Kind::kMessage:
      // §7.1.2: after our close frame we no longer deliver data.
      if (state_ == State::kOpen && handlers_.on_message)
        handlers_.on_message(shared_from_this(), WsMessage{ev.opcode, std::move(ev.payload)});
      break;
    case WsEvent::Kind::kPing:
      // §5.5.2: answer with a pong carrying the same payload.
      if (state_ == State::kOpen && !enqueue_own(SharedFrame::pong(ev.payload))) overflow();
      break;
    case WsEvent::Kind::kPong:
      break;  // any received byte already refreshed last_rx_
    case WsEvent::Kind::kClose:
      on_peer_close(ev.code, std::move(ev.payload));
      break;
    case WsEvent::Kind::kError:
      begin_close(ev.code, std::move(ev.payload), true);
      break;
  }
}

bool WsSession::enqueue_own(SharedFrame frame) {
  const size_t size = frame.size();
  if (queued_bytes_.load(std::memory_order_relaxed) + size > options_.max_send_queue_bytes) return false;
  queued_bytes_.fetch_add(size, std::memory_order_relaxed);
  enqueue(std::move(frame), false);
  return true;
}

void WsSession::enqueue(SharedFrame frame, bool is_close) {
  // §5.5.1: after the close frame nothing else may be sent.
  if (state_ == State::kClosed || state_ == State::kLingering || close_queued_ || close_inflight_ || close_sent_ ||
      (!is_close && state_ != State::kOpen)) {
    queued_bytes_.fetch_sub(frame.size(), std::memory_order_relaxed);
    return;
  }
  queue_.push_back(std::move(frame));
  if (is_close) close_queued_ = true;
  // Everything queued before the posted flush runs goes out in one gathered write.
  if (!writing_ && !flush_posted_) {
    flush_posted_ = true;
    asio::post(executor_, [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush();
    });
  }
}

void WsSession::flush() {
  if (writing_ || queue_.empty() || state_ == State::kClosed || state_ == State::kLingering) return;
  inflight_.swap(queue_);
  write_bufs_.clear();
  inflight_bytes_ = 0;
  for (const SharedFrame& f : inflight_) {
    write_bufs_.emplace_back(f.bytes().data(), f.size());
    inflight_bytes_ += f.size();
  }
  close_inflight_ = std::exchange(close_queued_, false);
  writing_ = true;
  notify_observer(id_, write_bufs_);
  asio::async_write(socket_, write_bufs_,
                    [self = shared_from_this()](const error_code& ec, size_t) { self->on_written(ec); });
}

void WsSession::on_written(const error_code& ec) {
  writing_ = false;
  queued_bytes_.fetch_sub(inflight_bytes_, std::memory_order_relaxed);
  inflight_bytes_ = 0;
  inflight_.clear();
  if (state_ == State::kClosed) return;
  if (ec) {
    terminate(state_ == State::kOpen ? 1006 : close_code_, state_ == State::kOpen ? ec.message() : close_reason_);
    return;
  }
  if (std::exchange(close_inflight_, false)) {
    close_sent_ = true;
    if (peer_closed_ || failing_) {
      linger();
      return;
    }
  }
  flush();
}

void WsSession::begin_close(uint16_t code, std::string reason, bool fail) {
  if (state_ != State::kOpen) {
    // A protocol error while waiting for the peer's close: stop waiting.
    if (fail && state_ == State::kClosing) {
      failing_ = true;
      if (close_sent_) linger();
    }
    return;
  }
  state_ = State::kClosing;
  accepting_.store(false, std::memory_order_release);
  close_code_ = code;
  close_reason_ = std::move(reason);
  failing_ = fail;
  log::debug("ws", "closing", {{"id", id_}, {"remote", remote_}, {"code", code}, {"reason", close_reason_}});
  SharedFrame frame = SharedFrame::close(code, close_reason_);
  queued_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
  enqueue(std::move(frame), true);
  close_deadline_ = std::chrono::steady_clock::now() + kCloseHandshakeTimeout;
  arm_deadline();
}

void WsSession::on_peer_close(uint16_t code, std::string reason) {
  peer_closed_ = true;
  if (state_ == State::kOpen) {
    // §5.5.1: echo the status code. 1005 means the peer sent none; we answer 1000.
    state_ = State::kClosing;
    accepting_.store(false, std::memory_order_release);
    close_code_ = code;
    close_reason_ = std::move(reason);
    SharedFrame frame = SharedFrame::close(code == 1005 ? kWsNormalClosure : code, "");
    queued_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
    enqueue(std::move(frame), true);
    close_deadline_ = std::chrono::steady_clock::now() + kCloseHandshakeTimeout;
    arm_deadline();
  } else if (close_sent_) {
    linger();
  }
}

void WsSession::linger() {
  if (state_ == State::kLingering || state_ == State::kClosed) return;
  state_ = State::kLingering;
  report_close(close_code_, close_reason_);
  // §7.1.1: the server closes the TCP connection first; half-close, then read until EOF.
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  close_deadline_ = std::chrono::steady_clock::now() + kLingerTimeout;
  arm_deadline();
}

void WsSession::terminate(uint16_t code, std::string_view reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  accepting_.store(false, std::memory_order_release);
  error_code ec;
  socket_.close(ec);
  ping_timer_.cancel();
  deadline_timer_.cancel();
  // The in-flight buffers stay alive in inflight_ until the aborted write completes,
  // but they no longer count: nothing of this connection is queued any more.
  size_t dropped = std::exchange(inflight_bytes_, 0);
  for (const SharedFrame& f : queue_) dropped += f.size();
  queue_.clear();
  queued_bytes_.fetch_sub(dropped, std::memory_order_relaxed);
  report_close(code, reason);
}

void WsSession::report_close(uint16_t code, std::string_view reason) {
  if (std::exchange(reported_, true)) return;
  log::debug("ws", "closed", {{"id", id_}, {"remote", remote_}, {"code", code}, {"reason", reason}});
  WsHandlers handlers = std::move(handlers_);
  handlers_ = {};
  if (handlers.on_close) handlers.on_close(shared_from_this(), code, reason);
}

void WsSession::arm_deadline() {
  SteadyTime at;
  if (state_ == State::kOpen) {
    if (options_.idle_timeout_ms == 0) return;
    at = last_rx_ + std::chrono::milliseconds(options_.idle_timeout_ms);
  } else if (state_ == State::kClosed) {
    return;
  } else {
    at = close_deadline_;
  }
  deadline_timer_.expires_at(at);
  deadline_timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_deadline(ec); });
}

void WsSession::on_deadline(const error_code& ec) {
  if (ec == asio::error::operation_aborted || state_ == State::kClosed) return;
  const SteadyTime now = std::chrono::steady_clock::now();
  if (state_ == State::kOpen) {
    // Re-armed lazily: reads only move last_rx_, the timer catches up here.
    if (now - last_rx_ >= std::chrono::milliseconds(options_.idle_timeout_ms)) {
      begin_close(kWsGoingAway, "idle timeout", false);
    } else {
      arm_deadline();
    }
    return;
  }
  if (now >= close_deadline_) {
    terminate(close_code_, close_reason_);
  } else {
    arm_deadline();
  }
}

void WsSession::arm_ping() {
  if (options_.ping_interval_ms == 0) return;
  ping_timer_.expires_after(std::chrono::milliseconds(options_.ping_interval_ms));
  ping_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->state_ != State::kOpen) return;
    // One shared empty ping for every connection (a pong to it refreshes last_rx_).
    if (!self->enqueue_own(empty_ping())) {
      self->overflow();
      return;
    }
    self->arm_ping();
  });
}

}  // namespace

void set_ws_write_observer(WsWriteObserver observer) {
  std::lock_guard<std::mutex> lock(g_observer_mu);
  g_has_observer.store(static_cast<bool>(observer), std::memory_order_relaxed);
  g_observer = std::move(observer);
}

void start_websocket_session(asio::ip::tcp::socket socket, std::string already_read, Request request,
                             WsHandlers handlers, WsOptions options) {
  auto session = std::make_shared<WsSession>(std::move(socket), std::move(already_read), std::move(request),
                                             std::move(handlers), options);
  // Posted, so on_open never runs inside the HTTP server's own completion handler.
  asio::post(session->executor(), [session] { session->start(); });
}

}  // namespace chiron::net::detail
