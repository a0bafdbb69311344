// Fluxional text (the paper's Figure 1 grammar), reader and canonical writer. The format is
// line-based: a column-0 `flx` line starts a fluxion, the column-0 `>>`/`->` lines right after it
// are its streams, and every line indented by 2 spaces (or blank) up to the next `flx` line is its
// body. Bodies can therefore hold any text, including lines that start with `flx`, `>>` or `->`
// once indented. The reader is one pass over string_views with errors at "line:col" (columns
// count UTF-8 characters, 1-based); memory stays proportional to the Program it builds.
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/strings.h"
#include "flux/graph.h"
#include "flux/graph_internal.h"

namespace chiron::flux {

namespace {

void append_list(std::string& out, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool all_blank(std::string_view s) {
  for (char c : s) {
    if (!is_blank(c)) return false;
  }
  return true;
}

bool starts_with_keyword(std::string_view line) {
  return line.starts_with("flx") && (line.size() == 3 || is_blank(line[3]));
}

bool is_stream_line(std::string_view line) { return line.starts_with(">>") || line.starts_with("->"); }

// 1-based column of byte `at` of `line`, counting UTF-8 characters.
size_t column_of(std::string_view line, size_t at) {
  size_t col = 1;
  for (size_t i = 0; i < at && i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xc0) != 0x80) ++col;
  }
  return col;
}

// Parsed-line failures carry the byte offset within the line; the reader adds line:col.
struct LineError {
  size_t at = 0;
  std::string message;
};

class LineCursor {
 public:
  explicit LineCursor(std::string_view s, size_t start = 0) : s_(s), i_(start) {}
  void skip_blanks() {
    while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
  }
  bool at_end() const { return i_ == s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view identifier() {
    const size_t start = i_;
    if (i_ < s_.size() && detail::is_ident_start(s_[i_])) {
      ++i_;
      while (i_ < s_.size() && detail::is_ident_char(s_[i_])) ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  size_t pos() const { return i_; }

 private:
  std::string_view s_;
  size_t i_;
};

// Reads `name, name, ...` (at least one) up to and including the closing character; with
// close == 0 (the tags) up to the end of the line or a '{', not consumed. `what` names one element
// ("tag"); `closer` names the list for "expected ']' to close the message variables".
bool read_names(LineCursor& cur, std::vector<std::string>& out, char close, std::string_view what,
                std::string_view closer, LineError& err) {
  std::unordered_set<std::string_view> seen;
  for (;;) {
    cur.skip_blanks();
    const size_t at = cur.pos();
    const std::string_view name = cur.identifier();
    if (name.empty()) {
      err = {at, "expected a " + std::string(what) + " name"};
      return false;
    }
    if (name == "null") {
      err = {at, "'null' is not a valid " + std::string(what) + " name"};
      return false;
    }
    if (!seen.insert(name).second) {
      err = {at, "duplicate " + std::string(what) + " " + detail::quote(name)};
      return false;
    }
    if (out.size() == kMaxNamesPerList) {
      err = {at, "more than " + std::to_string(kMaxNamesPerList) + " names in one list"};
      return false;
    }
    out.emplace_back(name);
    cur.skip_blanks();
    if (cur.eat(',')) continue;
    if (close != 0 && cur.eat(close)) return true;
    if (close == 0 && (cur.at_end() || cur.peek() == '{')) return true;
    if (close != 0) {
      err = {cur.pos(), "expected '" + std::string(1, close) + "' to close the " + std::string(closer)};
    } else {
      err = {cur.pos(), "expected ',', '{' or the end of the line after the tags"};
    }
    return false;
  }
}

// "flx id[ & t1, t2][ {c1, c2}]"; the caller checked starts_with_keyword(line).
// id_at receives the byte offset of the id in the line.
bool parse_header(std::string_view line, Fluxion& f, size_t& id_at, LineError& err) {
  LineCursor cur(line, 3);
  cur.skip_blanks();
  id_at = cur.pos();
  const std::string_view id = cur.identifier();
  if (id.empty()) {
    err = {id_at, cur.at_end() ? "expected a fluxion id after 'flx'" : "expected a fluxion id (an identifier: "
                                                                       "letters, digits, '_' or '$', not starting "
                                                                       "with a digit)"};
    return false;
  }
  if (id == "null") {
    err = {id_at, "'null' is not a valid fluxion id"};
    return false;
  }
  f.id = id;
  cur.skip_blanks();
  if (cur.eat('&')) {
    if (!read_names(cur, f.tags, 0, "tag", "", err)) return false;
  }
  cur.skip_blanks();
  if (cur.eat('{')) {
    if (!read_names(cur, f.ctx, '}', "context variable", "context variables", err)) return false;
    cur.skip_blanks();
    if (!cur.at_end()) {
      err = {cur.pos(), line[cur.pos()] == '&' ? "expected the end of the line after '}' (tags come before the "
                                                 "context: flx id & tags {ctx})"
                                               : "expected the end of the line after '}'"};
      return false;
    }
    return true;
  }
  if (!cur.at_end()) {
    err = {cur.pos(), f.tags.empty() ? "expected '&', '{' or the end of the line after the fluxion id"
                                     : "expected ',', '{' or the end of the line after the tags"};
    return false;
  }
  return true;
}

// ">> a, b [v1, v2]" / "-> a" / "-> null" (null_line set, stream left empty). offsets receive
// the byte offset of each destination.
bool parse_stream(std::string_view line, Stream& s, bool& null_line, std::vector<size_t>* offsets,
                  LineError& err) {
  s.type = line.starts_with(">>") ? StreamType::kStart : StreamType::kPost;
  LineCursor cur(line, 2);
  cur.skip_blanks();
  const size_t first_at = cur.pos();
  if (cur.identifier() == "null") {
    cur.skip_blanks();
    if (s.type == StreamType::kStart) {
      err = {first_at, "'>> null' is not a stream; a fluxion without streams has the single line '-> null'"};
      return false;
    }
    if (!cur.at_end()) {
      err = {cur.pos(), "expected the end of the line after '-> null' (it stands alone, without destinations "
                        "or message variables)"};
      return false;
    }
    null_line = true;
    return true;
  }
  cur = LineCursor(line, first_at);
  std::unordered_set<std::string_view> seen;
  for (;;) {
    cur.skip_blanks();
    const size_t at = cur.pos();
    const std::string_view name = cur.identifier();
    if (name.empty()) {
      err = {at, "expected a destination fluxion id"};
      return false;
    }
    if (name == "null") {
      err = {at, "'null' is not a valid destination ('-> null' stands alone on its line)"};
      return false;
    }
    if (!seen.insert(name).second) {
      err = {at, "duplicate destination " + detail::quote(name)};
      return false;
    }
    if (s.dest.size() == kMaxNamesPerList) {
      err = {at, "more than " + std::to_string(kMaxNamesPerList) + " names in one list"};
      return false;
    }
    s.dest.emplace_back(name);
    if (offsets) offsets->push_back(at);
    cur.skip_blanks();
    if (cur.eat(',')) continue;
    break;
  }
  if (cur.eat('[')) {
    if (!read_names(cur, s.vars, ']', "message variable", "message variables", err)) return false;
    cur.skip_blanks();
    if (!cur.at_end()) {
      err = {cur.pos(), "expected the end of the line after ']'"};
      return false;
    }
    return true;
  }
  if (!cur.at_end()) {
    err = {cur.pos(), "expected ',', '[' or the end of the line after the destination"};
    return false;
  }
  return true;
}

class TextReader {
 public:
  explicit TextReader(std::string_view text) : text_(text) {}

  Result<Program> read() {
    if (text_.size() > kMaxDocumentBytes) {
      return Status::invalid_argument("1:1: text longer than " + std::to_string(kMaxDocumentBytes) + " bytes");
    }
    CHIRON_RETURN_IF_ERROR(check_utf8());
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t nl = text_.find('\n', pos);
      const size_t end = nl == std::string_view::npos ? text_.size() : nl;
      line_start_ = pos;
      line_ = text_.substr(pos, end - pos);
      ++line_no_;
      if (line_.ends_with('\r') && nl != std::string_view::npos) line_.remove_suffix(1);
      if (size_t cr = line_.find('\r'); cr != std::string_view::npos) {
        return error(cr, "carriage return not followed by a line feed");
      }
      CHIRON_RETURN_IF_ERROR(take_line());
      pos = nl == std::string_view::npos ? text_.size() : nl + 1;
    }
    ++line_no_;
    line_ = {};
    CHIRON_RETURN_IF_ERROR(finish_fluxion());
    CHIRON_RETURN_IF_ERROR(check_destinations());
    return std::move(program_);
  }

 private:
  enum class State { kTop, kFirstStream, kStreams, kBody };

  struct StreamAt {  // where each stream line is, to place "unknown destination" errors
    size_t line_no;
    size_t line_start;
  };

  Status error(size_t at, std::string_view message) const {
    return Status::invalid_argument(std::to_string(line_no_) + ":" + std::to_string(column_of(line_, at)) + ": " +
                                    std::string(message));
  }

  Status check_utf8() {
    size_t line_start = 0;
    size_t line_no = 1;
    for (size_t i = 0; i < text_.size();) {
      const auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++line_no;
        line_start = ++i;
        continue;
      }
      if (c < 0x80) {
        ++i;
        continue;
      }
      const size_t n = utf8_sequence_length(text_, i);
      if (n == 0) {
        line_no_ = line_no;
        line_ = text_.substr(line_start, i - line_start);
        return error(i - line_start, "invalid UTF-8");
      }
      i += n;
    }
    return ok_status();
  }

  Status take_line() {
    const bool blank = all_blank(line_);
    switch (state_) {
      case State::kTop:
        if (blank) return ok_status();
        if (starts_with_keyword(line_)) return start_fluxion();
        if (is_blank(line_[0])) return error(0, "expected 'flx <id>' to start a fluxion, found an indented line");
        return error(0, "expected 'flx <id>' to start a fluxion");
      case State::kFirstStream:
        if (!is_stream_line(line_)) {
          return error(0, "expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header");
        }
        return take_stream();
      case State::kStreams:
        if (is_stream_line(line_)) return take_stream();
        if (starts_with_keyword(line_)) return start_fluxion();
        if (!blank && !is_blank(line_[0])) {
          return error(0, "expected a stream line, a body line indented by 2 spaces or 'flx <id>'");
        }
        state_ = State::kBody;
        return take_body_line(blank);
      case State::kBody:
        if (starts_with_keyword(line_)) return start_fluxion();
        if (is_stream_line(line_)) {
          return error(0, "stream lines must come right after the fluxion header, before the body");
        }
        return take_body_line(blank);
    }
    return ok_status();
  }

  Status start_fluxion() {
    CHIRON_RETURN_IF_ERROR(finish_fluxion());
    if (program_.fluxions.size() == kMaxFluxions) {
      return error(0, "more than " + std::to_string(kMaxFluxions) + " fluxions");
    }
    Fluxion& f = program_.fluxions.emplace_back();
    LineError err;
    size_t id_at = 0;
    if (!parse_header(line_, f, id_at, err)) return error(err.at, err.message);
    auto [it, fresh] = ids_.emplace(line_.substr(id_at, f.id.size()), line_no_);
    if (!fresh) {
      return error(id_at, "duplicate fluxion id " + detail::quote(f.id) + " (first on line " +
                              std::to_string(it->second) + ")");
    }
    state_ = State::kFirstStream;
    null_line_ = false;
    body_lines_ = 0;
    pending_blank_lines_ = 0;
    return ok_status();
  }

  Status take_stream() {
    Fluxion& f = program_.fluxions.back();
    if (null_line_) return error(0, "'-> null' must be the only stream line of its fluxion");
    if (f.streams.size() == kMaxNamesPerList) {
      return error(0, "more than " + std::to_string(kMaxNamesPerList) + " streams in one fluxion");
    }
    Stream s;
    bool null_line = false;
    LineError err;
    if (!parse_stream(line_, s, null_line, nullptr, err)) return error(err.at, err.message);
    if (null_line) {
      if (!f.streams.empty()) return error(0, "'-> null' must be the only stream line of its fluxion");
      null_line_ = true;
    } else {
      f.streams.push_back(std::move(s));
      stream_at_.push_back({line_no_, line_start_});
    }
    state_ = State::kStreams;
    return ok_status();
  }

  // A body line is a blank line or one indented by 2 spaces (which are not part of the body).
  Status take_body_line(bool blank) {
    std::string_view content;
    if (line_.starts_with("  ")) {
      content = line_.substr(2);
    } else if (!blank) {
      if (line_[0] == '\t') return error(0, "body lines must be indented by 2 spaces, not a tab");
      if (line_[0] == ' ') return error(0, "body lines must be indented by 2 spaces, not 1");
      return error(0, "body lines must be indented by 2 spaces");
    }
    if (content.empty()) {  // kept only if a non-empty line follows (trailing blank lines are dropped)
      ++pending_blank_lines_;
      return ok_status();
    }
    std::string& body = program_.fluxions.back().body;
    const size_t newlines = pending_blank_lines_ + (body_lines_ > 0 ? 1 : 0);
    if (body.size() + newlines + content.size() > kMaxBodyBytes) {
      return error(0, "the body of fluxion " + detail::quote(program_.fluxions.back().id) + " is longer than " +
                          std::to_string(kMaxBodyBytes) + " bytes");
    }
    body.append(newlines, '\n');
    body.append(content);
    body_lines_ += pending_blank_lines_ + 1;
    pending_blank_lines_ = 0;
    return ok_status();
  }

  Status finish_fluxion() {
    if (state_ == State::kFirstStream) {
      return error(0, "expected a stream line ('>> dest', '-> dest' or '-> null') after the fluxion header");
    }
    return ok_status();
  }

  Status check_destinations() {
    size_t k = 0;
    for (const Fluxion& f : program_.fluxions) {
      for (const Stream& s : f.streams) {
        const StreamAt& at = stream_at_[k++];
        for (size_t d = 0; d < s.dest.size(); ++d) {
          if (ids_.contains(s.dest[d])) continue;
          // Parse the line again for the column of this destination.
          line_no_ = at.line_no;
          line_ = text_.substr(at.line_start, text_.find('\n', at.line_start) - at.line_start);
          if (line_.ends_with('\r')) line_.remove_suffix(1);
          Stream again;
          bool null_line = false;
          std::vector<size_t> offsets;
          LineError err;
          const bool ok = parse_stream(line_, again, null_line, &offsets, err);
          return error(ok && d < offsets.size() ? offsets[d] : 0,
                       "unknown destination fluxion " + detail::quote(s.dest[d]));
        }
      }
    }
    return ok_status();
  }

  std::string_view text_;
  std::string_view line_;
  size_t line_start_ = 0;
  size_t line_no_ = 0;
  State state_ = State::kTop;
  bool null_line_ = false;
  size_t body_lines_ = 0;           // body lines taken so far in the current fluxion
  size_t pending_blank_lines_ = 0;  // blank lines not yet appended (dropped if trailing)
  Program program_;
  std::unordered_map<std::string_view, size_t> ids_;  // fluxion id → line (views into text_)
  std::vector<StreamAt> stream_at_;
};

}  // namespace

std::string write_text(const Program& program) {
  std::string out;
  for (size_t i = 0; i < program.fluxions.size(); ++i) {
    const Fluxion& f = program.fluxions[i];
    if (i > 0) out += '\n';
    out += "flx ";
    out += f.id;
    if (!f.tags.empty()) {
      out += " & ";
      append_list(out, f.tags);
    }
    if (!f.ctx.empty()) {
      out += " {";
      append_list(out, f.ctx);
      out += '}';
    }
    out += '\n';
    if (f.streams.empty()) out += "-> null\n";
    for (const Stream& s : f.streams) {
      out += stream_arrow(s.type);
      out += ' ';
      append_list(out, s.dest);
      if (!s.vars.empty()) {
        out += " [";
        append_list(out, s.vars);
        out += ']';
      }
      out += '\n';
    }
    std::string_view body = f.body;
    while (body.ends_with('\n')) body.remove_suffix(1);  // trailing blank lines are not representable
    while (!body.empty()) {
      const size_t nl = body.find('\n');
      const std::string_view line = body.substr(0, nl);
      if (!line.empty()) {
        out += "  ";
        out += line;
      }
      out += '\n';
      body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    }
  }
  return out;
}

Result<Program> read_text(std::string_view text) { return TextReader(text).read(); }

}  // namespace chiron::flux
