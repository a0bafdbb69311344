// ndbc_gen: writes a synthetic NDBC historical spectral dataset (jobs/ndbc_synth.h).
//   ndbc_gen --out DIR --stations N --years Y [--hours-step H] [--seed S] [--first-year Y0] [--threads T]
// Files: DIR/<station><w|d|i|j|k><year>.txt.gz, deterministic for the same options.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "jobs/ndbc_synth.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: ndbc_gen --out DIR --stations N --years Y [--hours-step H] [--seed S] [--first-year Y0] "
               "[--threads T]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chiron;
  jobs::ndbc::SynthOptions o;
  std::string out;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--out") {
      out = v;
      continue;
    }
    auto n = parse_u64(v);
    if (!n.ok() || *n > 1'000'000) {
      std::fprintf(stderr, "ndbc_gen: bad value for %s: %s\n", a.c_str(), v.c_str());
      return 2;
    }
    if (a == "--stations") {
      o.stations = static_cast<int>(*n);
    } else if (a == "--years") {
      o.years = static_cast<int>(*n);
    } else if (a == "--hours-step") {
      o.hours_step = static_cast<int>(std::max<uint64_t>(1, *n));
    } else if (a == "--seed") {
      o.seed = *n;
    } else if (a == "--first-year") {
      o.first_year = static_cast<int>(*n);
    } else if (a == "--threads") {
      threads = static_cast<unsigned>(std::max<uint64_t>(1, *n));
    } else {
      return usage();
    }
  }
  if (out.empty() || o.stations < 1 || o.years < 1 || o.first_year < 1900 || o.first_year + o.years > 3000) return usage();
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "ndbc_gen: cannot create %s: %s\n", out.c_str(), ec.message().c_str());
    return 1;
  }
  const size_t total = static_cast<size_t>(o.stations) * static_cast<size_t>(o.years);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string error;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < total;) {
        int s = static_cast<int>(i / static_cast<size_t>(o.years)), y = o.first_year + static_cast<int>(i % static_cast<size_t>(o.years));
        Status st = jobs::ndbc::write_synthetic_group(out, o, s, y);
        if (!st.ok()) {
          std::lock_guard lock(mu);
          error = st.to_string();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (!error.empty()) {
    std::fprintf(stderr, "ndbc_gen: %s\n", error.c_str());
    return 1;
  }
  std::printf("wrote %zu files (%d stations x %d years, every %d h) to %s\n", total * 5, o.stations, o.years, o.hours_step,
              out.c_str());
  return 0;
}
