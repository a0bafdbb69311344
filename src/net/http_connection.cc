// One HTTP/1.1 connection: read → parse → route → write, strictly in order.
// Loop-confined to its context; Responders post back to it from other threads.
// Lifetime: shared_ptr, because the connection lives as long as its pending
// socket operations and any outstanding Responder, not as long as any owner.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <type_traits>

#include "common/log.h"
#include "common/strings.h"
#include "net/http_gzip.h"
#include "net/http_response_writer.h"
#include "net/http_server_state.h"
#include "net/mime.h"
#include "net/websocket_session.h"

namespace chiron::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kInitialReadBuffer = 8 * 1024;
constexpr size_t kMinReadSpace = 2 * 1024;
constexpr size_t kInlineBodyBytes = 16 * 1024;   // smaller bodies are copied behind the head
constexpr size_t kFileChunkBytes = 64 * 1024;
constexpr size_t kMaxLingerBytes = 1 << 20;
constexpr uint32_t kLingerMs = 2000;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Whether a comma-separated header value contains token (case-insensitive).
bool has_token(std::optional<std::string_view> value, std::string_view token) {
  if (!value) return false;
  for (std::string_view t : split(*value, ','))
    if (iequals(trim(t), token)) return true;
  return false;
}

// RFC 6455 §4.1: the key is base64 of 16 bytes, i.e. 22 base64 characters and "==".
bool valid_websocket_key(std::string_view key) {
  key = trim(key);
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  }
  // The 22nd character carries only 2 significant bits; the rest must be 0.
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(key[21]) & 0x0f) == 0;
}

}  // namespace

