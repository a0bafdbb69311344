// libFuzzer target for the NDBC spectral-file reader (jobs/ndbc.h): any bytes — as text, or
// as gzip data — must parse or be refused with an error, never crash, hang or overflow; a
// parsed file then goes through the five-way join and the spectrum integration.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jobs/ndbc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chiron::jobs::ndbc;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_rows = 2000;
  limits.max_bands = 64;
  limits.max_line_bytes = 4096;
  limits.max_text_bytes = 1 << 20;
  auto text = in;
  std::string inflated;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    auto r = gunzip(in, "fuzz.gz", limits.max_text_bytes);
    if (!r.ok()) return 0;
    if (r->size() > limits.max_text_bytes) __builtin_trap();
    inflated = std::move(*r);
    text = inflated;
  }
  auto f = parse_text(text, "fuzz", limits);
  if (!f.ok()) {
    if (f.status().message().rfind("fuzz:", 0) != 0) __builtin_trap();  // errors name file:line
    return 0;
  }
  if (f->offsets.size() != f->rows() + 1 || f->offsets.back() != f->values.size() || f->freqs.size() < 2) __builtin_trap();
  for (size_t i = 1; i < f->freqs.size(); ++i) {
    if (!(f->freqs[i] > f->freqs[i - 1])) __builtin_trap();
  }
  std::array<SpectralFile, kVariables> files = {*f, *f, *f, *f, *f};
  GroupResult g = process_group("fuzz", 2000, files, Directions(8));
  if (g.spectra + g.dropped_band_mismatch + g.dropped_duplicate > f->rows()) __builtin_trap();
  if (!std::isfinite(g.sum_m0) || g.sum_m0 < 0) __builtin_trap();
  return 0;
}
