// Redis publisher and subscriber connections; see redis_client.h for the contract.
//
// Both share RedisConnection: resolve + connect with a timeout, a read loop feeding
// hiredis' redisReader, a coalescing writer (bytes appended during one loop turn go out in
// one async_write), and reconnection with exponential backoff. Every Asio handler carries
// the connection generation it was started for; handlers of an older generation (a closed
// socket) do nothing, so a close never races with a reconnect.

#include "chat/redis_client.h"

#include <algorithm>
#include <chrono>
#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>

#include "common/log.h"
#include "net/resp.h"

namespace chiron::chat {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr size_t kMaxArgsPerSubscribe = 512;

RedisValue to_value(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING: v.type = RedisValue::Type::kString; break;
    case REDIS_REPLY_STATUS: v.type = RedisValue::Type::kStatus; break;
    case REDIS_REPLY_ERROR: v.type = RedisValue::Type::kError; break;
    case REDIS_REPLY_INTEGER: v.type = RedisValue::Type::kInteger; v.integer = r->integer; return v;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(to_value(r->element[i]));
      return v;
    default: return v;  // REDIS_REPLY_NIL
  }
  if (r->str != nullptr) v.str.assign(r->str, r->len);
  return v;
}

struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
using ReaderPtr = std::unique_ptr<redisReader, ReaderDeleter>;

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses 1..max_digits decimal digits into [lo, hi].
std::optional<int64_t> parse_number(std::string_view s, size_t max_digits, int64_t lo, int64_t hi) {
  if (!is_digits(s) || s.size() > max_digits) return std::nullopt;
  int64_t n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool is_subscribe_mode_command(std::string_view name) {
  for (std::string_view c : {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
                             "sunsubscribe", "monitor"}) {
    if (name.size() == c.size() && starts_with_nocase(name, c)) return true;
  }
  return false;
}

}  // namespace

// Redis URI scheme: https://www.iana.org/assignments/uri-schemes/prov/redis (RFC 3986 syntax).
Result<RedisOptions> parse_redis_url(std::string_view url) {
  auto bad = [](std::string why) { return Status::invalid_argument("redis url: " + why); };
  if (url.size() > 1024) return bad("too long");
  if (starts_with_nocase(url, "rediss://")) {
    return Status::unimplemented("redis url: rediss:// (TLS) is not supported");
  }
  if (!starts_with_nocase(url, "redis://")) return bad("expected redis://host:port");
  std::string_view rest = url.substr(8);
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("query and fragment are not supported");
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (authority.find('@') != std::string_view::npos) {
    return bad("user:password@ is not supported (no AUTH); use a Redis without requirepass on a trusted network");
  }
  RedisOptions options;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    std::string_view host = authority.substr(1, close - 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) return bad("bad IPv6 host");
    options.host = std::string(host);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after ]");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (host.empty()) return bad("missing host");
    if (host.size() > 253 || !std::all_of(host.begin(), host.end(), is_host_char)) return bad("bad host");
    options.host = std::string(host);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  if (!port.empty()) {
    auto n = parse_number(port, 5, 1, 65535);
    if (!n) return bad("port must be 1..65535");
    options.port = static_cast<uint16_t>(*n);
  }
  if (!path.empty()) {
    auto n = parse_number(path, 5, 0, 65535);
    if (!n) return bad("path must be a database number (/0, /1, ...)");
    options.db = static_cast<int>(*n);
  }
  return options;
}

