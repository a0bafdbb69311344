#pragma once
// HTTP request/response values passed between the server and handlers.
// Plain data, free of Beast types, so modules that register routes compile
// without Boost headers. Thread-compatible.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::net {

// A response body written over time by its producer (HTTP-FLV, event streams): after the server
// has written the response head it stops serving the connection and hands its socket over.
//   ctx: the connection's io_context (the socket belongs to it; use it only from there),
//   fd: the connected TCP socket, now owned by the callee (adopt it with
//       tcp::socket(ctx, protocol, fd), or close it),
//   chunked: the body must be framed with chunked transfer coding (HTTP/1.1 clients); false for
//       HTTP/1.0 clients, where the body ends when the connection closes.
// Runs on ctx's thread. Not called for HEAD requests, on TLS listeners (the client gets 501), or
// when the head could not be written.
using TakeoverFn = std::function<void(boost::asio::io_context& ctx, int fd, bool chunked)>;

// Header list preserving order; lookups are case-insensitive (RFC 9110 §5.1).
class Headers {
 public:
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every header of that name with one value.
  void set(std::string_view name, std::string value);
  // First value of the header, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Removes every header of that name.
  void remove(std::string_view name);
  bool empty() const { return items_.empty(); }
  void reserve(size_t n) { items_.reserve(n); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;   // "GET"
  std::string target;   // raw request-target: "/api/v1/x?y=1"
  std::string path;     // percent-decoded path without the query: "/api/v1/x"
  std::string query;    // raw query string without '?': "y=1"
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412"
  int version = 11;            // 10 or 11
  // Filled by the router: ":name" segments and a trailing "*rest".
  std::map<std::string, std::string, std::less<>> params;

  std::string_view param(std::string_view name) const;
  // Value of a query parameter, percent-decoded ("+" is a space); nullopt if absent.
  std::optional<std::string> query_param(std::string_view name) const;
  // Value of a cookie from the Cookie header (RFC 6265 §5.4).
  std::optional<std::string> cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the server streams bytes [file_offset, file_offset + file_length)
  // of this file instead of body (file_length nullopt: to the end of the file).
  // StaticFiles fills these when it answers a Range request; the server reads
  // the file in chunks, so large files never sit in memory.
  std::optional<std::string> file_path;
  uint64_t file_offset = 0;
  std::optional<uint64_t> file_length;
  // When set, the response is streamed by its producer (see TakeoverFn): the head goes out with
  // "Transfer-Encoding: chunked" (or "Connection: close" for HTTP/1.0) and `body` is ignored.
  TakeoverFn takeover;

  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response json(int status, std::string json_body);
  // {"error":{"code":"...","message":"..."}} with the given status.
  static Response error(int status, std::string_view code, std::string_view message);
  // error() for a failed Status: http_status_for(code), status_code_name(code), message.
  static Response from_status(const Status& status);
};

// Maps a Status code to its HTTP status (not_found → 404, invalid_argument → 400, ...).
int http_status_for(int status_code /* chiron::StatusCode */);
inline int http_status_for(StatusCode code) { return http_status_for(static_cast<int>(code)); }

// Reason phrase of a status code ("Not Found"); "Unknown" for codes it does not know.
std::string_view http_reason(int status);

// Percent-decoding (RFC 3986 §2.1). Returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace chiron::net
