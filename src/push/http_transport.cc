// HttpTransport: Boost.Beast HTTP/1.1 client on a private io_context, driven synchronously from
// the calling thread (ioc.run_for slices, so a stop request cancels an exchange within ~100 ms).
// The TCP connection is kept alive between exchanges; a failure on a reused connection (the
// server closed an idle keep-alive) is retried once at once on a fresh one — every request the
// push client makes is idempotent or harmless to repeat.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>

#include "common/common.h"
#include "push/transport.h"

namespace chiron::push {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxResponseBytes = 16u << 20;

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(HttpOptions options) : options_(std::move(options)) {}

  Result<HttpResponse> send(const HttpRequest& request) override {
    const bool reused = stream_.has_value();
    auto r = exchange(request);
    if (!r.ok() && reused && r.status().code() != StatusCode::kCancelled) {
      close();
      r = exchange(request);
    }
    if (!r.ok()) close();
    return r;
  }

 private:
  // Runs the io_context until `done` or the deadline; cancels the stream when stopped/late.
  Status run_until(const bool& done, int64_t timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done) {
      if (options_.stop && options_.stop->load()) {
        if (stream_) stream_->cancel();
        ioc_.run();  // let the handlers see operation_aborted
        return Status::cancelled("stopping");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        if (stream_) stream_->cancel();
        ioc_.run();
        return Status::deadline_exceeded("timed out after " + std::to_string(timeout_ms) + " ms");
      }
      ioc_.run_for(std::chrono::milliseconds(100));
      if (ioc_.stopped() && !done) ioc_.restart();
    }
    return Status();
  }

  Status connect() {
    ioc_.restart();
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(options_.server.host, options_.server.port, ec);
    if (ec) return Status::unavailable("resolve " + options_.server.host + ": " + ec.message());
    stream_.emplace(ioc_);
    bool done = false;
    stream_->async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    CHIRON_RETURN_IF_ERROR(run_until(done, options_.connect_timeout_ms).context("connect"));
    if (ec) return Status::unavailable("connect " + options_.server.host + ":" + options_.server.port + ": " + ec.message());
    stream_->socket().set_option(tcp::no_delay(true), ec);
    return Status();
  }

  Result<HttpResponse> exchange(const HttpRequest& request) {
    if (!stream_) CHIRON_RETURN_IF_ERROR(connect());
    ioc_.restart();
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(options_.server.base_path + request.target);
    req.version(11);
    req.set(http::field::host, options_.server.host + ":" + options_.server.port);
    req.set(http::field::user_agent, "chiron-push/" + std::string(kVersion));
    if (!options_.token.empty()) req.set(http::field::authorization, "Bearer " + options_.token);
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.body() = request.body;
    if (request.method != "GET" || !request.body.empty()) req.prepare_payload();
    req.keep_alive(true);

    boost::system::error_code ec;
    bool done = false;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    http::async_write(*stream_, req, [&](boost::system::error_code e, size_t) {
      if (e) {
        ec = e;
        done = true;
        return;
      }
      http::async_read(*stream_, buffer, parser, [&](boost::system::error_code e2, size_t) {
        ec = e2;
        done = true;
      });
    });
    CHIRON_RETURN_IF_ERROR(run_until(done, options_.request_timeout_ms).context(request.method + " " + request.target));
    if (ec) return Status::unavailable(request.method + " " + request.target + ": " + ec.message());
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return out;
  }

  void close() {
    if (stream_) {
      boost::system::error_code ec;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_->socket().close(ec);
      stream_.reset();
    }
  }

  HttpOptions options_;
  asio::io_context ioc_{1};
  std::optional<beast::tcp_stream> stream_;
};

}  // namespace

Result<ServerUrl> parse_server_url(const std::string& url) {
  if (url.starts_with("https://")) {
    return Status::unimplemented(
        "https:// servers are not supported by chiron push yet (no TLS client); use http:// on a trusted "
        "network, an ssh tunnel, or a local TLS-terminating proxy");
  }
  if (!url.starts_with("http://")) return Status::invalid_argument("server URL must start with http://: " + url);
  std::string rest = url.substr(7);
  ServerUrl out;
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) {
    out.base_path = rest.substr(slash);
    while (out.base_path.ends_with('/')) out.base_path.pop_back();
  }
  if (hostport.empty()) return Status::invalid_argument("server URL has no host: " + url);
  if (hostport.front() == '[') {  // [v6]:port
    const size_t close = hostport.find(']');
    if (close == std::string::npos) return Status::invalid_argument("bad IPv6 host in " + url);
    out.host = hostport.substr(1, close - 1);
    out.port = close + 1 < hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2) : "80";
  } else {
    const size_t colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
    out.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  }
  if (out.host.empty() || out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::invalid_argument("bad host:port in server URL " + url);
  }
  return out;
}

std::unique_ptr<Transport> make_http_transport(HttpOptions options) {
  return std::make_unique<HttpTransport>(std::move(options));
}

}  // namespace chiron::push
