// ndbc_bench: the NDBC spectra benchmark on one machine, in one invocation —
// ours ("ndbc-spectra" on a plain kernel::Runtime = 1 node) against the Hadoop-style
// MapReduce baseline (ndbc_mapreduce.h) on the same dataset; prints spectra/s and the ratio.
//   ndbc_bench --input DIR [--cores N] [--repeat K] [--sort-mb M] [--reduces R] [--tmp DIR] [--only chiron|mapreduce]
// The N-node run goes through `chiron job submit ndbc-spectra --input DIR` on a cluster.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "jobs/ndbc_app.h"
#include "kernel/runtime.h"
#include "ndbc_mapreduce.h"

namespace {

using WallClock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int usage() {
  std::fprintf(stderr, "usage: ndbc_bench --input DIR [--cores N] [--repeat K] [--sort-mb M] [--reduces R] [--tmp DIR] [--only chiron|mapreduce]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chiron;
  std::string input, tmp, only;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned repeat = 3, reduces = 0;
  uint64_t sort_mb = 100;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--input") {
      input = v;
    } else if (a == "--tmp") {
      tmp = v;
    } else if (a == "--only") {
      if (v != "chiron" && v != "mapreduce") return usage();
      only = v;
    } else {
      auto n = parse_u64(v);
      if (!n.ok() || *n == 0 || *n > 100000) return usage();
      if (a == "--cores") {
        cores = static_cast<unsigned>(*n);
      } else if (a == "--repeat") {
        repeat = static_cast<unsigned>(*n);
      } else if (a == "--sort-mb") {
        sort_mb = *n;
      } else if (a == "--reduces") {
        reduces = static_cast<unsigned>(*n);
      } else {
        return usage();
      }
    }
  }
  if (input.empty()) return usage();
  if (reduces == 0) reduces = cores;
  uint64_t bytes = 0, files = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(input, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) {
      bytes += it->file_size();
      ++files;
    }
  }
  std::printf("dataset %s: %" PRIu64 " files, %.1f MB gzip'd; %u cores, %u runs each (median)\n", input.c_str(), files,
              bytes / 1e6, cores, repeat);

  std::vector<double> ours_s, mr_s;
  jobs::ndbc::JobOutcome ours;
  bench::MapReduceResult mr;
  bench::MapReduceOptions mo;
  mo.map_slots = cores;
  mo.reduce_tasks = reduces;
  mo.sort_buffer_bytes = sort_mb << 20;
  mo.tmp_dir = tmp;
  for (unsigned r = 0; r < repeat; ++r) {
    // Alternate the order so neither always runs on a warmer page cache.
    std::vector<int> order = r % 2 == 0 ? std::vector<int>{0, 1} : std::vector<int>{1, 0};
    if (!only.empty()) order = {only == "chiron" ? 0 : 1};
    for (int which : order) {
      auto t0 = WallClock::now();
      if (which == 0) {
        kernel::Runtime rt(kernel::RuntimeOptions{.cpu_threads = cores});
        if (Status st = rt.start(); !st.ok()) {
          std::fprintf(stderr, "runtime: %s\n", st.to_string().c_str());
          return 1;
        }
        auto o = jobs::ndbc::run_local(rt, {"--input", input});
        rt.stop();
        if (!o.ok()) {
          std::fprintf(stderr, "ndbc-spectra: %s\n", o.status().to_string().c_str());
          return 1;
        }
        ours = *o;
        ours_s.push_back(std::chrono::duration<double>(WallClock::now() - t0).count());
      } else {
        auto m = bench::run_mapreduce(input, mo);
        if (!m.ok()) {
          std::fprintf(stderr, "mapreduce: %s\n", m.status().to_string().c_str());
          return 1;
        }
        mr = std::move(*m);
        mr_s.push_back(std::chrono::duration<double>(WallClock::now() - t0).count());
      }
    }
  }
  if (!ours_s.empty()) {
    const double to = median(ours_s);
    std::printf("chiron    (1 node: %u cpu + 2 disk threads): %s\n", cores, ours.summary.c_str());
    std::printf("chiron    time %.3f s  %.0f spectra/s\n", to, ours.spectra / to);
  }
  if (!mr_s.empty()) {
    const double tm = median(mr_s);
    std::printf("mapreduce (%u map slots, %u reduces, io.sort.mb=%" PRIu64 "): spectra=%" PRIu64 " groups=%zu checksum=%016" PRIx64
                "\n",
                cores, reduces, sort_mb, mr.spectra, mr.groups.size(), mr.checksum);
    std::printf("mapreduce time %.3f s (last run: map %.3f s, shuffle+reduce %.3f s)  %.0f spectra/s  map_tasks=%" PRIu64
                " spills=%" PRIu64 " spilled_records=%" PRIu64 " spilled=%.1f MB reduce_calls=%" PRIu64 "\n",
                tm, mr.map_seconds, mr.reduce_seconds, mr.spectra / tm, mr.map_tasks, mr.spills, mr.spilled_records,
                mr.spilled_bytes / 1e6, mr.reduce_calls);
  }
  if (ours_s.empty() || mr_s.empty()) return 0;
  std::printf("ratio chiron/mapreduce spectra/s = %.2f\n", median(mr_s) / median(ours_s));
  const bool same = ours.checksum == mr.checksum && ours.spectra == mr.spectra;
  std::printf("checksums %s\n", same ? "equal" : "DIFFER");
  return same ? 0 : 1;
}
