#pragma once
// Transport: one HTTP/1.1 exchange at a time with the server, the seam between the sync engine and
// the network (unit tests plug in an in-memory fake of the files API; `chiron push` uses
// HttpTransport: Boost.Beast over a keep-alive TCP connection).
//
// A Status error from send() means the exchange did not complete (connect/read/write failure,
// timeout, cancelled): the engine retries it — except kPermissionDenied (the TLS peer failed
// verification), which is a configuration error. Any HTTP answer, 4xx/5xx included, is a value.
// Not thread-safe: each worker thread owns its own Transport.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace chiron::push {

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST", "DELETE"
  std::string target;  // "/api/v1/channels/alice/files/src/a.cc?from_sha256=..."
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

struct ServerUrl {
  bool tls = false;  // https://
  std::string host;
  std::string port;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};
// Parses "http[s]://host[:port][/prefix]" (ports default to 80 / 443).
Result<ServerUrl> parse_server_url(const std::string& url);

struct HttpOptions {
  ServerUrl server;
  std::string token;               // sent as "Authorization: Bearer <token>"
  // https: the server certificate is verified (chain + host name, SNI sent) against the system
  // CA store, or against this PEM file when set.
  std::string ca_file;
  int64_t connect_timeout_ms = 5'000;
  int64_t request_timeout_ms = 60'000;  // one whole exchange (4 MiB bodies included)
  const std::atomic<bool>* stop = nullptr;  // when set, an exchange in flight is cancelled
};

std::unique_ptr<Transport> make_http_transport(HttpOptions options);

}  // namespace chiron::push
