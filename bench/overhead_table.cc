// Table 1 of the paper (§5.2) from runtime event logs: % of the threads' time in user code
// (act/react spans), idle, and runtime overhead estimated from an empty-kernel baseline.
// Method and its limits: overhead_analysis.h.
//
//   overhead_table [--empty-kernel-us C | --cpu-threads N --disk-threads M] [--threads T] LOG.jsonl…
// Without --empty-kernel-us the baseline is measured here (spawn + collect 100,000 empty
// kernels on a traced runtime with the given thread counts, best of 5).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "empty_kernels.h"
#include "kernel/kernel.h"
#include "overhead_analysis.h"

namespace ck = chiron::kernel;

namespace {

using chiron::bench::Empty;
using chiron::bench::SpawnAll;

double measure_empty_kernel_us(unsigned cpu, unsigned disk) {
  ck::RuntimeOptions o;
  o.cpu_threads = cpu;
  o.disk_threads = disk;
  o.trace = true;
  ck::Runtime rt(o);
  if (!rt.start().ok()) return -1;
  const int64_t n = 100000;
  double best = 1e100;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (rt.run(std::make_unique<SpawnAll>(n)) != 0) return -1;
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  rt.stop();
  return best * cpu / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  double c_us = -1;
  unsigned cpu = std::max(1u, std::thread::hardware_concurrency()), disk = 1, threads = 0;
  std::vector<std::string> logs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--empty-kernel-us" || a == "--cpu-threads" || a == "--disk-threads" || a == "--threads") && i + 1 < argc) {
      std::string v = argv[++i];
      if (a == "--empty-kernel-us") c_us = std::stod(v);
      if (a == "--cpu-threads") cpu = static_cast<unsigned>(std::stoul(v));
      if (a == "--disk-threads") disk = static_cast<unsigned>(std::stoul(v));
      if (a == "--threads") threads = static_cast<unsigned>(std::stoul(v));
    } else if (!a.empty() && a[0] != '-') {
      logs.push_back(a);
    } else {
      std::fprintf(stderr, "usage: overhead_table [--empty-kernel-us C | --cpu-threads N --disk-threads M] "
                           "[--threads T] LOG.jsonl...\n");
      return 2;
    }
  }
  if (logs.empty()) {
    std::fprintf(stderr, "overhead_table: no log given\n");
    return 2;
  }
  if (c_us < 0) c_us = measure_empty_kernel_us(cpu, disk);
  std::printf("empty kernel: %.3f µs thread-time\n", c_us);
  std::printf("%-40s %8s %8s %8s %8s %10s\n", "log", "wall s", "threads", "user %", "idle %", "overhead %");
  int rc = 0;
  for (const auto& log : logs) {
    auto trace = ck::read_trace_file(log);
    if (!trace.ok()) {
      std::fprintf(stderr, "%s: %s\n", log.c_str(), trace.status().message().c_str());
      rc = 1;
      continue;
    }
    auto r = chiron::bench::analyze_overhead(*trace, c_us, threads);
    std::printf("%-40s %8.2f %8u %8.1f %8.1f %10.4f\n", log.c_str(), r.wall_us / 1e6, r.threads, r.user_pct, r.idle_pct,
                r.overhead_pct);
    for (const auto& l : r.lanes) {
      std::printf("    %-10s busy %6.1f %%  acts %llu reacts %llu\n", l.lane.c_str(), 100.0 * l.busy_us / r.wall_us,
                  static_cast<unsigned long long>(l.acts), static_cast<unsigned long long>(l.reacts));
    }
  }
  return rc;
}