// Loop-confined: all members are touched only on io_.
class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  RedisConnection(asio::io_context& io, RedisOptions options, std::string_view name)
      : io_(io), options_(std::move(options)), name_(name), socket_(io), resolver_(io),
        timer_(io), rng_(std::random_device{}()) {}
  virtual ~RedisConnection() = default;

  void set_state_callback(RedisStateCallback cb) { on_state_ = std::move(cb); }

  void post_start() {
    asio::post(io_, [self = shared_from_this()] {
      if (self->phase_ != Phase::kIdle) return;
      self->connect();
    });
  }
  // Runs stop_now() on io_ and returns when it has run: inline on the loop thread or when
  // no thread runs the loop; otherwise posts and waits.
  void stop_and_wait() {
    if (io_.get_executor().running_in_this_thread() || io_.stopped()) return stop_now();
    // Whoever claims first runs stop_now(): the posted handler, or this thread if the loop
    // was stopped before getting to it (so io.stop() racing with us cannot hang us).
    struct Shared {
      std::atomic<bool> claimed{false};
      std::promise<void> done;
    };
    auto shared = std::make_shared<Shared>();
    auto fut = shared->done.get_future();
    asio::post(io_, [self = shared_from_this(), shared] {
      if (shared->claimed.exchange(true)) return;
      self->stop_now();
      shared->done.set_value();
    });
    while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      if (io_.stopped() && !shared->claimed.exchange(true)) return stop_now();
    }
  }

 protected:
  enum class Phase { kIdle, kConnecting, kConnected, kBackoff, kStopped };

  // Hooks, called on io_.
  virtual void on_connected() = 0;
  virtual void on_reply(RedisValue value) = 0;
  virtual void on_lost(const Status& why) = 0;  // connection closed or attempt failed

  bool connected() const { return phase_ == Phase::kConnected; }
  Phase phase() const { return phase_; }
  const RedisOptions& options() const { return options_; }
  asio::io_context& io() { return io_; }

  // Queues encoded bytes; they are written at the end of this loop turn.
  void send(std::string_view bytes) {
    out_.append(bytes);
    if (!writing_ && !flush_posted_) {
      flush_posted_ = true;
      asio::post(io_, [self = shared_from_this(), gen = gen_] {
        self->flush_posted_ = false;
        if (gen == self->gen_) self->flush();
      });
    }
  }

  // Closes the connection because of a protocol-level problem; reconnects after backoff.
  void fail_connection(Status why) { lose(gen_, std::move(why)); }

 private:
  void stop_now() {
    if (phase_ == Phase::kStopped) return;
    const bool was_connected = phase_ == Phase::kConnected;
    phase_ = Phase::kStopped;
    close_socket();
    timer_.cancel();
    on_lost(Status::cancelled("redis " + name_ + ": stopped"));
    if (was_connected && on_state_) on_state_(false);
    on_state_ = nullptr;
  }

  void close_socket() {
    ++gen_;
    error_code ignored;
    resolver_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    out_.clear();
    writing_buf_.clear();
    writing_ = false;
    reader_.reset();
  }

  void connect() {
    phase_ = Phase::kConnecting;
    const uint64_t gen = ++gen_;
    timer_.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
    timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->gen_ || self->phase_ != Phase::kConnecting) return;
      self->lose(gen, Status::unavailable("connect timed out"));
    });
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self = shared_from_this(), gen](error_code ec, tcp::resolver::results_type results) {
          if (gen != self->gen_) return;
          if (ec) return self->lose(gen, Status::unavailable("resolve: " + ec.message()));
          asio::async_connect(self->socket_, results,
                              [self, gen](error_code ec2, const tcp::endpoint&) {
                                if (gen != self->gen_) return;
                                if (ec2) return self->lose(gen, Status::unavailable("connect: " + ec2.message()));
                                self->connected_now();
                              });
        });
  }

  void connected_now() {
    timer_.cancel();
    phase_ = Phase::kConnected;
    attempts_ = 0;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    reader_.reset(redisReaderCreate());
    log::debug("redis", "connected", {{"who", name_}, {"port", options_.port}});
    if (on_state_) on_state_(true);
    on_connected();
    read();
  }

  void read() {
    socket_.async_read_some(asio::buffer(read_buf_),
                            [self = shared_from_this(), gen = gen_](error_code ec, size_t n) {
                              if (gen != self->gen_) return;
                              if (ec) return self->lose(gen, Status::unavailable("read: " + ec.message()));
                              self->parse(gen, n);
                            });
  }

  void parse(uint64_t gen, size_t n) {
    if (redisReaderFeed(reader_.get(), read_buf_.data(), n) != REDIS_OK) {
      return lose(gen, Status::unavailable(std::string("protocol error: ") + reader_->errstr));
    }
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        return lose(gen, Status::unavailable(std::string("protocol error: ") + reader_->errstr));
      }
      if (raw == nullptr) break;
      RedisValue value = to_value(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      on_reply(std::move(value));
      if (gen != gen_) return;  // the hook closed or stopped the connection
    }
    read();
  }

  void flush() {
    if (writing_ || out_.empty() || phase_ != Phase::kConnected) return;
    writing_ = true;
    writing_buf_.swap(out_);
    asio::async_write(socket_, asio::buffer(writing_buf_),
                      [self = shared_from_this(), gen = gen_](error_code ec, size_t) {
                        if (gen != self->gen_) return;
                        if (ec) return self->lose(gen, Status::unavailable("write: " + ec.message()));
                        self->writing_ = false;
                        self->writing_buf_.clear();
                        self->flush();
                      });
  }

  void lose(uint64_t gen, Status why) {
    if (gen != gen_ || phase_ == Phase::kStopped) return;
    const bool was_connected = phase_ == Phase::kConnected;
    close_socket();
    why = std::move(why).context("redis " + name_ + " " + options_.host + ":" +
                                 std::to_string(options_.port));
    log::warn("redis", "connection lost", {{"who", name_}, {"error", why.to_string()}});
    phase_ = Phase::kBackoff;
    on_lost(why);
    if (was_connected && on_state_) on_state_(false);
    if (phase_ != Phase::kBackoff) return;  // a callback stopped us
    // Full jitter between half and all of min * 2^attempts, capped.
    const int64_t cap = std::max(options_.reconnect_max_ms, 1);
    int64_t delay = std::max(options_.reconnect_min_ms, 1);
    for (int i = 0; i < attempts_ && delay < cap; ++i) delay *= 2;
    delay = std::min(delay, cap);
    delay = std::uniform_int_distribution<int64_t>(delay / 2, delay)(rng_);
    ++attempts_;
    const uint64_t g = gen_;
    timer_.expires_after(std::chrono::milliseconds(delay));
    timer_.async_wait([self = shared_from_this(), g](error_code ec) {
      if (ec || g != self->gen_ || self->phase_ != Phase::kBackoff) return;
      self->connect();
    });
  }

  asio::io_context& io_;
  RedisOptions options_;
  std::string name_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // connect timeout, then backoff delay
  std::minstd_rand rng_;
  RedisStateCallback on_state_;
  Phase phase_ = Phase::kIdle;
  uint64_t gen_ = 0;
  int attempts_ = 0;
  ReaderPtr reader_;
  std::array<char, kReadChunkBytes> read_buf_;
  std::string out_;           // appended during this loop turn
  std::string writing_buf_;   // owned by the async_write in progress
  bool writing_ = false;
  bool flush_posted_ = false;
};

