#pragma once
// TraceLog: the runtime's event log. One TraceBuffer per runtime thread (lanes "cpu/0",
// "disk/1", "net/0", "timer/0") plus one per external thread that schedules kernels
// ("ext/0"...). Recording is lock-free (each thread appends to its own buffer); adding a
// lane and writing the log take mu_. Thread-safe.
// Timestamps: with the system Clock on x86 with an invariant TSC, events store raw TSC
// ticks (rdtsc, ~8 ns instead of ~30 ns for clock_gettime) converted to µs when written,
// calibrated against the Clock between construction and write; otherwise the Clock's µs.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kernel/trace_buffer.h"
#include "kernel/worker_context.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace chiron::kernel::internal {

class TraceLog {
 public:
  TraceLog(const Clock& clock, bool enabled);
  ~TraceLog();

  bool enabled() const { return enabled_; }
  // A new lane; the pointer stays valid for the TraceLog's life.
  TraceBuffer* add_lane(std::string lane);
  // Inline: the cost of an event is one timestamp and a 32-byte store.
  void record(TraceKind kind, uint64_t kernel, Device device, const std::type_info& type,
              uint64_t child = 0, StatusCode code = StatusCode::kOk) {
    const WorkerContext* w = tls_worker;
    TraceBuffer* buffer = w != nullptr && w->trace_log == this ? w->trace : external_buffer();
    buffer->append(TraceEntry{now_raw() - origin_raw_, TraceEntry::pack(kernel, kind, device, code), &type, child});
  }
  // All events so far as JSON lines sorted by time (see the renderer for the schema).
  Status write_jsonl(const std::string& path) const;
  uint64_t events() const;
  uint64_t dropped() const;

 private:
  TraceBuffer* external_buffer();
  int64_t now_raw() const {
#if defined(__x86_64__)
    if (use_tsc_) return static_cast<int64_t>(__rdtsc());
#endif
    return clock_.steady_us();
  }
  // Converts a stored timestamp to µs since the log started.
  struct Calibration {
    double ticks_per_us = 1;
  };
  Calibration calibrate() const;

  const Clock& clock_;
  const bool enabled_;
  const bool use_tsc_;
  const int64_t origin_us_;
  const int64_t origin_raw_;
  const uint64_t serial_;  // tells this log apart from others in thread_local caches
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<TraceBuffer>> buffers_;  // Guarded by mu_
  unsigned external_lanes_ = 0;                         // Guarded by mu_
};

// "Generate" for chiron::demo::Generate; template names are kept whole.
std::string short_type_name(const std::type_info& type);

}  // namespace chiron::kernel::internal
