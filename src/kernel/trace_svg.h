#pragma once
// Event-plot renderer (the paper's Fig. 2): time on x, one lane per pipeline thread,
// act_begin..act_end of each kernel as a bar coloured by kernel type, with a legend, axis
// ticks in ms and lane labels, so overlap of compute and I/O is visible.
// Pure functions apart from file I/O; thread-safe.

#include <string>

#include "common/status.h"
#include "kernel/trace_reader.h"

namespace chiron::kernel {

struct TraceSvgOptions {
  int width_px = 1200;
  int lane_height_px = 22;
  std::string title = "chiron kernel event plot";
};

// Renders parsed records to an SVG document.
std::string render_trace_svg(const TraceFile& trace, const TraceSvgOptions& options = {});
// Reads a JSONL event log and writes the plot. Malformed lines are skipped (the count is
// logged and printed in the plot); fails if the file cannot be read or written or holds
// no valid event.
Status render_trace_svg(const std::string& jsonl_in, const std::string& svg_out);

}  // namespace chiron::kernel