template <class Stream>
class HttpConnection final : public HttpConnectionBase,
                             public ResponseSink,
                             public std::enable_shared_from_this<HttpConnection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

 public:
  HttpConnection(std::shared_ptr<HttpServerState> server, HttpContextSlot& slot, tcp::socket socket)
      : server_(std::move(server)), slot_(slot), stream_(make_stream(std::move(socket))),
        parser_(server_->options.limits) {}

  ~HttpConnection() override {
    // Normally close() or the hand-off already unregistered us; only a
    // context torn down with our operations pending gets here registered.
    if (phase_ != Phase::kClosed && phase_ != Phase::kHandedOff) slot_.connections.erase(this);
    close_file();
    server_->connection_gone();
  }

  void start() {
    slot_.connections.insert(this);
    error_code ec;
    auto ep = beast_lowest().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    in_.resize(kInitialReadBuffer);
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      set_deadline(server_->options.read_timeout_ms);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](error_code e) {
        if (self->phase_ == Phase::kClosed) return;
        if (e) return self->close();
        self->read_next();
      });
    } else {
      read_next();
    }
  }

  void on_sweep(SteadyClock::time_point now) override {
    if (phase_ == Phase::kClosed || phase_ == Phase::kHandedOff || now < deadline_) return;
    if (phase_ == Phase::kHandling) {
      // The handler missed its deadline: answer for it; its token goes stale.
      ++token_;
      awaiting_ = false;
      write_response(Response::error(504, "deadline_exceeded", "the handler did not answer in time"), false);
      return;
    }
    close();
  }

  void on_server_stop() override {
    if (phase_ == Phase::kHandshake || (phase_ == Phase::kReading && !parser_.started())) {
      close();
      return;
    }
    keep_alive_ = false;  // the current response goes out with "Connection: close"
  }

  // Any thread. The first answer for the current token wins.
  void deliver(uint64_t token, Response&& response) override {
    if (slot_.ctx.get_executor().running_in_this_thread()) {
      on_response(token, std::move(response));
      return;
    }
    asio::post(slot_.ctx, [self = this->shared_from_this(), token, r = std::move(response)]() mutable {
      self->on_response(token, std::move(r));
    });
  }

 private:
  enum class Phase { kHandshake, kReading, kHandling, kWriting, kLingering, kClosed, kHandedOff };

  Stream make_stream(tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *server_->tls);
    } else {
      return socket;
    }
  }
  tcp::socket& beast_lowest() { return boost::beast::get_lowest_layer(stream_); }

  void set_deadline(uint32_t ms) { deadline_ = SteadyClock::now() + std::chrono::milliseconds(ms); }

  // Parses what is buffered; reads more only when the parser needs it.
  void read_next() {
    phase_ = Phase::kReading;
    if (in_begin_ < in_end_) {
      size_t n = parser_.feed(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_));
      in_begin_ += n;
      if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    }
    switch (parser_.state()) {
      case HttpRequestParser::State::kDone:
        return on_request();
      case HttpRequestParser::State::kError:
        return on_parse_error();
      case HttpRequestParser::State::kHeaderDone:
        if (parser_.expects_continue() && !continue_sent_) return send_continue();
        break;
      case HttpRequestParser::State::kNeedMore:
        break;
    }
    if (!parser_.started()) {
      if (server_->stopping.load(std::memory_order_relaxed)) return close();
      set_deadline(server_->options.idle_timeout_ms);
    } else if (!request_started_) {
      request_started_ = true;
      set_deadline(server_->options.read_timeout_ms);
    }
    if (in_.size() - in_end_ < kMinReadSpace) {
      if (in_begin_ > 0) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
      }
      if (in_.size() - in_end_ < kMinReadSpace) {
        // The parser holds back an incomplete header; it reports 431 before
        // the buffer passes the limit, so this growth is bounded.
        in_.resize(std::max(in_.size() * 2, in_end_ + kMinReadSpace));
      }
    }
    stream_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                            [self = this->shared_from_this()](error_code ec, size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, size_t n) {
    if (phase_ != Phase::kReading) return;
    if (ec) return close();  // EOF mid-request included: nobody is left to answer
    in_end_ += n;
    read_next();
  }

  void send_continue() {
    continue_sent_ = true;
    phase_ = Phase::kWriting;
    set_deadline(server_->options.write_timeout_ms);
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) return self->close();
                        self->read_next();
                      });
  }

  void on_parse_error() {
    head_ = false;
    keep_alive_ = false;
    write_response(Response::error(parser_.error_status(), parser_.error_code(), parser_.error_message()), true);
  }

  void on_request() {
    keep_alive_ = parser_.keep_alive();
    Request req = parser_.take_request();
    req.remote_address = remote_;
    request_started_ = false;
    continue_sent_ = false;
    head_ = req.method == "HEAD";
    version_ = req.version;
    accept_gzip_ = false;
    if (server_->options.gzip) {
      auto ae = req.headers.get("Accept-Encoding");
      accept_gzip_ = ae && ae->find("gzip") != std::string_view::npos && accepts_gzip(*ae);
    }
    phase_ = Phase::kHandling;
    awaiting_ = true;
    ++token_;
    const uint32_t handler_ms = server_->options.handler_timeout_ms;
    deadline_ = handler_ms ? SteadyClock::now() + std::chrono::milliseconds(handler_ms)
                           : SteadyClock::time_point::max();
    const Router& router = server_->router;
    RouteMatch match = router.resolve(req);
    if (match.websocket) return handle_upgrade(std::move(req), *match.websocket);
    router.run(match, std::move(req), Responder(this->shared_from_this(), token_));
  }

  void on_response(uint64_t token, Response&& response) {
    if (phase_ != Phase::kHandling || !awaiting_ || token != token_) return;
    awaiting_ = false;
    write_response(std::move(response), false);
  }

  bool open_file(const Response& r) {
    int fd = ::open(r.file_path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return false;
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint64_t length = r.file_length.value_or(size > r.file_offset ? size - r.file_offset : 0);
    if (r.file_offset > size || length > size - r.file_offset) {  // the file shrank since it was stat'ed
      ::close(fd);
      return false;
    }
    file_fd_ = fd;
    file_pos_ = r.file_offset;
    file_left_ = length;
    return true;
  }

  void close_file() {
    if (file_fd_ >= 0) ::close(file_fd_);
    file_fd_ = -1;
    file_left_ = 0;
  }

  // Reads the next chunk of the file into file_buf_; false on a read error or short file.
  bool read_file_chunk(size_t* got) {
    if (file_buf_.empty()) file_buf_.resize(kFileChunkBytes);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(file_left_, file_buf_.size()));
    ssize_t n;
    do {
      n = ::pread(file_fd_, file_buf_.data(), want, static_cast<off_t>(file_pos_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    file_pos_ += static_cast<uint64_t>(n);
    file_left_ -= static_cast<uint64_t>(n);
    *got = static_cast<size_t>(n);
    return true;
  }

  void maybe_gzip(Response& r) {
    if (!accept_gzip_ || r.status != 200 || r.body.size() < server_->options.gzip_min_bytes ||
        r.headers.has("Content-Encoding")) {
      return;
    }
    auto type = r.headers.get("Content-Type");
    if (!type || !is_compressible_type(*type)) return;
    auto gz = gzip_compress(r.body, 6);
    if (!gz.ok() || gz->size() >= r.body.size()) return;
    r.body = std::move(gz).value();
    r.headers.add("Content-Encoding", "gzip");
    r.headers.add("Vary", "Accept-Encoding");
  }

  void write_response(Response&& r, bool force_close) {
    if (r.takeover) {
      if (kTls && !head_) r = Response::error(501, "not_implemented", "streamed responses over TLS are not supported yet");
      else if (!head_ && !force_close && r.status == 200) return write_takeover_head(std::move(r));
      else r.takeover = nullptr;
    }
    phase_ = Phase::kWriting;
    force_linger_ = force_close;
    close_after_ = force_close || !keep_alive_ || server_->stopping.load(std::memory_order_relaxed) ||
                   has_token(r.headers.get("Connection"), "close");
    bool no_body = status_has_no_body(r.status);
    if (r.file_path && !no_body && !open_file(r)) {
      log::warn("http", "cannot open response file", {{"path", *r.file_path}});
      r = Response::error(404, "not_found", "file vanished");
    }
    if (file_fd_ < 0 && !no_body) maybe_gzip(r);
    ResponseHead head;
    head.content_length = file_fd_ >= 0 ? file_left_ : r.body.size();
    head.close = close_after_;
    head.keep_alive = !close_after_ && version_ == 10;
    head.server_name = server_->options.server_name;
    out_.clear();
    if (!append_response_head(out_, r, head)) {
      log::warn("http", "handler produced an invalid response head", {{"status", r.status}});
      close_file();
      r = Response::error(500, "internal", "invalid response header");
      no_body = false;
      head.content_length = r.body.size();
      (void)append_response_head(out_, r, head);
    }
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_), asio::const_buffer()};
    if (head_ || no_body) {
      close_file();
    } else if (file_fd_ >= 0) {
      size_t got = 0;
      if (file_left_ > 0 && !read_file_chunk(&got)) return close();
      bufs[1] = asio::buffer(file_buf_.data(), got);
    } else if (r.body.size() <= kInlineBodyBytes) {
      out_ += r.body;
      bufs[0] = asio::buffer(out_);
    } else {
      body_ = std::move(r.body);
      bufs[1] = asio::buffer(body_);
    }
    set_deadline(server_->options.write_timeout_ms);
    asio::async_write(stream_, bufs,
                      [self = this->shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (phase_ != Phase::kWriting) return;
    if (ec) return close();
    if (file_fd_ >= 0 && file_left_ > 0) {
      size_t got = 0;
      if (!read_file_chunk(&got)) return close();  // Content-Length promised more: cut the connection
      set_deadline(server_->options.write_timeout_ms);
      asio::async_write(stream_, asio::buffer(file_buf_.data(), got),
                        [self = this->shared_from_this()](error_code e, size_t) { self->on_write(e); });
      return;
    }
    close_file();
    if (body_.capacity() > kInlineBodyBytes * 4) {
      std::string().swap(body_);
    } else {
      body_.clear();
    }
    if (close_after_ || server_->stopping.load(std::memory_order_relaxed)) return graceful_close();
    read_next();
  }

  // A streamed response (Response::takeover): write the head, then hand the socket to its producer.
  void write_takeover_head(Response&& r) {
    phase_ = Phase::kWriting;
    ResponseHead head;
    head.chunked = version_ == 11;
    head.close = !head.chunked;
    head.server_name = server_->options.server_name;
    out_.clear();
    if (!append_response_head(out_, r, head)) {
      log::warn("http", "handler produced an invalid streamed response head", {{"status", r.status}});
      return write_response(Response::error(500, "internal", "invalid response header"), false);
    }
    takeover_ = std::move(r.takeover);
    set_deadline(server_->options.write_timeout_ms);
    asio::async_write(stream_, asio::buffer(out_), [self = this->shared_from_this()](error_code ec, size_t) {
      self->on_takeover_head_written(ec);
    });
  }

  void on_takeover_head_written(error_code ec) {
    if (phase_ != Phase::kWriting) return;
    if (ec) return close();
    if constexpr (!kTls) {
      phase_ = Phase::kHandedOff;
      slot_.connections.erase(this);
      TakeoverFn fn = std::move(takeover_);
      error_code rec;
      const int fd = stream_.release(rec);
      if (rec) {
        log::warn("http", "cannot release a socket for a streamed response", {{"error", rec.message()}});
        return;
      }
      fn(slot_.ctx, fd, version_ == 11);
    }
  }

  // RFC 6455 §4.2: validate the opening handshake, answer 101, hand the socket over.
  void handle_upgrade(Request req, const WebSocketRoute& route) {
    auto fail = [&](int status, std::string_view code, std::string_view message) {
      Response r = Response::error(status, code, message);
      if (status == 426) {
        r.headers.add("Upgrade", "websocket");
        r.headers.add("Sec-WebSocket-Version", "13");
      }
      awaiting_ = false;
      write_response(std::move(r), false);
    };
    if constexpr (kTls) {
      return fail(501, "not_implemented", "WebSocket over TLS is not supported yet");
    } else {
      if (req.method != "GET" || req.version != 11) return fail(400, "bad_request", "a WebSocket handshake is an HTTP/1.1 GET");
      if (!has_token(req.headers.get("Upgrade"), "websocket") || !has_token(req.headers.get("Connection"), "upgrade"))
        return fail(426, "upgrade_required", "this endpoint speaks WebSocket only");
      if (trim(req.headers.get("Sec-WebSocket-Version").value_or("")) != "13")
        return fail(426, "upgrade_required", "unsupported Sec-WebSocket-Version");
      auto key = req.headers.get("Sec-WebSocket-Key");
      if (!key || !valid_websocket_key(*key)) return fail(400, "bad_request", "bad Sec-WebSocket-Key");
      if (route.handlers.on_handshake) {
        if (std::optional<Response> refused = route.handlers.on_handshake(req)) {
          awaiting_ = false;
          write_response(std::move(*refused), false);
          return;
        }
      }
      out_.clear();
      out_ += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
      out_ += websocket_accept_key(trim(*key));
      out_ += "\r\n\r\n";
      upgrade_request_ = std::move(req);
      ws_route_ = &route;
      phase_ = Phase::kWriting;
      awaiting_ = false;
      set_deadline(server_->options.write_timeout_ms);
      asio::async_write(stream_, asio::buffer(out_), [self = this->shared_from_this()](error_code ec, size_t) {
        self->on_upgrade_written(ec);
      });
    }
  }

  void on_upgrade_written(error_code ec) {
    if (phase_ != Phase::kWriting) return;
    if (ec) return close();
    if constexpr (!kTls) {
      phase_ = Phase::kHandedOff;
      slot_.connections.erase(this);
      std::string leftover(in_.data() + in_begin_, in_end_ - in_begin_);
      in_begin_ = in_end_ = 0;
      start_websocket_session(std::move(stream_), std::move(leftover), std::move(*upgrade_request_),
                              ws_route_->handlers, ws_route_->options);
    }
  }

  // Half-close and drain what the client still sends, so our last response
  // is not destroyed by a RST (RFC 9112 §9.6).
  // Lingering is needed only when the client may still be sending (an error
  // answered mid-request, pipelined bytes); otherwise close() sends a clean FIN.
  void graceful_close() {
    phase_ = Phase::kLingering;
    set_deadline(std::min(kLingerMs, server_->options.read_timeout_ms));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
    } else {
      error_code ec;
      const bool unread = force_linger_ || in_begin_ < in_end_ || stream_.available(ec) > 0;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
      if (ec || !unread) return close();
      linger_read();
    }
  }

  void linger_read() {
    if constexpr (!kTls) {
      stream_.async_read_some(asio::buffer(in_.data(), in_.size()),
                              [self = this->shared_from_this()](error_code ec, size_t n) {
                                if (self->phase_ != Phase::kLingering) return;
                                self->lingered_ += n;
                                if (ec || self->lingered_ > kMaxLingerBytes) return self->close();
                                self->linger_read();
                              });
    }
  }

  void close() {
    if (phase_ == Phase::kClosed || phase_ == Phase::kHandedOff) return;
    phase_ = Phase::kClosed;
    error_code ec;
    beast_lowest().close(ec);
    slot_.connections.erase(this);
    close_file();
  }

  std::shared_ptr<HttpServerState> server_;
  HttpContextSlot& slot_;
  Stream stream_;
  std::string remote_;
  HttpRequestParser parser_;
  std::vector<char> in_;  // bytes read and not yet parsed live in [in_begin_, in_end_)
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::string out_;   // head (+ small body) of the response being written; capacity reused
  std::string body_;  // a large body, written right behind out_
  int file_fd_ = -1;
  uint64_t file_pos_ = 0;
  uint64_t file_left_ = 0;
  std::vector<char> file_buf_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  Phase phase_ = Phase::kReading;
  uint64_t token_ = 0;
  bool awaiting_ = false;
  bool head_ = false;
  bool keep_alive_ = false;
  bool close_after_ = false;
  bool accept_gzip_ = false;
  bool continue_sent_ = false;
  bool request_started_ = false;
  bool force_linger_ = false;
  int version_ = 11;
  size_t lingered_ = 0;
  std::optional<Request> upgrade_request_;
  const WebSocketRoute* ws_route_ = nullptr;
  TakeoverFn takeover_;
};

void start_http_connection(std::shared_ptr<HttpServerState> state, HttpContextSlot& slot, tcp::socket socket) {
  if (state->tls) {
    auto c = std::make_shared<HttpConnection<boost::beast::ssl_stream<tcp::socket>>>(std::move(state), slot,
                                                                                        std::move(socket));
    c->start();
  } else {
    auto c = std::make_shared<HttpConnection<tcp::socket>>(std::move(state), slot, std::move(socket));
    c->start();
  }
}

}  // namespace chiron::net::detail