// ---------------------------------------------------------------- publisher

class RedisPublisher::Impl final : public RedisConnection {
 public:
  Impl(asio::io_context& io, RedisOptions options) : RedisConnection(io, std::move(options), "publisher") {}

  void post_command(std::vector<std::string> args, RedisCallback cb) {
    auto self = std::static_pointer_cast<Impl>(shared_from_this());
    asio::post(io(), [self, args = std::move(args), cb = std::move(cb)]() mutable {
      self->issue(args, std::move(cb));
    });
  }

 private:
  struct Pending {
    RedisCallback callback;  // empty: internal (SELECT) or fire-and-forget
    bool internal = false;
  };

  void issue(const std::vector<std::string>& args, RedisCallback cb) {
    if (args.empty()) return fail(cb, Status::invalid_argument("redis: empty command"));
    switch (phase()) {
      case Phase::kStopped: return fail(cb, Status::cancelled("redis publisher: stopped"));
      case Phase::kIdle: return fail(cb, Status::failed_precondition("redis publisher: not started"));
      case Phase::kBackoff: return fail(cb, Status::unavailable("redis publisher: not connected, retrying"));
      case Phase::kConnecting:
      case Phase::kConnected: break;
    }
    if (pending_.size() + queued_.size() >= options().max_pending) {
      return fail(cb, Status::resource_exhausted("redis publisher: too many pending commands"));
    }
    if (is_subscribe_mode_command(args[0])) {
      // Their replies are pushes, not one reply per command: FIFO matching would break.
      return fail(cb, Status::invalid_argument("redis publisher: " + args[0] + " needs RedisSubscriber"));
    }
    std::string bytes = net::resp_bulk_array(args);
    if (connected()) {
      pending_.push_back({std::move(cb), false});
      send(bytes);
    } else {
      queued_.push_back({std::move(bytes), {std::move(cb), false}});
    }
  }

