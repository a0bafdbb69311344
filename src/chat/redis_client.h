#pragma once
// DESIGN: the two Redis connections of the chat's scale-out (research/chat.md §5, §6 item 13):
// one pipelined command connection (RedisPublisher) and one dedicated subscribe-mode
// connection (RedisSubscriber). Both run on our own Asio sockets; hiredis is used only for
// its RESP2 reply parser (redisReader), never for networking. Commands are RESP arrays of
// bulk strings (https://redis.io/docs/reference/protocol-spec/).
//
// Threading: each object lives on one io_context. Public methods are thread-safe: they post
// to that io_context. Every callback runs on the io_context. stop() (also run by the
// destructor) fails what is pending with kCancelled and returns once that has happened: no
// callback runs after stop() returned. It runs inline on the loop thread or when no thread
// runs the loop (io.stopped()); from another thread it posts and waits, so a thread must be
// running the loop then (destroying an object whose io_context was never run nor stopped
// from another thread would wait forever). Commands issued after stop() fail with kCancelled. The io_context
// must outlive the object.
//
// Failure model (pub/sub is at-most-once anyway): a lost connection fails every command in
// flight with kUnavailable, then reconnects with exponential backoff (with jitter). Commands
// issued while connecting wait for the outcome of that attempt; commands issued while
// waiting to retry, or beyond max_pending, fail at once with kUnavailable /
// kResourceExhausted. Nothing is retried behind the caller's back.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::chat {

struct RedisOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int db = 0;                      // SELECTed on every (re)connect of the publisher
  int connect_timeout_ms = 2000;   // resolve + TCP connect
  int reconnect_min_ms = 50;       // first retry delay, doubled per failed attempt
  int reconnect_max_ms = 5000;     // cap of the retry delay
  size_t max_pending = 100000;     // commands written or queued but not yet answered
};

// Parses "redis://host[:port][/db]" (host: name, IPv4, or [IPv6]; port defaults to 6379).
// Refuses other schemes, "rediss://" (no TLS), user:password@ (no AUTH), query strings,
// and out-of-range ports or db numbers. Thread-safe.
Result<RedisOptions> parse_redis_url(std::string_view url);

// A copy of a hiredis redisReply (RESP2). Thread-compatible.
struct RedisValue {
  enum class Type : unsigned char { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;             // kInteger
  std::string str;                 // kString, kStatus, kError (binary-safe)
  std::vector<RedisValue> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
};

using RedisCallback = std::function<void(Result<RedisValue>)>;
using RedisStateCallback = std::function<void(bool connected)>;

// Pipelined command connection: many commands in flight, replies matched in FIFO order,
// the commands issued in one loop turn written with one write. Thread-safe.
class RedisPublisher {
 public:
  RedisPublisher(boost::asio::io_context& io, RedisOptions options);
  ~RedisPublisher();
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;

  // Set before start().
  void on_state(RedisStateCallback callback);
  // Connects (and keeps reconnecting) until stop().
  void start();
  void stop();

  // PUBLISH channel payload → number of receiving clients.
  void publish(std::string channel, std::string payload,
               std::function<void(Result<int64_t>)> callback);
  // Any command; an error reply (-ERR ...) is a value of type kError, not a failed Result —
  // a failed Result means the command's fate is unknown (connection lost, stopped, overload).
  // An empty callback is allowed (fire and forget). Subscribe-mode commands (SUBSCRIBE,
  // MONITOR, ...) are refused with kInvalidArgument: use RedisSubscriber.
  void command(std::vector<std::string> args, RedisCallback callback);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with in-flight Asio handlers, which may outlive *this
};

// Subscribe-mode connection (SUBSCRIBE only, never PSUBSCRIBE). Thread-safe.
// Subscriptions are reference-counted here: a channel is SUBSCRIBEd on the first
// subscribe(channel) and UNSUBSCRIBEd when unsubscribe(channel) has been called as many
// times; so one call per local room member, or one per room, both work.
// After a lost connection it reconnects, re-SUBSCRIBEs every channel, and once Redis has
// confirmed them calls on_gap(channels): messages published meanwhile were lost.
class RedisSubscriber {
 public:
  using MessageCallback = std::function<void(const std::string& channel, const std::string& payload)>;
  using GapCallback = std::function<void(std::vector<std::string> channels)>;
  using SubscribedCallback = std::function<void(const std::string& channel)>;

  RedisSubscriber(boost::asio::io_context& io, RedisOptions options);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // Set before start().
  void on_message(MessageCallback callback);
  void on_gap(GapCallback callback);
  // Redis confirmed a SUBSCRIBE of a still-wanted channel (the first one and each one after a
  // reconnect, before on_gap): every message published from now on reaches on_message.
  void on_subscribed(SubscribedCallback callback);
  void on_state(RedisStateCallback callback);
  void start();
  void stop();

  void subscribe(std::string channel);
  void unsubscribe(std::string channel);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with in-flight Asio handlers, which may outlive *this
};

}  // namespace chiron::chat
