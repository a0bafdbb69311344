#include "jobs/ar_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/sha256.h"

namespace chiron::jobs::ar {

namespace {
constexpr size_t kMaxWriteBytes = size_t{4} << 20;  // staging flushed at 4 MiB
}  // namespace

Status pwrite_all(int fd, const char* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("ar: write output", errno);
    }
    if (n == 0) return Status::io_error("ar: write output: no progress");
    data += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status{};
}

void ArWrite::act() {
  const PartGeometry& g = g_;
  // The part's box ∩ the trimmed output, in padded coordinates.
  const uint64_t tlo = std::max<uint64_t>(g.t0, g.padding.t), thi = std::min<uint64_t>(g.t0 + g.box.t, uint64_t{g.padding.t} + g.size.t);
  const uint64_t xlo = std::max<uint64_t>(g.x0, g.padding.x), xhi = std::min<uint64_t>(g.x0 + g.box.x, uint64_t{g.padding.x} + g.size.x);
  const uint64_t ylo = std::max<uint64_t>(g.y0, g.padding.y), yhi = std::min<uint64_t>(g.y0 + g.box.y, uint64_t{g.padding.y} + g.size.y);
  if (tlo >= thi || xlo >= xhi || ylo >= yhi) return commit();
  const uint64_t run = yhi - ylo;  // floats per (t, x) row
  std::vector<float> staging;
  staging.reserve(std::min<uint64_t>((thi - tlo) * (xhi - xlo) * run, kMaxWriteBytes / sizeof(float)));
  uint64_t start = 0;  // file offset (floats) of staging[0]
  auto flush = [&]() -> Status {
    if (staging.empty()) return Status{};
    Status st = pwrite_all(fd_, reinterpret_cast<const char*>(staging.data()), staging.size() * sizeof(float),
                           start * sizeof(float));
    bytes_ += staging.size() * sizeof(float);
    staging.clear();
    return st;
  };
  for (uint64_t t = tlo; t < thi; ++t) {
    for (uint64_t x = xlo; x < xhi; ++x) {
      const uint64_t at = ((t - g.padding.t) * g.size.x + (x - g.padding.x)) * g.size.y + (ylo - g.padding.y);
      // Rows adjacent in the file go out in one pwrite (whole parts when the part spans Y).
      if (!staging.empty() && (start + staging.size() != at || staging.size() + run > kMaxWriteBytes / sizeof(float))) {
        if (Status st = flush(); !st.ok()) return commit(st);
      }
      if (staging.empty()) start = at;
      const float* src = values_->data() + ((t - g.t0) * g.box.x + (x - g.x0)) * g.box.y + (ylo - g.y0);
      staging.insert(staging.end(), src, src + run);
    }
  }
  Status st = flush();
  values_.reset();
  commit(st);
}

void ArSync::act() {
  if (::fsync(fd_) != 0) return commit(Status::from_errno("ar: fsync output", errno));
  commit();
}

void ArDigest::act() {
  auto h = sha256_file(path_, &size_);
  if (!h.ok()) return commit(h.status().context("ar: hash output"));
  hex_ = *h;
  commit();
}

}  // namespace chiron::jobs::ar
