#include "net/http_parser.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/strings.h"

namespace chiron::net {

namespace http = boost::beast::http;

struct HttpRequestParser::Impl {
  std::optional<http::request_parser<http::string_body>> parser;
  std::string path;   // decoded by validate_header()
  std::string query;
};

namespace {

bool is_tchar(char c) {
  // RFC 9110 §5.6.2 token characters.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Whether the request line is well formed but names a version Beast refuses
// ("GET / HTTP/2.0"): that deserves 505 rather than 400 (RFC 9110 §15.6.6).
bool is_unsupported_version_line(std::string_view bytes) {
  size_t eol = bytes.find("\r\n");
  if (eol == std::string_view::npos || eol < 10) return false;
  std::string_view v = bytes.substr(eol - 9, 9);  // " HTTP/d.d"
  return v.substr(0, 6) == " HTTP/" && std::isdigit(static_cast<unsigned char>(v[6])) && v[7] == '.' &&
         std::isdigit(static_cast<unsigned char>(v[8]));
}

}  // namespace

bool split_request_target(std::string_view target, std::string* path, std::string* query) {
  std::string_view t = target;
  if (t.empty()) return false;
  if (t.front() != '/') {
    // absolute-form (RFC 9112 §3.2.2): scheme "://" authority path-abempty.
    size_t scheme_end = t.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = t.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    t.remove_prefix(scheme_end + 3);
    size_t path_start = t.find_first_of("/?");
    if (path_start == std::string_view::npos) {
      t = "/";
    } else {
      t.remove_prefix(path_start);
    }
  }
  // One scan for '?', '#' and '%'. A fragment is never sent by conforming
  // clients (RFC 9110 §4.2.4); drop it if one is.
  size_t q = std::string_view::npos;
  size_t hash = t.size();
  bool escaped = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '?' && q == std::string_view::npos) {
      q = i;
    } else if (c == '#') {
      hash = i;
      break;
    } else if (c == '%' && q == std::string_view::npos) {
      escaped = true;
    }
  }
  std::string_view raw_path = t.substr(0, std::min(q, hash));
  std::string_view raw_query = q == std::string_view::npos ? std::string_view() : t.substr(q + 1, hash - q - 1);
  if (raw_path.empty()) raw_path = "/";
  if (!escaped) {
    path->assign(raw_path);
  } else {
    auto decoded = percent_decode(raw_path);
    if (!decoded || decoded->find('\0') != std::string::npos) return false;
    *path = std::move(*decoded);
  }
  query->assign(raw_query);
  return true;
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {
  reset();
}

HttpRequestParser::~HttpRequestParser() = default;

void HttpRequestParser::reset() {
  auto& p = impl_->parser.emplace();
  p.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits_.max_header_bytes, UINT32_MAX)));
  p.body_limit(static_cast<std::uint64_t>(limits_.max_body_bytes));
  p.eager(true);
  state_ = State::kNeedMore;
  started_ = false;
  expects_continue_ = false;
  keep_alive_ = false;
  upgrade_ = false;
  header_checked_ = false;
}

void HttpRequestParser::fail(int status, std::string code, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_code_ = std::move(code);
  error_message_ = std::move(message);
}

