// The paper's HPC benchmark (§5.1, Fig. 1–2, Table 1) in one invocation: the AR ocean-wave
// generator on Chiron (plain kernel::Runtime, event log on) and the OpenMP version of the
// same algorithm (ar_openmp.h), same size and seed, alternating for --rounds rounds.
// Checks the two outputs are byte-identical (sha256), prints the times and the ratio,
// writes both event logs and renders both event plots, and prints the Table-1 breakdown
// of the Chiron run (overhead_analysis.h) using an empty-kernel microbenchmark run here.
//
//   ar_bench [--size 20000,32,32] [--part 64,16,16] [--order 7,7,7] [--seed 1]
//            [--dir /tmp/ar_bench] [--cpu-threads N] [--disk-threads 1] [--rounds 1]
//            [--no-fsync] [--omp-wavefront]
// Writes DIR/ar_{chiron,openmp}.{bin,jsonl,svg}.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "empty_kernels.h"
#include "ar_openmp.h"
#include "common/sha256.h"
#include "jobs/ar.h"
#include "jobs/jobs.h"
#include "kernel/kernel.h"
#include "overhead_analysis.h"
#include "cluster/cluster.h"

namespace ck = chiron::kernel;
namespace ar = chiron::jobs::ar;
using chiron::Status;

