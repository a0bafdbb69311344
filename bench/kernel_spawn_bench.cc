// Spawn-and-collect throughput of Chiron kernels against oneTBB task_group and OpenMP
// tasks, plus the cost of the event log (trace on vs off) on a realistic workload.
//
//   kernel_spawn_bench [google-benchmark flags]     all benchmarks, then a ratio table;
//     recommended: --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//     (the table then uses medians, and drift on a shared machine hits all peers alike)
//   kernel_spawn_bench --demo_trace=DIR             demo job (cpu generate → disk write),
//                                                   writes DIR/demo_trace.{jsonl,svg}
//
// chiron_spawn/N: one principal upstreams N empty subordinates and collects them all in
// react, then commits (Runtime::run per iteration). tbb_task_group/N: N empty tasks, wait.
// omp_tasks/N: parallel + single + N × task + taskwait. All use every core.
// trace_overhead: jobs of 1000 kernels doing ~20 µs of arithmetic each, run alternately on
// a runtime with tracing off and one with tracing on; reports the median extra time.

#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/global_control.h>
#include <tbb/task_group.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "empty_kernels.h"
#include "kernel/kernel.h"

namespace ck = chiron::kernel;

namespace {

unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

ck::Runtime& shared_runtime(bool trace) {
  static ck::Runtime* runtimes[2] = {nullptr, nullptr};
  ck::Runtime*& rt = runtimes[trace ? 1 : 0];
  if (rt == nullptr) {
    ck::RuntimeOptions o;
    o.trace = trace;
    rt = new ck::Runtime(o);  // lives until exit: benchmarks share it
    if (!rt->start().ok()) std::abort();
  }
  return *rt;
}

using chiron::bench::Empty;
using chiron::bench::SpawnAll;

void chiron_spawn(benchmark::State& state) {
  ck::Runtime& rt = shared_runtime(false);
  const int64_t n = state.range(0);
  for (auto _ : state) {
    if (rt.run(std::make_unique<SpawnAll>(n)) != 0) state.SkipWithError("job failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// The same with tracing on: (time traced − time plain) / N is the event log's cost per
// kernel (≈ 6 events), the number behind the overhead estimate for 10–50 µs kernels.
void chiron_spawn_traced(benchmark::State& state) {
  ck::Runtime& rt = shared_runtime(true);
  const int64_t n = state.range(0);
  for (auto _ : state) {
    if (rt.run(std::make_unique<SpawnAll>(n)) != 0) state.SkipWithError("job failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void tbb_task_group(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, cores());
  const int64_t n = state.range(0);
  for (auto _ : state) {
    tbb::task_group g;
    for (int64_t i = 0; i < n; ++i) g.run([] { benchmark::ClobberMemory(); });
    g.wait();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void omp_tasks(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int threads = static_cast<int>(cores());
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
#pragma omp single
    {
      for (int64_t i = 0; i < n; ++i) {
#pragma omp task
        benchmark::ClobberMemory();
      }
#pragma omp taskwait
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// ~`iters` dependent multiply-adds: a stand-in for 10–50 µs of real compute.
uint64_t spin_work(uint64_t iters, uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t i = 0; i < iters; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

uint64_t iters_for_20us() {
  static const uint64_t iters = [] {
    uint64_t n = 1 << 16;
    auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(spin_work(n, 1));
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<uint64_t>(static_cast<double>(n) * 20.0 / std::max(us, 1.0));
  }();
  return iters;
}

class Work : public ck::Kernel {
 public:
  explicit Work(uint64_t iters) : iters_(iters) {}
  void act() override {
    benchmark::DoNotOptimize(spin_work(iters_, id()));
    commit();
  }

 private:
  uint64_t iters_;
};

class WorkJob : public ck::Kernel {
 public:
  WorkJob(int n, uint64_t iters) : n_(n), iters_(iters) {}
  void act() override {
    for (int i = 0; i < n_; ++i) upstream(std::make_unique<Work>(iters_ * static_cast<uint64_t>(1 + i % 3) / 2));
  }
  void react(std::unique_ptr<ck::Kernel>) override {
    if (++got_ == n_) commit();
  }

 private:
  int n_;
  uint64_t iters_;
  int got_ = 0;
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void trace_overhead(benchmark::State& state) {
  ck::Runtime& off = shared_runtime(false);
  ck::Runtime& on = shared_runtime(true);
  const uint64_t iters = iters_for_20us();
  std::vector<double> wall_ratios, cpu_ratios;
  double total_off = 0, total_on = 0;
  struct Cost {
    double wall, cpu;
  };
  auto timed = [&](ck::Runtime& rt) {
    double c0 = process_cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    rt.run(std::make_unique<WorkJob>(1000, iters));
    return Cost{std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                process_cpu_seconds() - c0};
  };
  bool on_first = false;
  for (auto _ : state) {
    Cost a, b;
    if (on_first) {
      b = timed(on);
      a = timed(off);
    } else {
      a = timed(off);
      b = timed(on);
    }
    on_first = !on_first;
    total_off += a.wall;
    total_on += b.wall;
    wall_ratios.push_back(b.wall / a.wall);
    cpu_ratios.push_back(b.cpu / a.cpu);
  }
  state.counters["median_overhead_pct"] = (median(wall_ratios) - 1) * 100;
  state.counters["median_cpu_overhead_pct"] = (median(cpu_ratios) - 1) * 100;
  state.counters["total_overhead_pct"] = (total_on / total_off - 1) * 100;
  state.counters["trace_events"] = static_cast<double>(on.stats().trace_events);
  state.SetItemsProcessed(state.iterations() * 2000);
}

// Registered N-major (chiron, TBB, OpenMP for each N) so the runs that are compared sit
// next to each other in time; see main().
void register_benchmarks() {
  for (int64_t n = 1000; n <= 1000000; n *= 10) {
    benchmark::RegisterBenchmark("chiron_spawn", chiron_spawn)->Arg(n)->UseRealTime()->Unit(benchmark::kMillisecond);
    if (n == 10000) {
      // Fixed iterations: every traced kernel stays in memory until exit.
      benchmark::RegisterBenchmark("chiron_spawn_traced", chiron_spawn_traced)
          ->Arg(n)->Iterations(40)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("tbb_task_group", tbb_task_group)->Arg(n)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("omp_tasks", omp_tasks)->Arg(n)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("trace_overhead", trace_overhead)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(5.0);
}

// Console output plus a summary of ratios against the peers run in the same process.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate && !median) continue;
      std::string name = r.run_name.str();
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate_[name] = it->second.value;
      for (const char* key : {"median_overhead_pct", "median_cpu_overhead_pct", "total_overhead_pct"}) {
        auto c = r.counters.find(key);
        if (c != r.counters.end()) extra_[key] = c->second.value;
      }
    }
  }

  void print_summary() const {
    std::printf("\n%-9s %14s %14s %14s %10s %10s\n", "N", "chiron k/s", "TBB k/s", "OpenMP k/s", "chiron/TBB",
                "chiron/OMP");
    for (long n = 1000; n <= 1000000; n *= 10) {
      std::string suffix = "/" + std::to_string(n);
      double c = get("chiron_spawn" + suffix), t = get("tbb_task_group" + suffix), o = get("omp_tasks" + suffix);
      std::printf("%-9ld %14.0f %14.0f %14.0f %10.2f %10.2f\n", n, c, t, o, t > 0 ? c / t : 0, o > 0 ? c / o : 0);
    }
    double plain = get("chiron_spawn/10000"), traced = get("chiron_spawn_traced/10000");
    if (plain > 0 && traced > 0) {
      double ns = (1e9 / traced - 1e9 / plain);
      std::printf("trace cost per kernel: %.0f ns (spawn 10^4: %.0f vs %.0f k/s) = %.2f %% of a 20 us kernel, %.2f %% of 10 us\n",
                  ns, traced, plain, ns / 200.0, ns / 100.0);
    }
    for (auto& [key, value] : extra_) std::printf("trace %s (1000 kernels of 10-30 us, on vs off): %.2f %%\n", key.c_str(), value);
  }

 private:
  double get(const std::string& name) const {
    for (auto& [k, v] : rate_)
      if (k.rfind(name, 0) == 0 && (k.size() == name.size() || k[name.size()] == '/')) return v;
    return 0;
  }
  std::map<std::string, double> rate_;
  std::map<std::string, double> extra_;
};

// ---- demo job for the event plot: cpu kernels generate data, disk kernels write it ----

class WritePart : public ck::Kernel {
 public:
  WritePart(std::string path, std::vector<uint64_t> data)
      : ck::Kernel(ck::Device::kDisk), path_(std::move(path)), data_(std::move(data)) {}
  void act() override {
    FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) return commit(chiron::Status::io_error("open " + path_));
    std::fwrite(data_.data(), sizeof(uint64_t), data_.size(), f);
    std::fflush(f);
    std::fclose(f);
    commit();
  }

 private:
  std::string path_;
  std::vector<uint64_t> data_;
};

class GeneratePart : public ck::Kernel {
 public:
  explicit GeneratePart(int part) : part_(part) {}
  void act() override {
    data.resize(1 << 18);
    uint64_t x = static_cast<uint64_t>(part_) + 1;
    for (auto& v : data) v = x = spin_work(12, x);
    commit();
  }
  int part_;
  std::vector<uint64_t> data;
};

class Generate : public ck::Kernel {
 public:
  Generate(std::string dir, int parts) : dir_(std::move(dir)), parts_(parts) {}
  void act() override {
    for (int i = 0; i < parts_; ++i) upstream(std::make_unique<GeneratePart>(i));
  }
  void react(std::unique_ptr<ck::Kernel> child) override {
    if (auto* g = dynamic_cast<GeneratePart*>(child.get())) {
      upstream(std::make_unique<WritePart>(dir_ + "/part" + std::to_string(g->part_) + ".bin", std::move(g->data)));
      return;
    }
    if (!child->result().ok()) ++errors_;
    if (++written_ == parts_) commit(errors_);
  }

 private:
  std::string dir_;
  int parts_;
  int written_ = 0;
  int errors_ = 0;
};

int run_demo(const std::string& dir) {
  ck::RuntimeOptions o;
  o.trace = true;
  ck::Runtime rt(o);
  if (!rt.start().ok()) return 1;
  int code = rt.run(std::make_unique<Generate>(dir, 48));
  rt.stop();
  std::string jsonl = dir + "/demo_trace.jsonl", svg = dir + "/demo_trace.svg";
  chiron::Status st = rt.write_trace(jsonl);
  if (st.ok()) st = ck::render_trace_svg(jsonl, svg);
  std::printf("demo exit=%d trace=%s svg=%s status=%s\n", code, jsonl.c_str(), svg.c_str(), st.to_string().c_str());
  for (int i = 0; i < 48; ++i) std::remove((dir + "/part" + std::to_string(i) + ".bin").c_str());
  return code == 0 && st.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--demo_trace=", 13) == 0) return run_demo(argv[i] + 13);
  }
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
