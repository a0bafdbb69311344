#pragma once
// The AR wave generator the OpenMP way (the paper's baseline, §5.1): the same algorithm
// and the same per-point arithmetic as src/jobs/ar.h (filter_box, counter-based noise), so
// the output bytes must be identical — but parallelised with OpenMP worksharing over the
// same part grid, and the
// whole surface is generated first, then trimmed, then written by one thread. Parts are
// OpenMP tasks with depend() clauses (or wavefronts of `omp for`, see OmpMode).
//
// It records its own event log (one lane per OpenMP thread, act_begin/act_end per part,
// trim slab and write chunk) in the JSONL schema of kernel/trace_reader.h, so the same
// plot renderer and overhead table read it.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/ar.h"

namespace chiron::bench {

struct OmpSpan {
  int thread = 0;
  int64_t begin_us = 0, end_us = 0;  // since the run started
  const char* type = "";             // "Generate", "Trim", "Write", "Sync", "Coefficients"
  const char* device = "cpu";
};

struct OmpRun {
  Status status;
  double seconds = 0;           // whole run (coefficients … fsync)
  double generate_seconds = 0;  // [G0, G1]
  double write_seconds = 0;     // [W0, W1]
  std::vector<OmpSpan> spans;
};

// kTasks: one task per part with depend() on its predecessors (OpenMP 4.0; the strongest
// OpenMP schedule here). kWavefront: `omp for` over each anti-diagonal, barrier between.
enum class OmpMode { kTasks, kWavefront };
OmpRun run_ar_openmp(const jobs::ar::Config& c, int threads, OmpMode mode = OmpMode::kTasks);
Status write_omp_trace(const std::vector<OmpSpan>& spans, const std::string& jsonl_path);

}  // namespace chiron::bench
