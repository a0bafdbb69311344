#pragma once
// Small helpers shared by the platform's JSON-over-HTTP APIs (files, accounts, ratings).
// Errors are the house format: {"error":{"code":"...","message":"..."}} (net::Response::error).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/result.h"
#include "net/http_message.h"
#include "net/router.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel

namespace chiron::service {

// A blocking handler (database, disk) run on the runtime's disk pipeline instead of the net
// thread; answers 503 if the runtime no longer takes work.
net::AsyncHandler on_disk(kernel::Runtime& runtime, std::function<net::Response(const net::Request&)> handler);

// The request body as a JSON object. 415 unless Content-Type is application/json (which also
// keeps cross-site HTML forms out), 400 for malformed JSON or a non-object.
// On error, the Status message is user-facing; use error_response().
Result<boost::json::object> json_body(const net::Request& request);

// Maps a Status to the JSON error response: kInvalidArgument 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAlreadyExists / kFailedPrecondition / kAborted 409,
// kResourceExhausted 413, kUnavailable 503, others as net::http_status_for. The error code is
// status_code_name(), unless the message starts with "[snake_code] " — then that code (and the
// rest of the message): api_status() builds such a Status, so deep layers can name the
// contract's specific codes ("quota_exceeded", "checksum_mismatch", ...).
net::Response error_response(const Status& status);
Status api_status(StatusCode code, std::string_view api_code, std::string_view message);
// The API code of a Status made by api_status() ("quota_exceeded"), or "".
std::string_view api_code_of(const Status& status);
// Its message without the "[code] " prefix.
std::string_view api_message_of(const Status& status);
net::Response json_response(int status, const boost::json::value& body);

// Field readers: missing + required → kInvalidArgument "missing field 'x'", wrong type →
// "field 'x' must be a string", too long → "field 'x' is longer than N bytes".
Result<std::string> string_field(const boost::json::object& o, std::string_view key, bool required,
                                 size_t max_bytes = 4096);
Result<std::optional<std::string>> opt_string_field(const boost::json::object& o, std::string_view key,
                                                    size_t max_bytes = 4096);
Result<int64_t> int_field(const boost::json::object& o, std::string_view key, int64_t min, int64_t max);
Result<std::optional<int64_t>> opt_int_field(const boost::json::object& o, std::string_view key, int64_t min,
                                             int64_t max);
Result<std::optional<bool>> opt_bool_field(const boost::json::object& o, std::string_view key);

// GET/HEAD/OPTIONS.
bool is_safe_method(std::string_view method);

}  // namespace chiron::service
