#include "net/http_response_writer.h"

#include <array>
#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "net/http_date.h"

namespace chiron::net {
namespace {

// RFC 9110 §5.6.2 tchar, as a table: this runs for every header of every response.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  return true;
}

bool valid_value(std::string_view value) {
  for (char c : value)
    if (static_cast<unsigned char>(c) <= '\r' && (c == '\r' || c == '\n' || c == '\0')) return false;
  return true;
}

// Header names the server treats specially, told apart by length first.
enum class Special { kNone, kFraming, kDate, kServer };
Special classify(std::string_view name) {
  switch (name.size()) {
    case 4: return iequals(name, "date") ? Special::kDate : Special::kNone;
    case 6: return iequals(name, "server") ? Special::kServer : Special::kNone;
    case 10: return iequals(name, "connection") ? Special::kFraming : Special::kNone;
    case 14: return iequals(name, "content-length") ? Special::kFraming : Special::kNone;
    case 17: return iequals(name, "transfer-encoding") ? Special::kFraming : Special::kNone;
    default: return Special::kNone;
  }
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

bool append_response_head(std::string& out, const Response& response, const ResponseHead& head) {
  // Interim (1xx) responses are the server's business (100 Continue, 101
  // Switching Protocols), written by it directly; a handler returning one
  // would leave the client waiting for a final response.
  if (response.status < 200 || response.status > 999) return false;
  const size_t old_size = out.size();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<uint64_t>(response.status));
  out += ' ';
  out += http_reason(response.status);
  out += "\r\n";
  bool has_date = false;
  bool has_server = false;
  for (const auto& [name, value] : response.headers.items()) {
    if (!valid_name(name) || !valid_value(value)) {
      out.resize(old_size);
      return false;
    }
    switch (classify(name)) {
      case Special::kFraming: continue;
      case Special::kDate: has_date = true; break;
      case Special::kServer: has_server = true; break;
      case Special::kNone: break;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!has_server && !head.server_name.empty()) {
    out += "Server: ";
    out += head.server_name;
    out += "\r\n";
  }
  if (!has_date) {
    out += "Date: ";
    out += http_date_now();
    out += "\r\n";
  }
  // RFC 9110 §8.6: no Content-Length in 1xx and 204; in 304 it would describe the 200.
  if (head.chunked && !status_has_no_body(response.status)) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (!status_has_no_body(response.status)) {
    out += "Content-Length: ";
    append_number(out, head.content_length);
    out += "\r\n";
  }
  if (head.close) {
    out += "Connection: close\r\n";
  } else if (head.keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return true;
}

}  // namespace chiron::net
