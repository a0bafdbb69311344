// HttpTransport: Boost.Beast HTTP/1.1 client (plain TCP or TLS via OpenSSL) on a private
// io_context, driven synchronously from the calling thread (ioc.run_for slices, so a stop request
// cancels an exchange within ~100 ms). TLS: peer verification against the system CA store or
// --ca-file, RFC 6125 host name check, SNI.
// The TCP connection is kept alive between exchanges; a failure on a reused connection (the
// server closed an idle keep-alive) is retried once at once on a fresh one — every request the
// push client makes is idempotent or harmless to repeat.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/common.h"
#include "push/transport.h"

namespace chiron::push {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxResponseBytes = 16u << 20;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(HttpOptions options) : options_(std::move(options)) {
    if (options_.server.tls) {
      tls_ctx_.emplace(asio::ssl::context::tls_client);
      boost::system::error_code ec;
      if (options_.ca_file.empty()) {
        tls_ctx_->set_default_verify_paths(ec);
      } else {
        tls_ctx_->load_verify_file(options_.ca_file, ec);
      }
      if (ec) ctx_error_ = "TLS trust store " + (options_.ca_file.empty() ? std::string("(system)") : options_.ca_file) + ": " + ec.message();
      tls_ctx_->set_verify_mode(asio::ssl::verify_peer);
    }
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    const bool reused = connected();
    auto r = exchange(request);
    if (!r.ok() && reused && r.status().code() != StatusCode::kCancelled &&
        r.status().code() != StatusCode::kPermissionDenied) {
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
        if (connected()) lowest().cancel();
        ioc_.run();  // let the handlers see operation_aborted
        return Status::cancelled("stopping");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        if (connected()) lowest().cancel();
        ioc_.run();
        return Status::deadline_exceeded("timed out after " + std::to_string(timeout_ms) + " ms");
      }
      ioc_.run_for(std::chrono::milliseconds(100));
      if (ioc_.stopped() && !done) ioc_.restart();
    }
    return Status();
  }

  bool connected() const { return stream_.has_value() || tls_.has_value(); }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *stream_; }
  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*stream_);
    }
  }

  Status connect() {
    if (!ctx_error_.empty()) return Status::permission_denied(ctx_error_);
    ioc_.restart();
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(options_.server.host, options_.server.port, ec);
    if (ec) return Status::unavailable("resolve " + options_.server.host + ": " + ec.message());
    if (options_.server.tls) {
      tls_.emplace(ioc_, *tls_ctx_);
    } else {
      stream_.emplace(ioc_);
    }
    bool done = false;
    lowest().async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (Status st = run_until(done, options_.connect_timeout_ms); !st.ok()) {
      close();
      return st.context("connect");
    }
    const std::string where = options_.server.host + ":" + options_.server.port;
    if (ec) {
      close();
      return Status::unavailable("connect " + where + ": " + ec.message());
    }
    lowest().socket().set_option(tcp::no_delay(true), ec);
    if (tls_) {
      // SNI, and the certificate must name the host (RFC 6125) besides chaining to a trusted CA.
      if (!SSL_set_tlsext_host_name(tls_->native_handle(), options_.server.host.c_str())) {
        close();
        return Status::internal("TLS: cannot set SNI host name");
      }
      tls_->set_verify_callback(asio::ssl::host_name_verification(options_.server.host));
      done = false;
      ioc_.restart();
      tls_->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
        ec = e;
        done = true;
      });
      if (Status st = run_until(done, options_.connect_timeout_ms); !st.ok()) {
        close();
        return st.context("TLS handshake");
      }
      if (ec) {
        const long verify = SSL_get_verify_result(tls_->native_handle());
        close();
        if (verify != X509_V_OK) {
          return Status::permission_denied("TLS handshake with " + where + ": certificate verification failed: " +
                                           X509_verify_cert_error_string(verify) +
                                           " (use --ca-file for a private CA)");
        }
        return Status::unavailable("TLS handshake with " + where + ": " + ec.message());
      }
    }
    return Status();
  }

  Result<HttpResponse> exchange(const HttpRequest& request) {
    if (!connected()) CHIRON_RETURN_IF_ERROR(connect());
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
    with_stream([&](auto& s) {
      http::async_write(s, req, [&](boost::system::error_code e, size_t) {
        if (e) {
          ec = e;
          done = true;
          return;
        }
        http::async_read(s, buffer, parser, [&](boost::system::error_code e2, size_t) {
          ec = e2;
          done = true;
        });
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

  // No TLS close_notify: every exchange is length-delimited, so truncation cannot go unnoticed.
  void close() {
    if (connected()) {
      boost::system::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      lowest().socket().close(ec);
    }
    stream_.reset();
    tls_.reset();
  }

  HttpOptions options_;
  asio::io_context ioc_{1};
  std::optional<asio::ssl::context> tls_ctx_;
  std::string ctx_error_;
  std::optional<beast::tcp_stream> stream_;  // plain http://
  std::optional<TlsStream> tls_;             // https://
};

}  // namespace

Result<ServerUrl> parse_server_url(const std::string& url) {
  ServerUrl out;
  out.tls = url.starts_with("https://");
  if (!out.tls && !url.starts_with("http://")) {
    return Status::invalid_argument("server URL must start with http:// or https://: " + url);
  }
  const std::string default_port = out.tls ? "443" : "80";
  std::string rest = url.substr(out.tls ? 8 : 7);
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
    out.port = close + 1 < hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2) : default_port;
  } else {
    const size_t colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
    out.port = colon == std::string::npos ? default_port : hostport.substr(colon + 1);
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
