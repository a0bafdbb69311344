#pragma once
// The NDBC spectra computed the way Hadoop MapReduce does it (the paper's baseline), in one
// process on local disk (so: no JVM, no HDFS, no HTTP shuffle — favourable to the baseline):
//
//  map      one task per input file, `map_slots` at a time: read + gunzip + parse the file
//           (the same parser as ours), emit one record per row:
//             key   = station (16 bytes, NUL-padded) | year (u16 BE) | YYYYMMDDhhmm (u64 BE)
//             value = variable | row values (| the header's frequencies, w files only)
//           into an in-memory buffer (io.sort.mb); when it is `spill_percent` full, sort the
//           records by (partition, key) and SPILL them to a temporary file; at the end of
//           the task, spill the rest and merge all spills into one sorted, partitioned map
//           output file (io.sort.factor-way merges) with an index.
//  shuffle  reduce task r takes partition r (= hash(station, year) mod reduce_tasks) of every
//           map output and merge-sorts them by key (streaming k-way merge from the files).
//  reduce   one call per key (a timestamp of a station-year) with its values: join the five
//           variables, drop duplicates / missing variables / band-count mismatches exactly
//           as ours, integrate the spectrum (ndbc::integrate_spectrum) and add it to the
//           station-year's sums — keys arrive in time order, so the sums are bit-identical
//           to ours and so is the checksum.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "jobs/ndbc.h"

namespace chiron::bench {

struct MapReduceOptions {
  unsigned map_slots = 2;
  unsigned reduce_tasks = 2;
  size_t sort_buffer_bytes = size_t{100} << 20;  // mapreduce.task.io.sort.mb (default 100)
  double spill_percent = 0.80;                   // mapreduce.map.sort.spill.percent
  unsigned merge_factor = 10;                    // mapreduce.task.io.sort.factor
  std::filesystem::path tmp_dir;                 // spills and map outputs (removed afterwards)
  int directions = jobs::ndbc::kDefaultDirections;
};

struct MapReduceResult {
  std::vector<jobs::ndbc::GroupResult> groups;  // sorted by (station, year)
  uint64_t spectra = 0;
  uint64_t checksum = 0;
  uint64_t map_tasks = 0;
  uint64_t spills = 0;
  uint64_t spilled_records = 0;
  uint64_t spilled_bytes = 0;   // bytes written to spill + merged map output files
  uint64_t reduce_calls = 0;
  double map_seconds = 0;
  double reduce_seconds = 0;
};

// Runs the whole job over the complete (station, year) groups in `input_dir`.
Result<MapReduceResult> run_mapreduce(const std::filesystem::path& input_dir, const MapReduceOptions& options);

}  // namespace chiron::bench
