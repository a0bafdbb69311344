#pragma once
// Test helpers shared by the Redis client and bus tests: a real redis-server child process on a
// free loopback port (no persistence), and a deadline-bounded hand-over box from io threads.

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "chat/redis_client.h"

namespace chiron::chat::redis_test {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";
inline constexpr std::chrono::milliseconds kWait{3000};

// A TCP port on 127.0.0.1 that was free a moment ago (0 on failure).
uint16_t free_port();
// True when a PING on a fresh blocking connection answers +PONG.
bool ping(uint16_t port);

// One redis-server child process: `--save "" --appendonly no`, bound to 127.0.0.1.
class RedisServer {
 public:
  explicit RedisServer(uint16_t port) : port_(port) {}
  ~RedisServer() { kill(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Spawns it and waits (bounded) until it answers PING.
  bool start();
  // SIGKILL and reap. Idempotent.
  void kill();
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

// Values handed over from the io thread, awaited with a deadline by the test thread. Thread-safe.
template <class T>
class Inbox {
 public:
  void push(T v) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  std::optional<T> pop(std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;  // Guarded by mu_
};

// A fixture with a fresh redis-server and an io_context run by one thread. Subclasses release
// their Redis objects in release_clients(), which runs before the io thread stops.
class RedisFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kRedisServer, X_OK) != 0) GTEST_SKIP() << kRedisServer << " is missing (apt install redis-server)";
    server_.emplace(free_port());
    ASSERT_TRUE(server_->start()) << "redis-server did not answer PING on port " << server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    release_clients();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    if (server_) server_->kill();
  }
  virtual void release_clients() {}

  // Fast reconnects, so restart tests stay short.
  RedisOptions options() const {
    RedisOptions o;
    o.port = server_->port();
    o.connect_timeout_ms = 500;
    o.reconnect_min_ms = 10;
    o.reconnect_max_ms = 100;
    return o;
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::optional<RedisServer> server_;
};

}  // namespace chiron::chat::redis_test
