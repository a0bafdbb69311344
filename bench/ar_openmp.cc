// The OpenMP AR generator (see ar_openmp.h).
#include "ar_openmp.h"

#include "jobs/ar_io.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace chiron::bench {

namespace {

using Clock = std::chrono::steady_clock;

int64_t us_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

}  // namespace

OmpRun run_ar_openmp(const jobs::ar::Config& c, int threads, OmpMode mode) {
  using namespace jobs::ar;
  OmpRun run;
  const Clock::time_point t0 = Clock::now();
  std::vector<std::vector<OmpSpan>> spans(static_cast<size_t>(threads));

  int64_t b = us_since(t0);
  auto model = make_model(c);
  spans[0].push_back({0, b, us_since(t0), "Coefficients", "cpu"});
  if (!model.ok()) {
    run.status = model.status();
    return run;
  }
  const Dims pd = c.padded(), o = c.order, part = c.part;
  const uint64_t et = pd.t + o.t - 1, ex = pd.x + o.x - 1, ey = pd.y + o.y - 1;
  std::vector<float> z(et * ex * ey, 0.0f);  // zero border of order−1 before each axis
  float* origin = z.data() + (o.t - 1) * ex * ey + (o.x - 1) * ey + (o.y - 1);
  const Dims grid{(pd.t + part.t - 1) / part.t, (pd.x + part.x - 1) / part.x, (pd.y + part.y - 1) / part.y};
  std::vector<char> out(c.size.volume() * sizeof(float));
  const auto g0 = Clock::now();

  // Computes part (i, j, k) on the calling OpenMP thread and records its span.
  auto compute = [&](int64_t i, int64_t j, int64_t k) {
    const uint64_t pt0 = uint64_t(i) * part.t, px0 = uint64_t(j) * part.x, py0 = uint64_t(k) * part.y;
    BoxRef br;
    br.stride_t = static_cast<int64_t>(ex * ey);
    br.stride_x = static_cast<int64_t>(ey);
    br.origin = origin + pt0 * ex * ey + px0 * ey + py0;
    br.t0 = pt0;
    br.x0 = px0;
    br.y0 = py0;
    br.box = {static_cast<uint32_t>(std::min<uint64_t>(part.t, pd.t - pt0)),
              static_cast<uint32_t>(std::min<uint64_t>(part.x, pd.x - px0)),
              static_cast<uint32_t>(std::min<uint64_t>(part.y, pd.y - py0))};
    const int me = omp_get_thread_num();
    const int64_t sb = us_since(t0);
    filter_box(*model, br);
    spans[static_cast<size_t>(me)].push_back({me, sb, us_since(t0), "Generate", "cpu"});
  };
  const uint64_t nparts = grid.volume();
  std::vector<char> dep(nparts + 1);  // dependence objects; dep[nparts]: "no predecessor"
  [[maybe_unused]] char* dp = dep.data();  // used only in depend() clauses

#pragma omp parallel num_threads(threads)
  {
    if (mode == OmpMode::kTasks) {
      // One task per part, depending on its three direct predecessors (the other four
      // are their predecessors too): no barrier, the runtime starts a part when ready.
#pragma omp single
      for (int64_t i = 0; i < grid.t; ++i) {
        for (int64_t j = 0; j < grid.x; ++j) {
          for (int64_t k = 0; k < grid.y; ++k) {
            const uint64_t p = (uint64_t(i) * grid.x + uint64_t(j)) * grid.y + uint64_t(k);
            const uint64_t a = i > 0 ? p - uint64_t{grid.x} * grid.y : nparts;
            const uint64_t b2 = j > 0 ? p - grid.y : nparts;
            const uint64_t c2 = k > 0 ? p - 1 : nparts;
#pragma omp task depend(in : dp[a], dp[b2], dp[c2]) depend(out : dp[p]) firstprivate(i, j, k)
            compute(i, j, k);
          }
        }
      }  // implicit barrier: every task is done
    } else {
      // Wavefront d holds the parts with i + j + k = d; they depend only on earlier fronts.
      const int64_t fronts = int64_t{grid.t} + grid.x + grid.y - 2;
      for (int64_t d = 0; d < fronts; ++d) {
        const int64_t ilo = std::max<int64_t>(0, d - (grid.x - 1) - (grid.y - 1)), ihi = std::min<int64_t>(grid.t - 1, d);
        const int64_t n = (ihi - ilo + 1) * int64_t{grid.x};  // (i, j) pairs; k = d − i − j
#pragma omp for schedule(dynamic, 1)
        for (int64_t q = 0; q < n; ++q) {
          const int64_t i = ilo + q / grid.x, j = q % grid.x, k = d - i - j;
          if (k >= 0 && k < grid.y) compute(i, j, k);
        }
      }
    }
    const int me = omp_get_thread_num();
    std::vector<OmpSpan>& mine = spans[static_cast<size_t>(me)];
    // Trim: the padded surface → the contiguous t-major output (slabs of t).
    const int64_t slab = 256;
#pragma omp for schedule(static)
    for (int64_t s = 0; s < (int64_t{c.size.t} + slab - 1) / slab; ++s) {
      const int64_t sb = us_since(t0);
      const uint64_t thi = std::min<uint64_t>(c.size.t, uint64_t(s + 1) * slab);
      for (uint64_t t = uint64_t(s) * slab; t < thi; ++t) {
        for (uint64_t x = 0; x < c.size.x; ++x) {
          const float* src = origin + (t + c.padding.t) * ex * ey + (x + c.padding.x) * ey + c.padding.y;
          std::memcpy(out.data() + ((t * c.size.x + x) * c.size.y) * sizeof(float), src, c.size.y * sizeof(float));
        }
      }
      mine.push_back({me, sb, us_since(t0), "Trim", "cpu"});
    }
  }
  const auto w0 = Clock::now();
  run.generate_seconds = std::chrono::duration<double>(w0 - g0).count();
  std::vector<float>().swap(z);

  // Write: one thread, large sequential writes, then fsync (as the chiron run does).
  int fd = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    run.status = Status::from_errno("open " + c.out, errno);
    return run;
  }
  const size_t chunk = size_t{8} << 20;
  for (size_t at = 0; at < out.size() && run.status.ok(); at += chunk) {
    const int64_t sb = us_since(t0);
    run.status = jobs::ar::pwrite_all(fd, out.data() + at, std::min(chunk, out.size() - at), at);
    spans[0].push_back({0, sb, us_since(t0), "Write", "disk"});
  }
  if (run.status.ok() && c.fsync) {
    const int64_t sb = us_since(t0);
    if (::fsync(fd) != 0) run.status = Status::from_errno("fsync " + c.out, errno);
    spans[0].push_back({0, sb, us_since(t0), "Sync", "disk"});
  }
  ::close(fd);
  run.write_seconds = std::chrono::duration<double>(Clock::now() - w0).count();
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& v : spans) run.spans.insert(run.spans.end(), v.begin(), v.end());
  return run;
}

Status write_omp_trace(const std::vector<OmpSpan>& spans, const std::string& path) {
  struct Event {
    int64_t ts;
    size_t span;
    bool begin;
  };
  std::vector<Event> ev;
  ev.reserve(spans.size() * 2);
  for (size_t i = 0; i < spans.size(); ++i) {
    ev.push_back({spans[i].begin_us, i, true});
    ev.push_back({spans[i].end_us, i, false});
  }
  std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return Status::from_errno("write " + path, errno);
  for (const Event& e : ev) {
    const OmpSpan& s = spans[e.span];
    std::fprintf(f, "{\"ts_us\":%lld,\"lane\":\"omp/%d\",\"device\":\"%s\",\"kernel\":%zu,\"type\":\"%s\",\"event\":\"%s\"}\n",
                 static_cast<long long>(e.ts), s.thread, s.device, e.span + 1, s.type, e.begin ? "act_begin" : "act_end");
  }
  if (std::fclose(f) != 0) return Status::io_error("write " + path);
  return Status{};
}

}  // namespace chiron::bench
