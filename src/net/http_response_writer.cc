#include "net/http_response_writer.h"

#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "net/http_date.h"

namespace chiron::net {
namespace {

bool is_token_char(unsigned char c) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kExtra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  return true;
}

bool valid_value(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

bool append_response_head(std::string& out, const Response& response, const ResponseHead& head) {
  if (response.status < 100 || response.status > 999) return false;
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
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection"))
      continue;
    if (!has_date && iequals(name, "date")) has_date = true;
    if (!has_server && iequals(name, "server")) has_server = true;
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
  if (!status_has_no_body(response.status)) {
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