  static void fail(const RedisCallback& cb, Status why) {
    if (cb) cb(std::move(why));
  }

  void on_connected() override {
    if (options().db != 0) {
      pending_.push_back({nullptr, true});
      send(net::resp_bulk_array({"SELECT", std::to_string(options().db)}));
    }
    for (auto& [bytes, p] : queued_) {
      pending_.push_back(std::move(p));
      send(bytes);
    }
    queued_.clear();
  }

  void on_reply(RedisValue value) override {
    if (pending_.empty()) return fail_connection(Status::internal("reply without a command"));
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (p.internal) {
      if (value.is_error()) fail_connection(Status::unavailable("SELECT: " + value.str));
      return;
    }
    if (p.callback) p.callback(std::move(value));
  }

  void on_lost(const Status& why) override {
    // Swap first: a callback may issue new commands (they fail fast in kBackoff/kStopped).
    std::deque<Pending> pending;
    pending.swap(pending_);
    std::deque<std::pair<std::string, Pending>> queued;
    queued.swap(queued_);
    for (auto& p : pending) fail(p.callback, why);
    for (auto& q : queued) fail(q.second.callback, why);
  }

  std::deque<Pending> pending_;                         // written, awaiting replies, FIFO
  std::deque<std::pair<std::string, Pending>> queued_;  // issued while connecting
};

RedisPublisher::RedisPublisher(asio::io_context& io, RedisOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}
RedisPublisher::~RedisPublisher() { stop(); }
void RedisPublisher::on_state(RedisStateCallback callback) { impl_->set_state_callback(std::move(callback)); }
void RedisPublisher::start() { impl_->post_start(); }
void RedisPublisher::stop() { impl_->stop_and_wait(); }
void RedisPublisher::command(std::vector<std::string> args, RedisCallback callback) {
  impl_->post_command(std::move(args), std::move(callback));
}
void RedisPublisher::publish(std::string channel, std::string payload,
                             std::function<void(Result<int64_t>)> callback) {
  std::vector<std::string> args;
  args.reserve(3);
  args.emplace_back("PUBLISH");
  args.push_back(std::move(channel));
  args.push_back(std::move(payload));
  command(std::move(args), [cb = std::move(callback)](Result<RedisValue> r) {
    if (!cb) return;
    if (!r.ok()) return cb(std::move(r).status());
    if (r->type == RedisValue::Type::kInteger) return cb(r->integer);
    if (r->is_error()) return cb(Status::internal("PUBLISH: " + r->str));
    cb(Status::internal("PUBLISH: unexpected reply type"));
  });
}

// ---------------------------------------------------------------- subscriber

class RedisSubscriber::Impl final : public RedisConnection {
 public:
  Impl(asio::io_context& io, RedisOptions options) : RedisConnection(io, std::move(options), "subscriber") {}

  MessageCallback on_message_;
  GapCallback on_gap_;
  SubscribedCallback on_subscribed_;

  void post_change(std::string channel, int delta) {
    auto self = std::static_pointer_cast<Impl>(shared_from_this());
    asio::post(io(), [self, channel = std::move(channel), delta]() mutable {
      self->change(std::move(channel), delta);
    });
  }

