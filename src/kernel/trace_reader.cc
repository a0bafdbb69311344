#include "kernel/trace_reader.h"

#include <boost/json.hpp>
#include <fstream>
#include <utility>

namespace chiron::kernel {
namespace {

constexpr size_t kMaxStringBytes = 1024;

Status line_error(const std::string& what) { return Status::invalid_argument(what); }

// Integer fields must be JSON integers within int64 (no fraction, no exponent).
Result<int64_t> integer_field(const boost::json::value& v, const char* key) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return line_error(std::string(key) + ": integer out of range");
  return line_error(std::string(key) + ": expected an integer");
}

Result<std::string> string_field(const boost::json::value& v, const char* key) {
  if (!v.is_string()) return line_error(std::string(key) + ": expected a string");
  const auto& s = v.get_string();
  if (s.size() > kMaxStringBytes) return line_error(std::string(key) + ": string too long");
  return std::string(s.data(), s.size());
}

Result<boost::json::object> parse_flat_object(std::string_view line) {
  if (line.size() > kMaxTraceLineBytes) return Status::invalid_argument("line too long");
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(line, ec);  // RFC 8259, strict (no comments, valid UTF-8)
  if (ec) return line_error(ec.message());
  if (!doc.is_object()) return line_error("expected a JSON object");
  boost::json::object& obj = doc.get_object();
  for (const auto& kv : obj)
    if (kv.value().is_object() || kv.value().is_array())
      return line_error(std::string(kv.key()) + ": nested values are not supported");
  return std::move(obj);
}

Result<TraceRecord> kernel_record(const boost::json::object& obj) {
  TraceRecord rec;
  const auto* ts = obj.if_contains("ts_us");
  if (ts == nullptr) return line_error("missing \"ts_us\"");
  CHIRON_ASSIGN_OR_RETURN(rec.ts_us, integer_field(*ts, "ts_us"));
  const auto* kernel = obj.if_contains("kernel");
  if (kernel == nullptr) return line_error("missing \"kernel\"");
  CHIRON_ASSIGN_OR_RETURN(int64_t id, integer_field(*kernel, "kernel"));
  if (id < 0) return line_error("kernel: negative id");
  rec.kernel = static_cast<uint64_t>(id);
  for (auto [key, field] : {std::pair{"lane", &rec.lane}, std::pair{"device", &rec.device},
                            std::pair{"type", &rec.type}, std::pair{"event", &rec.event}}) {
    if (const auto* v = obj.if_contains(key)) {
      CHIRON_ASSIGN_OR_RETURN(*field, string_field(*v, key));
    }
  }
  if (rec.lane.empty()) return line_error("missing \"lane\"");
  if (rec.event.empty()) return line_error("missing \"event\"");
  if (rec.device.empty()) rec.device = rec.lane.substr(0, rec.lane.find('/'));
  if (rec.type.empty()) rec.type = "?";
  return rec;
}

// {"fluxion","thread","t0","t1"} → act_begin/act_end on lane main or worker/<thread>.
Result<std::vector<TraceRecord>> fluxion_records(const boost::json::object& obj, uint64_t run) {
  CHIRON_ASSIGN_OR_RETURN(std::string fluxion, string_field(obj.at("fluxion"), "fluxion"));
  if (fluxion.empty()) return line_error("fluxion: empty id");
  const auto* thread = obj.if_contains("thread");
  if (thread == nullptr) return line_error("missing \"thread\"");
  CHIRON_ASSIGN_OR_RETURN(int64_t tid, integer_field(*thread, "thread"));
  if (tid < 0) return line_error("thread: negative id");
  const auto* t0 = obj.if_contains("t0");
  const auto* t1 = obj.if_contains("t1");
  if (t0 == nullptr || t1 == nullptr) return line_error("missing \"t0\" or \"t1\"");
  CHIRON_ASSIGN_OR_RETURN(int64_t begin, integer_field(*t0, "t0"));
  CHIRON_ASSIGN_OR_RETURN(int64_t end, integer_field(*t1, "t1"));
  if (end < begin) return line_error("t1 before t0");
  TraceRecord rec;
  rec.lane = tid == 0 ? "main" : "worker/" + std::to_string(tid);
  rec.device = tid == 0 ? "main" : "worker";
  rec.kernel = run;
  rec.type = std::move(fluxion);
  std::vector<TraceRecord> out(2, rec);
  out[0].ts_us = begin;
  out[0].event = "act_begin";
  out[1].ts_us = end;
  out[1].event = "act_end";
  return out;
}

}  // namespace

Result<TraceRecord> parse_trace_line(std::string_view line) {
  CHIRON_ASSIGN_OR_RETURN(boost::json::object obj, parse_flat_object(line));
  return kernel_record(obj);
}

Result<std::vector<TraceRecord>> parse_trace_records(std::string_view line, uint64_t run) {
  CHIRON_ASSIGN_OR_RETURN(boost::json::object obj, parse_flat_object(line));
  if (obj.contains("fluxion")) return fluxion_records(obj, run);
  CHIRON_ASSIGN_OR_RETURN(TraceRecord rec, kernel_record(obj));
  return std::vector<TraceRecord>{std::move(rec)};
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
    auto recs = parse_trace_records(line, line_no);
    if (recs.ok()) {
      for (TraceRecord& rec : *recs) out.records.push_back(std::move(rec));
    } else {
      ++out.skipped_lines;
      if (out.first_error.empty()) out.first_error = "line " + std::to_string(line_no) + ": " + recs.status().message();
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
