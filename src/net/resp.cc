// RESP2 command parsing and reply encoding. See resp.h. Error texts follow
// Redis (networking.c) so clients see the same messages they know.

#include "net/resp.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace chiron::net {

namespace {

// A RESP integer: optional '-', then digits, nothing else (Redis string2ll).
std::optional<int64_t> parse_resp_int(std::string_view s) {
  if (s.empty() || s.front() == '+') return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0'; }

}  // namespace

Status RespParser::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  line_.clear();
  current_ = {};
  return Status::invalid_argument(error_);
}

Result<bool> RespParser::take_line(std::string_view data, size_t& used) {
  const std::string_view rest = data.substr(used);
  const size_t nl = rest.find('\n');
  const size_t take = nl == std::string_view::npos ? rest.size() : nl;
  if (line_.size() + take > limits_.max_inline_bytes) {
    // Redis: "too big inline request" / "too big mbulk count string" / "too big bulk count string".
    if (state_ == State::kInlineLine) return fail("too big inline request");
    return fail(state_ == State::kArrayLine ? "too big mbulk count string" : "too big bulk count string");
  }
  line_.append(rest.substr(0, take));
  used += take;
  if (nl == std::string_view::npos) return false;
  ++used;  // the '\n'
  return true;
}

Result<size_t> RespParser::parse(std::string_view data, std::optional<RespCommand>& command) {
  command.reset();
  if (state_ == State::kFailed) return Status::invalid_argument(error_);
  size_t used = 0;
  while (used < data.size()) {
    switch (state_) {
      case State::kStart:
        current_ = {};
        line_.clear();
        state_ = data[used] == '*' ? State::kArrayLine : State::kInlineLine;
        break;

      case State::kInlineLine: {
        auto full = take_line(data, used);
        if (!full.ok()) return std::move(full).status();
        if (!*full) return used;
        std::string_view line = line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto args = split_inline_command(line);
        if (!args.ok()) return fail("unbalanced quotes in request");
        state_ = State::kStart;
        if (args->empty()) break;  // blank line: Redis ignores it
        command = RespCommand{std::move(args).value(), true};
        return used;
      }

      case State::kArrayLine: {
        auto full = take_line(data, used);
        if (!full.ok()) return std::move(full).status();
        if (!*full) return used;
        // RESP lines end in CRLF; the '*' is line_[0].
        if (line_.size() < 2 || line_.back() != '\r') return fail("invalid multibulk length");
        auto n = parse_resp_int(std::string_view(line_).substr(1, line_.size() - 2));
        if (!n || *n > static_cast<int64_t>(limits_.max_args)) return fail("invalid multibulk length");
        if (*n <= 0) {  // "*0" and "*-1": an empty command, skipped like Redis does
          state_ = State::kStart;
          break;
        }
        args_left_ = *n;
        current_.args.reserve(static_cast<size_t>(std::min<int64_t>(*n, 16)));
        line_.clear();
        state_ = State::kBulkLine;
        break;
      }

      case State::kBulkLine: {
        auto full = take_line(data, used);
        if (!full.ok()) return std::move(full).status();
        if (!*full) return used;
        if (line_.empty() || line_[0] != '$') {
          std::string got = line_.empty() ? std::string("\\n") : std::string(1, line_[0]);
          if (!line_.empty() && (static_cast<unsigned char>(line_[0]) < 0x20 || static_cast<unsigned char>(line_[0]) >= 0x7f))
            got = "\\x" + std::string(1, "0123456789abcdef"[static_cast<unsigned char>(line_[0]) >> 4]) +
                  "0123456789abcdef"[static_cast<unsigned char>(line_[0]) & 15];
          return fail("expected '$', got '" + got + "'");
        }
        if (line_.size() < 2 || line_.back() != '\r') return fail("invalid bulk length");
        auto len = parse_resp_int(std::string_view(line_).substr(1, line_.size() - 2));
        if (!len || *len < 0 || static_cast<uint64_t>(*len) > limits_.max_bulk_bytes) return fail("invalid bulk length");
        bulk_left_ = static_cast<size_t>(*len);
        current_.args.emplace_back();
        // Reserve modestly: the length is a claim, the bytes may never come.
        current_.args.back().reserve(std::min<size_t>(bulk_left_, 16 * 1024));
        line_.clear();
        state_ = bulk_left_ > 0 ? State::kBulkData : State::kBulkCr;
        break;
      }

      case State::kBulkData: {
        const size_t take = std::min(bulk_left_, data.size() - used);
        current_.args.back().append(data.data() + used, take);
        used += take;
        bulk_left_ -= take;
        if (bulk_left_ == 0) state_ = State::kBulkCr;
        break;
      }

      case State::kBulkCr:
        if (data[used] != '\r') return fail("expected CRLF after bulk string");
        ++used;
        state_ = State::kBulkLf;
        break;

      case State::kBulkLf:
        if (data[used] != '\n') return fail("expected CRLF after bulk string");
        ++used;
        if (--args_left_ > 0) {
          state_ = State::kBulkLine;
          break;
        }
        state_ = State::kStart;
        command = std::move(current_);
        current_ = {};
        return used;

      case State::kFailed:
        return Status::invalid_argument(error_);
    }
  }
  return used;
}

