#pragma once
// HTTP/1.1 request parsing (RFC 9112) without sockets. Wraps
// beast::http::request_parser behind a Beast-free interface and adds the
// checks Beast leaves to the application: exactly one Host in HTTP/1.1
// (RFC 9112 §3.2), no Transfer-Encoding other than "chunked" (§6.1, closes
// the TE/CL smuggling gap Beast leaves for unknown codings), versions 1.0/1.1
// only, origin- or absolute-form targets (§3.2.1-2), no NUL or malformed
// percent-escapes in the path.
//
// The server feeds socket bytes through HttpRequestParser, and the fuzz
// target and the hostile-input tests feed the same class, so what is fuzzed
// is what is served.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/http_message.h"

namespace chiron::net {

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;        // request line + fields; beyond → 431
  size_t max_body_bytes = 8 * 1024 * 1024;    // decoded body; beyond → 413
};

// Incremental parser for a sequence of requests on one connection.
// Not thread-safe.
class HttpRequestParser {
 public:
  enum class State { kNeedMore, kHeaderDone, kDone, kError };

  explicit HttpRequestParser(HttpLimits limits = {});
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Consumes a prefix of `bytes` and returns its length. Bytes that are not
  // consumed (an incomplete header, or the next pipelined request) must be
  // passed again, with more appended, on the next call. After kDone the
  // caller takes the request and the parser is ready for the next one.
  size_t feed(std::string_view bytes);
  // Tells the parser the peer closed the stream (a body delimited by EOF is
  // not allowed in requests, so this only turns a partial request into an error).
  void feed_eof();

  State state() const { return state_; }
  // True once any byte of the current request was consumed or is pending.
  bool started() const { return started_; }
  // After the header is parsed: whether the client sent "Expect: 100-continue".
  bool expects_continue() const { return expects_continue_; }
  // After kDone: whether the connection may be reused (RFC 9112 §9.3).
  bool keep_alive() const { return keep_alive_; }
  // After kDone: whether the request asks for a protocol upgrade (Upgrade header).
  bool upgrade() const { return upgrade_; }

  // Moves the finished request out and resets for the next message. Requires kDone.
  Request take_request();

  // On kError: the HTTP status to answer (400, 413, 431, 501, 505), a stable
  // code ("bad_request", "header_too_large", ...) and a human message.
  int error_status() const { return error_status_; }
  const std::string& error_code() const { return error_code_; }
  const std::string& error_message() const { return error_message_; }

 private:
  struct Impl;
  void fail(int status, std::string code, std::string message);
  bool validate_header();
  void reset();

  HttpLimits limits_;
  std::unique_ptr<Impl> impl_;
  State state_ = State::kNeedMore;
  bool started_ = false;
  bool expects_continue_ = false;
  bool keep_alive_ = false;
  bool upgrade_ = false;
  bool header_checked_ = false;
  int error_status_ = 0;
  std::string error_code_;
  std::string error_message_;
};

// Parses exactly one complete request from the start of `bytes`. Errors:
// invalid_argument (malformed → 400), resource_exhausted (header or body over
// the limit → 431 / 413), unimplemented (unknown transfer coding or HTTP
// version → 501 / 505). `consumed`, if given, receives the request's length.
Result<Request> parse_http_request(std::string_view bytes, const HttpLimits& limits = {},
                                   size_t* consumed = nullptr);

// Splits a request-target into its percent-decoded path and raw query
// (RFC 9112 §3.2). Accepts origin-form and absolute-form; false otherwise.
bool split_request_target(std::string_view target, std::string* path, std::string* query);

}  // namespace chiron::net