 private:
  void change(std::string channel, int delta) {
    if (phase() == Phase::kStopped) return;
    auto it = refs_.find(channel);
    if (delta > 0) {
      if (it != refs_.end()) { ++it->second; return; }
      refs_.emplace(channel, 1);
      if (connected()) send(net::resp_bulk_array({"SUBSCRIBE", channel}));
      return;
    }
    if (it == refs_.end()) return;  // unbalanced unsubscribe: ignore
    if (--it->second > 0) return;
    refs_.erase(it);
    gap_waiting_.erase(channel);
    if (connected()) send(net::resp_bulk_array({"UNSUBSCRIBE", channel}));
    maybe_report_gap();
  }

  void on_connected() override {
    std::vector<std::string> args{"SUBSCRIBE"};
    for (const auto& [channel, refs] : refs_) {
      args.push_back(channel);
      if (ever_connected_) gap_waiting_.insert(channel);
      if (args.size() > kMaxArgsPerSubscribe) {
        send(net::resp_bulk_array(args));
        args.resize(1);
      }
    }
    if (args.size() > 1) send(net::resp_bulk_array(args));
    ever_connected_ = true;
  }

  void on_reply(RedisValue v) override {
    // Subscribe mode: every reply is a push array [kind, channel, payload-or-count] (RESP2).
    if (v.type != RedisValue::Type::kArray || v.elements.size() < 3 ||
        v.elements[0].type != RedisValue::Type::kString) {
      if (v.is_error()) log::warn("redis", "subscriber error reply", {{"error", v.str}});
      return;
    }
    const std::string& kind = v.elements[0].str;
    const std::string& channel = v.elements[1].str;
    if (kind == "message") {
      // Drop messages that were in flight while we unsubscribed.
      if (refs_.count(channel) && on_message_) on_message_(channel, v.elements[2].str);
    } else if (kind == "subscribe") {
      if (refs_.count(channel) && on_subscribed_) {
        on_subscribed_(channel);
        if (phase() != Phase::kConnected) return;  // the callback stopped us
      }
      if (gap_waiting_.erase(channel)) {
        gap_channels_.push_back(channel);
        maybe_report_gap();
      }
    }
  }

  void maybe_report_gap() {
    if (!gap_waiting_.empty() || gap_channels_.empty()) return;
    std::vector<std::string> channels;
    channels.swap(gap_channels_);
    // Channels unsubscribed after their confirmation need no gap either.
    std::erase_if(channels, [this](const std::string& c) { return !refs_.count(c); });
    if (!channels.empty() && on_gap_) on_gap_(std::move(channels));
  }

  void on_lost(const Status&) override {
    gap_waiting_.clear();
    gap_channels_.clear();
  }

  std::unordered_map<std::string, int> refs_;  // wanted channels → subscribe() count
  std::unordered_set<std::string> gap_waiting_;  // re-SUBSCRIBEd, confirmation not yet seen
  std::vector<std::string> gap_channels_;        // re-SUBSCRIBEd and confirmed
  bool ever_connected_ = false;
};

RedisSubscriber::RedisSubscriber(asio::io_context& io, RedisOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}
RedisSubscriber::~RedisSubscriber() { stop(); }
void RedisSubscriber::on_message(MessageCallback callback) { impl_->on_message_ = std::move(callback); }
void RedisSubscriber::on_gap(GapCallback callback) { impl_->on_gap_ = std::move(callback); }
void RedisSubscriber::on_subscribed(SubscribedCallback callback) { impl_->on_subscribed_ = std::move(callback); }
void RedisSubscriber::on_state(RedisStateCallback callback) { impl_->set_state_callback(std::move(callback)); }
void RedisSubscriber::start() { impl_->post_start(); }
void RedisSubscriber::stop() { impl_->stop_and_wait(); }
void RedisSubscriber::subscribe(std::string channel) { impl_->post_change(std::move(channel), +1); }
void RedisSubscriber::unsubscribe(std::string channel) { impl_->post_change(std::move(channel), -1); }

}  // namespace chiron::chat