bool HttpRequestParser::validate_header() {
  header_checked_ = true;
  const auto& msg = impl_->parser->get();
  const unsigned version = msg.version();
  if (version != 10 && version != 11) {
    fail(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
    return false;
  }
  std::string_view method = msg.method_string();
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) {
    fail(400, "bad_request", "bad method");
    return false;
  }
  // One pass over the fields (Beast's count()/find() would each walk its
  // case-insensitive index).
  size_t hosts = 0;
  size_t te_count = 0;
  std::string_view te;
  for (const auto& f : msg) {
    switch (f.name()) {
      case http::field::host:
        ++hosts;
        break;
      case http::field::transfer_encoding:
        ++te_count;
        te = f.value();
        break;
      case http::field::expect:
        if (!iequals(trim(f.value()), "100-continue")) {
          fail(417, "expectation_failed", "unsupported Expect");
          return false;
        }
        expects_continue_ = true;
        break;
      default:
        break;
    }
  }
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host field.
  if ((version == 11 && hosts != 1) || hosts > 1) {
    fail(400, "bad_request", "HTTP/1.1 requires exactly one Host header");
    return false;
  }
  // RFC 9112 §6.1: a server must reject framing it does not understand, and a
  // 1.0 message carrying Transfer-Encoding is faulty framing.
  if (te_count > 0) {
    if (version == 10 || te_count > 1) {
      fail(400, "bad_request", "bad Transfer-Encoding");
      return false;
    }
    if (!iequals(trim(te), "chunked")) {
      fail(501, "not_implemented", "only the chunked transfer coding is supported");
      return false;
    }
  }
  std::string_view target = msg.target();
  if (target == "*" && method == "OPTIONS") {
    impl_->path = "*";
    impl_->query.clear();
  } else if (!split_request_target(target, &impl_->path, &impl_->query)) {
    fail(400, "bad_request", "bad request target");
    return false;
  }
  return true;
}

size_t HttpRequestParser::feed(std::string_view bytes) {
  if (state_ == State::kError || state_ == State::kDone || bytes.empty()) return 0;
  started_ = true;
  auto& p = *impl_->parser;
  size_t total = 0;
  while (total < bytes.size()) {
    boost::beast::error_code ec;
    size_t n = p.put(boost::asio::const_buffer(bytes.data() + total, bytes.size() - total), ec);
    total += n;
    if (ec == http::error::need_more) break;
    if (ec == http::error::header_limit) {
      fail(431, "header_too_large", "request header exceeds " + std::to_string(limits_.max_header_bytes) + " bytes");
      return total;
    }
    if (ec == http::error::body_limit) {
      fail(413, "payload_too_large", "request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
      return total;
    }
    if (ec == http::error::bad_version && !p.is_header_done() && is_unsupported_version_line(bytes)) {
      fail(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
      return total;
    }
    if (ec) {
      fail(400, "bad_request", "malformed request: " + ec.message());
      return total;
    }
    if (p.is_header_done() && !header_checked_ && !validate_header()) return total;
    if (p.is_done()) {
      keep_alive_ = p.keep_alive();
      upgrade_ = p.upgrade();
      state_ = State::kDone;
      return total;
    }
    if (n == 0) break;
  }
  if (p.is_header_done() && !header_checked_ && !validate_header()) return total;
  state_ = p.is_header_done() ? State::kHeaderDone : State::kNeedMore;
  return total;
}

void HttpRequestParser::feed_eof() {
  if (state_ == State::kDone || state_ == State::kError || !started_) return;
  fail(400, "bad_request", "truncated request");
}

Request HttpRequestParser::take_request() {
  CHIRON_CHECK(state_ == State::kDone, "take_request() before the request is complete");
  auto msg = impl_->parser->release();
  Request r;
  r.method.assign(msg.method_string());
  r.target.assign(msg.target());
  r.path = std::move(impl_->path);
  r.query = std::move(impl_->query);
  r.version = static_cast<int>(msg.version());
  size_t fields = 0;
  for (auto it = msg.begin(); it != msg.end(); ++it) ++fields;
  r.headers.reserve(fields);
  for (const auto& f : msg) r.headers.add(std::string(f.name_string()), std::string(f.value()));
  r.body = std::move(msg.body());
  reset();
  return r;
}

Result<Request> parse_http_request(std::string_view bytes, const HttpLimits& limits, size_t* consumed) {
  HttpRequestParser parser(limits);
  size_t n = parser.feed(bytes);
  if (parser.state() == HttpRequestParser::State::kNeedMore ||
      parser.state() == HttpRequestParser::State::kHeaderDone) {
    parser.feed_eof();
  }
  if (consumed) *consumed = n;
  if (parser.state() == HttpRequestParser::State::kDone) return parser.take_request();
  std::string msg = parser.error_message();
  switch (parser.error_status()) {
    case 413:
    case 431: return Status::resource_exhausted(std::move(msg));
    case 501:
    case 505: return Status::unimplemented(std::move(msg));
    default: return Status::invalid_argument(std::move(msg));
  }
}

}  // namespace chiron::net
