#include "store/api_error.h"

#include <array>

#include "service/http.h"

namespace chiron::store {

namespace {

struct Known {
  std::string_view code;
  int http;  // 0: from the StatusCode
};
constexpr std::array<Known, 10> kKnown = {{
    {"invalid_path", 400},
    {"checksum_mismatch", 0},
    {"too_many_files", 409},
    {"quota_exceeded", 413},
    {"blob_unknown", 404},
    {"offset_mismatch", 409},
    {"too_large", 413},
    {"csrf", 403},
    {"forbidden", 403},
    {"upload_expired", 404},
}};

}  // namespace

Status api_error(StatusCode code, std::string_view api_code, std::string_view message) {
  return Status(code, std::string(api_code) + ": " + std::string(message));
}

std::string_view api_code_of(const Status& status) {
  std::string_view m = status.message();
  for (const Known& k : kKnown) {
    if (m.size() > k.code.size() + 1 && m.substr(0, k.code.size()) == k.code && m[k.code.size()] == ':') return k.code;
  }
  return {};
}

net::Response to_response(const Status& status) {
  std::string_view code = api_code_of(status);
  if (code.empty()) return service::error_response(status);
  int http = 0;
  for (const Known& k : kKnown) {
    if (k.code == code) http = k.http;
  }
  if (http == 0) http = status.code() == StatusCode::kAborted ? 422 : net::http_status_for(status.code());
  std::string_view message = std::string_view(status.message()).substr(code.size() + 1);
  while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
  return net::Response::error(http, code, message);
}

}  // namespace chiron::store
