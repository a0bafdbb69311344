#include "kernel/trace_reader.h"

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

namespace chiron::kernel {
namespace {

constexpr size_t kMaxStringBytes = 1024;

// A cursor over one line; every method checks bounds, none throws.
class LineParser {
 public:
  explicit LineParser(std::string_view s) : s_(s) {}

  Result<TraceRecord> parse() {
    TraceRecord rec;
    bool has_ts = false, has_lane = false, has_kernel = false, has_event = false;
    skip_ws();
    if (!eat('{')) return error("expected '{'");
    skip_ws();
    if (!eat('}')) {
      for (;;) {
        skip_ws();
        auto key = parse_string();
        if (!key) return error(err_);
        skip_ws();
        if (!eat(':')) return error("expected ':' after key");
        skip_ws();
        if (*key == "ts_us") {
          auto v = parse_int();
          if (!v) return error("ts_us: " + err_);
          rec.ts_us = *v;
          has_ts = true;
        } else if (*key == "kernel") {
          auto v = parse_int();
          if (!v) return error("kernel: " + err_);
          if (*v < 0) return error("kernel: negative id");
          rec.kernel = static_cast<uint64_t>(*v);
          has_kernel = true;
        } else if (*key == "lane" || *key == "device" || *key == "type" || *key == "event") {
          auto v = parse_string();
          if (!v) return error(*key + ": " + err_);
          if (*key == "lane") rec.lane = std::move(*v), has_lane = true;
          else if (*key == "device") rec.device = std::move(*v);
          else if (*key == "type") rec.type = std::move(*v);
          else rec.event = std::move(*v), has_event = true;
        } else if (!skip_scalar()) {
          return error(*key + ": " + err_);
        }
        skip_ws();
        if (eat(',')) continue;
        if (eat('}')) break;
        return error("expected ',' or '}'");
      }
    }
    skip_ws();
    if (pos_ != s_.size()) return error("trailing characters after the object");
    if (!has_ts) return error("missing \"ts_us\"");
    if (!has_lane || rec.lane.empty()) return error("missing \"lane\"");
    if (!has_kernel) return error("missing \"kernel\"");
    if (!has_event || rec.event.empty()) return error("missing \"event\"");
    if (rec.device.empty()) rec.device = rec.lane.substr(0, rec.lane.find('/'));
    if (rec.type.empty()) rec.type = "?";
    return rec;
  }

 private:
  Status error(const std::string& what) const {
    return Status::invalid_argument("column " + std::to_string(pos_ + 1) + ": " + what);
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    if (at_end() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::optional<uint32_t> parse_hex4() {
    if (s_.size() - pos_ < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return std::nullopt;
    }
    return v;
  }

  // RFC 8259 §7.
  std::optional<std::string> parse_string() {
    if (!eat('"')) return fail("expected a string");
    std::string out;
    for (;;) {
      if (at_end()) return fail("unterminated string");
      if (out.size() > kMaxStringBytes) return fail("string too long");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) return fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto hi = parse_hex4();
          if (!hi) return fail("bad \\u escape");
          uint32_t cp = *hi;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!eat('\\') || !eat('u')) return fail("unpaired surrogate");
            auto lo = parse_hex4();
            if (!lo || *lo < 0xDC00 || *lo > 0xDFFF) return fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }

  // A JSON integer (no fraction/exponent), within int64.
  std::optional<int64_t> parse_int() {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!(peek() >= '0' && peek() <= '9')) return fail("expected an integer");
    while (peek() >= '0' && peek() <= '9') ++pos_;
    if (peek() == '.' || peek() == 'e' || peek() == 'E') return fail("expected an integer, got a fraction");
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (ec != std::errc() || ptr != s_.data() + pos_) return fail("integer out of range");
    return v;
  }

  // Skips a string, number, true, false or null; nested values are rejected.
  bool skip_scalar() {
    char c = peek();
    if (c == '"') return parse_string().has_value();
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      while (!at_end() && std::string_view("+-.eE0123456789").find(s_[pos_]) != std::string_view::npos) ++pos_;
      double d;
      auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, d);
      if ((ec != std::errc() && ec != std::errc::result_out_of_range) || ptr != s_.data() + pos_) {
        fail("bad number");
        return false;
      }
      return true;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return true;
      }
    }
    fail(c == '{' || c == '[' ? "nested values are not supported" : "expected a value");
    return false;
  }

  std::nullopt_t fail(std::string what) {
    err_ = std::move(what);
    return std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string err_;
};

}  // namespace

Result<TraceRecord> parse_trace_line(std::string_view line) {
  if (line.size() > kMaxTraceLineBytes) return Status::invalid_argument("line too long");
  return LineParser(line).parse();
}

TraceFile parse_trace_jsonl(std::string_view text) {
  TraceFile out;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto rec = parse_trace_line(line);
    if (rec.ok()) {
      out.records.push_back(std::move(rec).value());
    } else {
      ++out.skipped_lines;
      if (out.first_error.empty()) out.first_error = "line " + std::to_string(line_no) + ": " + rec.status().message();
    }
  }
  return out;
}

Result<TraceFile> read_trace_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot open trace " + path);
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return Status::io_error("cannot size trace " + path);
  if (static_cast<uint64_t>(size) > kMaxTraceFileBytes)
    return Status::resource_exhausted("trace " + path + " is larger than 1 GiB");
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) return Status::io_error("cannot read trace " + path);
  return parse_trace_jsonl(text);
}

}  // namespace chiron::kernel
