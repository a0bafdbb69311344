#pragma once
// The "ndbc-spectra" cluster job (ndbc_app.cc), the paper's big-data benchmark:
//
//   main (disk) ──cluster::upstream──▶ group (cpu) per complete (station, year)
//                                        └─▶ 5 × file (disk: read, gunzip, parse), local
//
// main lists --input, keeps the (station, year) groups that have all five files and sends
// one group kernel per group into the cluster (the node places it anywhere; the files are
// read where the kernel runs — a shared file system is assumed, as GlusterFS in the paper).
// A group joins and integrates its spectra (ndbc.h) in its react() on the cpu pipeline and
// returns the per-group sums; main sorts them, prints
//   spectra=N groups=G checksum=<16 hex> dropped=D missing_bands=M errors=E incomplete=I
// (independent of placement), and writes one line per group to --out. A group whose files
// cannot be read or parsed is reported (errors=, "# error" lines) and the job goes on.
// Give absolute paths: the job runs in the node's working directory.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernel/runtime.h"

namespace chiron::jobs::ndbc {

struct JobOutcome {
  int exit_code = 0;
  std::string summary;
  uint64_t spectra = 0;
  uint64_t groups = 0;
  uint64_t checksum = 0;
};

// Runs the job on a plain runtime (no node) and waits for it; args as for the app.
// Must not be called on a runtime thread.
Result<JobOutcome> run_local(kernel::Runtime& runtime, const std::vector<std::string>& args);

}  // namespace chiron::jobs::ndbc