Result<std::vector<std::string>> split_inline_command(std::string_view line) {
  std::vector<std::string> args;
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) return args;
    bool in_dq = false;
    bool in_sq = false;
    std::string cur;
    for (bool done = false; !done;) {
      const bool at_end = i >= n;
      const char c = at_end ? '\0' : line[i];
      if (in_dq) {
        if (at_end) return Status::invalid_argument("unbalanced quotes");
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 && hex_value(line[i + 3]) >= 0) {
          cur.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': cur.push_back('\n'); break;
            case 'r': cur.push_back('\r'); break;
            case 't': cur.push_back('\t'); break;
            case 'b': cur.push_back('\b'); break;
            case 'a': cur.push_back('\a'); break;
            default: cur.push_back(line[i]); break;
          }
        } else if (c == '"') {
          // The closing quote must be followed by a space or the end.
          if (i + 1 < n && !is_space(line[i + 1])) return Status::invalid_argument("unbalanced quotes");
          done = true;
        } else {
          cur.push_back(c);
        }
      } else if (in_sq) {
        if (at_end) return Status::invalid_argument("unbalanced quotes");
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          cur.push_back('\'');
        } else if (c == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return Status::invalid_argument("unbalanced quotes");
          done = true;
        } else {
          cur.push_back(c);
        }
      } else if (at_end || is_space(c)) {
        done = true;
      } else if (c == '"') {
        in_dq = true;
      } else if (c == '\'') {
        in_sq = true;
      } else {
        cur.push_back(c);
      }
      if (!at_end) ++i;
    }
    args.push_back(std::move(cur));
  }
}

void append_resp_simple(std::string& out, std::string_view s) {
  out.push_back('+');
  const size_t start = out.size();
  out.append(s);
  // A simple string cannot contain CR or LF; replace rather than corrupt the stream.
  std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                  [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out.append("\r\n");
}

void append_resp_error(std::string& out, std::string_view message, std::string_view kind) {
  out.push_back('-');
  const size_t start = out.size();
  if (!kind.empty()) {
    out.append(kind);
    out.push_back(' ');
  }
  out.append(message);
  std::replace_if(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
                  [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out.append("\r\n");
}

void append_resp_integer(std::string& out, int64_t n) {
  out.push_back(':');
  out.append(std::to_string(n));
  out.append("\r\n");
}

void append_resp_bulk(std::string& out, std::string_view s) {
  out.push_back('$');
  out.append(std::to_string(s.size()));
  out.append("\r\n");
  out.append(s);
  out.append("\r\n");
}

void append_resp_array_header(std::string& out, size_t n) {
  out.push_back('*');
  out.append(std::to_string(n));
  out.append("\r\n");
}

std::string resp_simple(std::string_view s) {
  std::string out;
  append_resp_simple(out, s);
  return out;
}

std::string resp_error(std::string_view message, std::string_view kind) {
  std::string out;
  append_resp_error(out, message, kind);
  return out;
}

std::string resp_protocol_error(std::string_view why) {
  return resp_error("Protocol error: " + std::string(why));
}

std::string resp_integer(int64_t n) {
  std::string out;
  append_resp_integer(out, n);
  return out;
}

std::string resp_bulk(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  append_resp_bulk(out, s);
  return out;
}

std::string resp_null() { return "$-1\r\n"; }
std::string resp_null_array() { return "*-1\r\n"; }

std::string resp_array(std::initializer_list<std::string_view> encoded_elements) {
  std::string out;
  append_resp_array_header(out, encoded_elements.size());
  for (std::string_view e : encoded_elements) out.append(e);
  return out;
}

std::string resp_array(const std::vector<std::string>& encoded_elements) {
  std::string out;
  append_resp_array_header(out, encoded_elements.size());
  for (const std::string& e : encoded_elements) out.append(e);
  return out;
}

std::string resp_bulk_array(const std::vector<std::string>& strings) {
  std::string out;
  append_resp_array_header(out, strings.size());
  for (const std::string& s : strings) append_resp_bulk(out, s);
  return out;
}

}  // namespace chiron::net
