#pragma once
// Reader for the kernel event log written by Runtime::write_trace(): JSON lines (parsed with
// Boost.JSON), one flat object per line; unknown scalar keys are ignored, nested values refused:
//   {"ts_us":123,"lane":"cpu/0","device":"cpu","kernel":42,"type":"Generate","event":"act_begin"}
// Required keys: ts_us (integer), lane, event (strings), kernel (non-negative integer).
// A second line form is the fluxion trace written by the compiled-app runtime (fluxc's
// flx-runtime.js, FLX_TRACE=<file>; docs/fluxc.md "Running compiled apps"):
//   {"fluxion":"handler","thread":3,"t0":120,"t1":380}      (µs since a common origin)
// It becomes two records, act_begin at t0 and act_end at t1, on lane "main" for thread 0 and
// "worker/<thread>" otherwise (device "main" / "worker"), type = the fluxion id, kernel = the
// run's number in the file (its line number), so `chiron trace` draws one bar per run.
// Required: fluxion (string), thread (non-negative integer), t0 <= t1 (integers).
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

// Parses one kernel event line (without its '\n').
Result<TraceRecord> parse_trace_line(std::string_view line);
// Parses one line of either form: a kernel event (one record) or a fluxion run (two records,
// numbered `run`).
Result<std::vector<TraceRecord>> parse_trace_records(std::string_view line, uint64_t run);
// Parses a whole log; blank lines are ignored, bad lines skipped and counted.
TraceFile parse_trace_jsonl(std::string_view text);
// Reads and parses a file (at most kMaxTraceFileBytes).
Result<TraceFile> read_trace_file(const std::string& path);

}  // namespace chiron::kernel
