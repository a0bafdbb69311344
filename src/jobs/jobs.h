#pragma once
// The batch jobs that ship with Chiron (cluster::App + their RemoteKernel types):
//   ar-waves      AR ocean-wave surface generator (ar.h; the paper's HPC benchmark)
//   ndbc-spectra  NDBC directional wave spectra (ndbc.h; the paper's big-data benchmark)
//   checksum      deterministic CPU work with a checksum (checksum.h; cluster tests)
// Call register_all() once at start-up, before a node starts or a job is submitted.

namespace chiron::jobs {

void register_all();

// Each app's own registration (kernel types + App).
void register_ar_waves();
void register_ndbc_spectra();
void register_checksum();

}  // namespace chiron::jobs
