#pragma once
// Test helpers for the HTTP server: io_context threads around an HttpServer,
// and a raw-socket client that speaks HTTP/1.1 byte by byte so tests control
// exactly what goes on the wire (pipelining, slow senders, hostile input).
// Every blocking call has a receive timeout, so a broken server fails a test
// instead of hanging it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "net/http_server.h"

namespace chiron::net::testing {

// Runs `threads` io_contexts, one thread each, and an HttpServer on them.
class ServerHarness {
 public:
  explicit ServerHarness(Router router, HttpServerOptions options = {}, int threads = 2) {
    options.port = 0;
    for (int i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<boost::asio::io_context>());
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    std::vector<boost::asio::io_context*> raw;
    for (auto& c : contexts_) raw.push_back(c.get());
    server_ = std::make_unique<HttpServer>(raw, std::move(options), std::move(router));
    start_status_ = server_->start();
    for (auto& c : contexts_) threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }

  ~ServerHarness() {
    stop_and_wait(std::chrono::seconds(5));
    server_.reset();
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
  }

  // stop() and wait for the drain callback; false on timeout.
  bool stop_and_wait(std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    server_->stop([done] { done->set_value(); });
    return fut.wait_for(timeout) == std::future_status::ready;
  }

  const Status& start_status() const { return start_status_; }
  HttpServer& server() { return *server_; }
  uint16_t port() const { return server_->port(); }

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpServer> server_;
  Status start_status_;
};

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawClient {
 public:
  explicit RawClient(uint16_t port, int recv_timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; head_request: the response has no body despite Content-Length.
  std::optional<ParsedResponse> read_response(bool head_request = false) {
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    ParsedResponse r;
    std::string_view head(buf_.data(), header_end);
    auto lines = split(head, '\n');
    if (lines.empty() || lines[0].size() < 12) return std::nullopt;
    r.status = std::stoi(std::string(lines[0].substr(9, 3)));
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string_view line = trim(lines[i]);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      r.headers[to_lower(line.substr(0, colon))] = std::string(trim(line.substr(colon + 1)));
    }
    buf_.erase(0, header_end + 4);
    size_t length = 0;
    bool no_body = head_request || r.status == 304 || r.status == 204 || r.status / 100 == 1;
    if (!no_body && r.headers.count("content-length")) length = std::stoul(r.headers["content-length"]);
    while (buf_.size() < length)
      if (!fill()) return std::nullopt;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True if the server closes the connection (EOF or reset) within timeout_ms.
  bool wait_closed(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return true;
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return false;
  }

  const std::string& buffered() const { return buf_; }
  int fd() const { return fd_; }

 private:
  bool fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// Async handlers park their Responders here; the test answers them (from its
// own thread) when it chooses, so ordering is controlled without sleeps.
class ParkedResponders {
 public:
  void park(Request request, Responder responder) {
    std::lock_guard lock(mu_);
    parked_.emplace_back(std::move(request), std::move(responder));
    cv_.notify_all();
  }
  // Waits until n requests are parked; false on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return parked_.size() >= n; });
  }
  // Answers the i-th parked request with its path as the body.
  void answer(size_t i, int status = 200) {
    std::unique_lock lock(mu_);
    auto& [req, responder] = parked_.at(i);
    std::string body = req.path;
    Responder r = std::move(responder);
    lock.unlock();
    r(Response::text(status, body));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Request, Responder>> parked_;
};

inline std::string get_request(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers) + "\r\n";
}

}  // namespace chiron::net::testing
