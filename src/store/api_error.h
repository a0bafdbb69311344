#pragma once
// API error codes of docs/platform-api.md ("invalid_path", "quota_exceeded", ...) carried
// through Status values: the message starts with "<code>: ". to_response() turns such a
// Status into {"error":{"code","message"}} with the right HTTP status; other statuses go
// through service::error_response. Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_message.h"

namespace chiron::store {

Status api_error(StatusCode code, std::string_view api_code, std::string_view message);
// The API code of a Status made by api_error(), or "".
std::string_view api_code_of(const Status& status);
net::Response to_response(const Status& status);

}  // namespace chiron::store