namespace {

using Clock = std::chrono::steady_clock;

// CPU time (user + system) of the whole process so far: on a shared machine the wall time
// mostly measures the share of the cores a run got; the CPU time is what it cost.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

using chiron::bench::Empty;
using chiron::bench::SpawnAll;

ck::RuntimeOptions runtime_options(unsigned cpu, unsigned disk) {
  ck::RuntimeOptions o;
  o.cpu_threads = cpu;
  o.disk_threads = disk;
  o.net_threads = 1;
  o.trace = true;
  return o;
}

// Thread-time per empty kernel (µs): best of 5 runs of N spawned + collected kernels, every
// cpu thread charged for the whole run (see overhead_analysis.h).
double empty_kernel_us(unsigned cpu, unsigned disk) {
  ck::Runtime rt(runtime_options(cpu, disk));
  if (!rt.start().ok()) return -1;
  const int64_t n = 100000;
  double best = 1e100;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    if (rt.run(std::make_unique<SpawnAll>(n)) != 0) return -1;
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  rt.stop();
  return best * cpu / static_cast<double>(n);
}

struct ChironRun {
  int exit_code = 1;
  double seconds = 0;
  std::string summary;
};

ChironRun run_chiron(const ar::Config& c, unsigned cpu, unsigned disk, const std::string& trace) {
  ChironRun r;
  ck::Runtime rt(runtime_options(cpu, disk));
  if (!rt.start().ok()) return r;
  std::promise<std::pair<int, std::string>> done;
  auto t0 = Clock::now();
  rt.submit(ar::make_main(c), [&](std::unique_ptr<ck::Kernel> k) {
    int code = k->exit_code() != 0 ? k->exit_code() : (k->result().ok() ? 0 : 1);
    std::string s = k->result().ok() ? ar::summary_of(*k) : k->result().message();
    done.set_value({code, s});
  });
  auto [code, summary] = done.get_future().get();
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.exit_code = code;
  r.summary = summary;
  if (!trace.empty()) {
    Status st = rt.write_trace(trace);
    if (!st.ok()) std::fprintf(stderr, "trace: %s\n", st.message().c_str());
  }
  rt.stop();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

// Spans of one type in a log: [first begin, last end] (the paper's G0..G1, W0..W1).
std::pair<double, double> span_of(const ck::TraceFile& t, const std::string& type) {
  int64_t lo = INT64_MAX, hi = INT64_MIN, origin = t.records.empty() ? 0 : t.records.front().ts_us;
  for (const auto& r : t.records) {
    origin = std::min(origin, r.ts_us);
    if (r.type != type) continue;
    if (r.event == "act_begin") lo = std::min(lo, r.ts_us);
    if (r.event == "act_end" || r.event == "committed") hi = std::max(hi, r.ts_us);
  }
  if (lo == INT64_MAX) return {0, 0};
  return {(lo - origin) / 1e6, (hi - origin) / 1e6};
}

void print_table(const char* name, const chiron::bench::OverheadReport& r) {
  std::printf("%-8s wall %.2f s, %u threads, %llu kernels: user %.1f %%, idle %.1f %%, overhead %.4f %%\n", name,
              r.wall_us / 1e6, r.threads, static_cast<unsigned long long>(r.kernels), r.user_pct, r.idle_pct,
              r.overhead_pct);
  for (const auto& l : r.lanes) {
    std::printf("           %-7s busy %6.1f %%  acts %llu reacts %llu\n", l.lane.c_str(), 100.0 * l.busy_us / r.wall_us,
                static_cast<unsigned long long>(l.acts), static_cast<unsigned long long>(l.reacts));
  }
}

}  // namespace

int main(int argc, char** argv) {
  chiron::jobs::register_ar_waves();
  std::vector<std::string> ar_args{"--size", "20000,32,32", "--part", "64,16,16", "--no-sha256"};
  std::string dir = "/tmp/ar_bench";
  unsigned cpu = std::max(1u, std::thread::hardware_concurrency());
  unsigned disk = 1;
  int rounds = 1;
  auto omp_mode = chiron::bench::OmpMode::kTasks;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") {
      dir = value();
    } else if (a == "--cpu-threads") {
      cpu = static_cast<unsigned>(std::stoul(value()));
    } else if (a == "--disk-threads") {
      disk = static_cast<unsigned>(std::stoul(value()));
    } else if (a == "--rounds") {
      rounds = std::max(1, std::stoi(value()));
    } else if (a == "--omp-wavefront") {
      omp_mode = chiron::bench::OmpMode::kWavefront;
    } else if (a == "--no-fsync") {
      ar_args.push_back(a);
    } else if (a == "--size" || a == "--part" || a == "--order" || a == "--seed" || a == "--alpha" || a == "--beta" ||
               a == "--gamma" || a == "--pad") {
      ar_args.push_back(a);
      ar_args.push_back(value());
    } else {
      std::fprintf(stderr, "usage: ar_bench [--size T,X,Y] [--part T,X,Y] [--order T,X,Y] [--seed N] [--dir DIR] "
                           "[--cpu-threads N] [--disk-threads N] [--rounds N] [--no-fsync] [--omp-wavefront]\n");
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  ar_args.push_back("--out");
  ar_args.push_back(dir + "/ar_chiron.bin");
  auto config = ar::parse_args(ar_args);
  if (!config.ok()) {
    std::fprintf(stderr, "ar_bench: %s\n", config.status().message().c_str());
    return 2;
  }
  ar::Config chiron_cfg = *config;
  ar::Config omp_cfg = *config;
  omp_cfg.out = dir + "/ar_openmp.bin";
  const std::string chiron_trace = dir + "/ar_chiron.jsonl", omp_trace = dir + "/ar_openmp.jsonl";

  std::printf("ar_bench: size %u×%u×%u (%.1f MB float32) part %u×%u×%u order %u×%u×%u seed %llu, %u cpu + %u disk "
              "threads (chiron), %u OpenMP threads (%s), fsync %s, %d round(s)\n",
              chiron_cfg.size.t, chiron_cfg.size.x, chiron_cfg.size.y, chiron_cfg.size.volume() * 4 / 1e6,
              chiron_cfg.part.t, chiron_cfg.part.x, chiron_cfg.part.y, chiron_cfg.order.t, chiron_cfg.order.x,
              chiron_cfg.order.y, static_cast<unsigned long long>(chiron_cfg.seed), cpu, disk, cpu,
              omp_mode == chiron::bench::OmpMode::kTasks ? "tasks with depend" : "wavefront omp for",
              chiron_cfg.fsync ? "on" : "off", rounds);
  std::vector<double> t_chiron, t_omp, cpu_chiron, cpu_omp;
  chiron::bench::OmpRun last_omp;
  for (int round = 0; round < rounds; ++round) {
    // Alternate the order so drift on a shared machine hits both alike.
    for (int which = 0; which < 2; ++which) {
      const double cpu0 = cpu_seconds();
      if ((which == 0) == (round % 2 == 0)) {
        ChironRun r = run_chiron(chiron_cfg, cpu, disk, chiron_trace);
        if (r.exit_code != 0) {
          std::fprintf(stderr, "chiron run failed: %s\n", r.summary.c_str());
          return 1;
        }
        t_chiron.push_back(r.seconds);
        cpu_chiron.push_back(cpu_seconds() - cpu0);
        std::printf("round %d chiron  %.3f s, cpu %.3f s  (%s)\n", round + 1, r.seconds, cpu_chiron.back(),
                    r.summary.c_str());
      } else {
        last_omp = chiron::bench::run_ar_openmp(omp_cfg, static_cast<int>(cpu), omp_mode);
        if (!last_omp.status.ok()) {
          std::fprintf(stderr, "openmp run failed: %s\n", last_omp.status.message().c_str());
          return 1;
        }
        t_omp.push_back(last_omp.seconds);
        cpu_omp.push_back(cpu_seconds() - cpu0);
        std::printf("round %d openmp  %.3f s, cpu %.3f s  (generate %.3f s, then write %.3f s)\n", round + 1,
                    last_omp.seconds, cpu_omp.back(), last_omp.generate_seconds, last_omp.write_seconds);
      }
      std::fflush(stdout);
    }
  }
  if (Status st = chiron::bench::write_omp_trace(last_omp.spans, omp_trace); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  auto h1 = chiron::sha256_file(chiron_cfg.out), h2 = chiron::sha256_file(omp_cfg.out);
  if (!h1.ok() || !h2.ok()) {
    std::fprintf(stderr, "cannot hash the outputs\n");
    return 1;
  }
  const bool same = *h1 == *h2;
  std::printf("sha256 chiron %s\nsha256 openmp %s\noutputs %s\n", h1->c_str(), h2->c_str(),
              same ? "IDENTICAL" : "DIFFER");
  const double mc = median(t_chiron), mo = median(t_omp);
  std::printf("median: chiron %.3f s, openmp %.3f s, openmp/chiron = %.3f (chiron takes %.1f %% less time)\n", mc, mo,
              mo / mc, 100.0 * (1 - mc / mo));
  std::printf("median cpu time: chiron %.3f s, openmp %.3f s, openmp/chiron = %.3f\n", median(cpu_chiron),
              median(cpu_omp), median(cpu_omp) / median(cpu_chiron));

  for (auto [jsonl, title] : {std::pair{chiron_trace, "chiron"}, std::pair{omp_trace, "openmp"}}) {
    const std::string svg = jsonl.substr(0, jsonl.size() - 6) + ".svg";
    auto trace = ck::read_trace_file(jsonl);
    if (!trace.ok()) {
      std::fprintf(stderr, "%s: %s\n", jsonl.c_str(), trace.status().message().c_str());
      return 1;
    }
    ck::TraceSvgOptions so;
    so.title = std::string("AR waves ") + std::to_string(chiron_cfg.size.t) + "×" + std::to_string(chiron_cfg.size.x) +
               "×" + std::to_string(chiron_cfg.size.y) + " — " + title;
    FILE* f = std::fopen(svg.c_str(), "we");
    if (f != nullptr) {
      std::string doc = ck::render_trace_svg(*trace, so);
      std::fwrite(doc.data(), 1, doc.size(), f);
      std::fclose(f);
    }
    const bool is_chiron = std::string(title) == "chiron";
    auto g = span_of(*trace, is_chiron ? "ArPart" : "Generate");
    auto w = span_of(*trace, is_chiron ? "ArWrite" : "Write");
    std::printf("%s: generate [G0,G1] = [%.2f, %.2f] s, write [W0,W1] = [%.2f, %.2f] s, overlap %.2f s; plot %s\n", title,
                g.first, g.second, w.first, w.second, std::max(0.0, std::min(g.second, w.second) - w.first), svg.c_str());
  }

  const double c_us = empty_kernel_us(cpu, disk);
  std::printf("\nTable 1 (method: bench/overhead_analysis.h); empty kernel = %.3f µs thread-time (same options, trace on)\n",
              c_us);
  for (auto [jsonl, name, threads] :
       {std::tuple{chiron_trace, "chiron", cpu + disk}, std::tuple{omp_trace, "openmp", cpu}}) {
    auto trace = ck::read_trace_file(jsonl);
    if (!trace.ok()) continue;
    print_table(name, chiron::bench::analyze_overhead(*trace, std::string(name) == "chiron" ? c_us : 0.0, threads));
  }
  return same ? 0 : 1;
}
