#pragma once
// Synthetic NDBC historical spectral files (bench/ndbc_gen.cc, tests): the same names, header,
// 47 standard NDBC frequencies (.02–.485 Hz), row layout, 999 gaps and gzip compression as
// the real files, with plausible sea states: a JONSWAP-shaped E(f) (γ = 3.3) scaled to a
// significant wave height that drifts hour to hour (0.3–8 m), a slowly turning mean
// direction with frequency-dependent spread, α2 near α1, r1/r2 stored ×100.
// Deterministic: each (station, year) draws from its own generator seeded by (seed, station,
// year), so a file's bytes depend only on those and the options. Thread-safe (no shared state).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace chiron::jobs::ndbc {

// The 47 band centre frequencies (Hz) of NDBC's standard spectral files.
const std::vector<double>& standard_frequencies();

struct SynthOptions {
  int stations = 4;
  int years = 1;
  int first_year = 2010;
  int hours_step = 1;        // one row every H hours (real files: hourly)
  uint64_t seed = 1;
  double gap_row = 0.01;     // probability that a variable's row is all 999
  double gap_band = 0.005;   // probability that one band value is 999
  double gap_time = 0.002;   // probability that a timestamp is absent from one variable's file
};

// The station ids the generator uses: "41001", "41002", …
std::string synthetic_station(int index);
// The five texts (Variable order) of one station-year, uncompressed.
std::vector<std::string> synthetic_texts(const SynthOptions& options, int station_index, int year);
// Writes the five gzip'd files of one station-year into dir (which must exist).
Status write_synthetic_group(const std::filesystem::path& dir, const SynthOptions& options, int station_index, int year);
// Writes all stations × years × 5 gzip'd files into dir (created if needed).
Status write_synthetic_dataset(const std::filesystem::path& dir, const SynthOptions& options);

}  // namespace chiron::jobs::ndbc
