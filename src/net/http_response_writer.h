#pragma once
// Serialises a Response's status line and header section (RFC 9112 §4,
// §6.3). The server owns message framing: Content-Length, Transfer-Encoding
// and Connection set by handlers are replaced by its own, so a handler can
// never desynchronise a keep-alive connection. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "net/http_message.h"

namespace chiron::net {

struct ResponseHead {
  uint64_t content_length = 0;     // sent unless the status forbids a body (1xx, 204, 304)
  bool close = false;              // "Connection: close"
  bool keep_alive = false;         // "Connection: keep-alive" (for HTTP/1.0 clients)
  bool chunked = false;            // "Transfer-Encoding: chunked" instead of Content-Length
  std::string_view server_name;    // Server header unless empty or set by the handler
};

// Appends the head to out. Returns false, leaving out as it was, if the
// status is not a final one (200-999) or a header name/value would break
// framing (CR, LF, NUL, a non-token name): header injection is refused.
bool append_response_head(std::string& out, const Response& response, const ResponseHead& head);

// Whether the status code forbids a message body (RFC 9110 §6.4.1).
inline bool status_has_no_body(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

}  // namespace chiron::net
