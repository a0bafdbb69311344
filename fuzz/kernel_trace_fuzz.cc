// libFuzzer target for the kernel event-log reader (trace_reader.h) and the SVG renderer
// fed by it: any bytes must parse or be rejected line by line, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernel/trace_reader.h"
#include "kernel/trace_svg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  chiron::kernel::TraceFile trace = chiron::kernel::parse_trace_jsonl(text);
  if (trace.records.size() <= 4096) {
    std::string svg = chiron::kernel::render_trace_svg(trace);
    if (svg.empty()) __builtin_trap();
  }
  return 0;
}
