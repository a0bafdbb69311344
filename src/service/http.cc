#include "service/http.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "kernel/kernel.h"

namespace chiron::service {

namespace json = boost::json;

net::AsyncHandler on_disk(kernel::Runtime& runtime, std::function<net::Response(const net::Request&)> handler) {
  auto shared = std::make_shared<std::function<net::Response(const net::Request&)>>(std::move(handler));
  return [&runtime, shared](net::Request request, net::Responder responder) {
    auto req = std::make_shared<net::Request>(std::move(request));
    auto resp = std::make_shared<net::Responder>(std::move(responder));
    bool posted = runtime.post(kernel::Device::kDisk, [shared, req, resp] {
      net::Response r;
      try {
        r = (*shared)(*req);
      } catch (const std::exception& e) {
        // The cause (SQL text, paths) goes to the log, never to the client.
        log::error("http", "handler failed", {{"path", req->path}, {"error", e.what()}});
        r = net::Response::error(500, "internal", "internal error");
      }
      resp->send(std::move(r));
    });
    if (!posted) resp->send(net::Response::error(503, "unavailable", "server is shutting down"));
  };
}

Result<json::object> json_body(const net::Request& request) {
  auto ct = request.headers.get("Content-Type");
  std::string_view type = ct ? *ct : std::string_view();
  if (auto semi = type.find(';'); semi != std::string_view::npos) type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!iequals(type, "application/json"))
    return api_status(StatusCode::kInvalidArgument, "unsupported_media_type",
                      "the body must be JSON (Content-Type: application/json)");
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec) return api_status(StatusCode::kInvalidArgument, "bad_json", "malformed JSON body: " + ec.message());
  if (!v.is_object()) return api_status(StatusCode::kInvalidArgument, "bad_json", "the JSON body must be an object");
  return std::move(v.as_object());
}

Status api_status(StatusCode code, std::string_view api_code, std::string_view message) {
  std::string m = "[";
  m += api_code;
  m += "] ";
  m += message;
  return Status(code, std::move(m));
}

std::string_view api_code_of(const Status& status) {
  std::string_view m = status.message();
  if (m.size() < 3 || m[0] != '[') return {};
  size_t close = m.find("] ");
  if (close == std::string_view::npos || close > 40) return {};
  std::string_view inner = m.substr(1, close - 1);
  if (inner.empty()) return {};
  for (char c : inner)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return {};
  return inner;
}

std::string_view api_message_of(const Status& status) {
  std::string_view api = api_code_of(status);
  std::string_view m = status.message();
  return api.empty() ? m : m.substr(api.size() + 3);
}

net::Response error_response(const Status& status) {
  if (status.ok()) return net::Response::json(200, "{}");
  int http = 500;
  switch (status.code()) {
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted: http = 409; break;
    case StatusCode::kResourceExhausted: http = 413; break;
    default: http = net::http_status_for(status.code());
  }
  std::string_view code = status_code_name(status.code());
  std::string_view message = status.message();
  if (std::string_view api = api_code_of(status); !api.empty()) {
    code = api;
    message = api_message_of(status);
    if (code == "unsupported_media_type") http = 415;
    // A whole upload that does not match its declared digest: the request was fine, its
    // content is not (RFC 9110 §15.5.21).
    if (code == "checksum_mismatch" && status.code() == StatusCode::kAborted) http = 422;
  }
  return net::Response::error(http, code, message);
}

net::Response json_response(int status, const json::value& body) {
  net::Response r = net::Response::json(status, json::serialize(body));
  r.headers.add("Cache-Control", "no-store");
  return r;
}

namespace {
const json::value* find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}
Status bad_field(std::string_view key, std::string_view what) {
  return api_status(StatusCode::kInvalidArgument, "invalid_field",
                    "field '" + std::string(key) + "' " + std::string(what));
}
}  // namespace

Result<std::optional<std::string>> opt_string_field(const json::object& o, std::string_view key, size_t max_bytes) {
  const json::value* v = find(o, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return bad_field(key, "must be a string");
  const json::string& s = v->get_string();
  if (s.size() > max_bytes) return bad_field(key, "is longer than " + std::to_string(max_bytes) + " bytes");
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

Result<std::string> string_field(const json::object& o, std::string_view key, bool required, size_t max_bytes) {
  CHIRON_ASSIGN_OR_RETURN(auto v, opt_string_field(o, key, max_bytes));
  if (!v) {
    if (required) return bad_field(key, "is missing");
    return std::string();
  }
  return std::move(*v);
}

Result<std::optional<int64_t>> opt_int_field(const json::object& o, std::string_view key, int64_t min, int64_t max) {
  const json::value* v = find(o, key);
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->get_uint64());
  } else if (v->is_double() && v->get_double() == static_cast<double>(static_cast<int64_t>(v->get_double()))) {
    n = static_cast<int64_t>(v->get_double());
  } else {
    return bad_field(key, "must be an integer");
  }
  if (n < min || n > max)
    return bad_field(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return std::optional<int64_t>(n);
}

Result<int64_t> int_field(const json::object& o, std::string_view key, int64_t min, int64_t max) {
  CHIRON_ASSIGN_OR_RETURN(auto v, opt_int_field(o, key, min, max));
  if (!v) return bad_field(key, "is missing");
  return *v;
}

Result<std::optional<bool>> opt_bool_field(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) return bad_field(key, "must be true or false");
  return std::optional<bool>(v->get_bool());
}

bool is_safe_method(std::string_view method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

}  // namespace chiron::service
