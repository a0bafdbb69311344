// Name-server pick throughput per algorithm, 10 vs 10,000 servers (research notes §8 W2: every
// algorithm must hold up at 10,000 servers; swrr is expected not to, which is why edf exists).
// In-process, no I/O: the peer is the same algorithm on a 10-server pool, run side by side;
// compare items_per_second of pick/ALG/10 and pick/ALG/10000.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ns/ns.h"

namespace {

using chiron::ns::Pool;

void BM_Pick(benchmark::State& state, std::string algorithm) {
  static chiron::SystemClock clock;
  chiron::ns::PoolOptions options;
  options.algorithm = algorithm;
  auto pool = std::move(Pool::create(clock, options)).value();
  const int64_t n = state.range(0);
  for (int64_t i = 0; i < n; ++i)
    if (!pool->add("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:8080",
                   chiron::ns::ServerSpec{.weight = static_cast<uint32_t>(1 + i % 3)}).ok())
      state.SkipWithError("add failed");
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("user-" + std::to_string(i));
  (void)pool->pick(keys[0]);  // build tables outside the timed loop
  size_t k = 0;
  for (auto _ : state) {
    auto s = pool->pick(keys[k++ & 1023]);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  for (std::string_view alg : chiron::ns::algorithm_names())
    benchmark::RegisterBenchmark(("pick/" + std::string(alg)).c_str(), BM_Pick, std::string(alg))
        ->Arg(10)
        ->Arg(10'000)
        ->Unit(benchmark::kNanosecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
