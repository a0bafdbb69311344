#pragma once
// Reader for the kernel event log written by Runtime::write_trace(): JSON lines (parsed with
// Boost.JSON), one flat object per line; unknown scalar keys are ignored, nested values refused:
//   {"ts_us":123,"lane":"cpu/0","device":"cpu","kernel":42,"type":"Generate","event":"act_begin"}
// Required keys: ts_us (integer), lane, event (strings), kernel (non-negative integer).
// Hostile input never crashes: a bad line is skipped and counted, with the first error
// kept for the message. Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chiron::kernel {

struct TraceRecord {
  int64_t ts_us = 0;
  std::string lane;    // "cpu/0"
  std::string device;  // "cpu"; defaults to the lane up to '/'
  uint64_t kernel = 0;
  std::string type;    // kernel class, "?" if absent
  std::string event;   // queued, act_begin, act_end, react, committed, failed
};

struct TraceFile {
  std::vector<TraceRecord> records;
  size_t skipped_lines = 0;
  std::string first_error;  // "line 3: expected ':'", empty if none
};

inline constexpr size_t kMaxTraceLineBytes = 64 * 1024;
inline constexpr size_t kMaxTraceFileBytes = size_t{1} << 30;

// Parses one line (without its '\n').
Result<TraceRecord> parse_trace_line(std::string_view line);
// Parses a whole log; blank lines are ignored, bad lines skipped and counted.
TraceFile parse_trace_jsonl(std::string_view text);
// Reads and parses a file (at most kMaxTraceFileBytes).
Result<TraceFile> read_trace_file(const std::string& path);

}  // namespace chiron::kernel
