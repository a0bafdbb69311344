#include "jobs/ndbc_synth.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <system_error>

#include "jobs/ndbc.h"

namespace chiron::jobs::ndbc {

namespace {

// splitmix64: a tiny generator whose output is the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t s_;
};

int days_in_month(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

double wrap_deg(double d) {
  d = std::fmod(d, 360.0);
  return d < 0 ? d + 360.0 : d;
}

// " 12.34" with `decimals` digits (std::to_chars: no locale, much faster than snprintf).
void append(std::string& s, int decimals, double v) {
  char buf[40];
  buf[0] = ' ';
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec == std::errc()) s.append(buf, end);
}

}  // namespace

const std::vector<double>& standard_frequencies() {
  static const std::vector<double> f = [] {
    std::vector<double> v{0.02};
    for (int i = 0; i < 13; ++i) v.push_back(0.0325 + 0.005 * i);  // .0325 … .0925
    for (int i = 0; i < 26; ++i) v.push_back(0.10 + 0.01 * i);      // .10 … .35
    for (int i = 0; i < 7; ++i) v.push_back(0.365 + 0.02 * i);      // .365 … .485
    return v;
  }();
  return f;
}

std::string synthetic_station(int index) { return std::to_string(41001 + index); }

std::vector<std::string> synthetic_texts(const SynthOptions& o, int station_index, int year) {
  const std::vector<double>& freqs = standard_frequencies();
  const size_t nb = freqs.size();
  const std::vector<double> widths = band_widths(freqs);
  Rng rng(o.seed * 0x100000001b3ULL ^ (uint64_t(station_index) << 20) ^ uint64_t(year));
  std::vector<std::string> texts(kVariables);
  for (std::string& t : texts) {
    t = "#YY  MM DD hh mm";
    for (double f : freqs) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.4f", f);
      t += buf[0] == '0' ? std::string(" ") + (buf + 1) : std::string(" ") + buf;  // " .0200" as NDBC writes it
    }
    t += '\n';
  }
  // Slowly varying sea state.
  double hs = rng.between(0.8, 3.0), fp = rng.between(0.07, 0.14), dir = rng.between(0, 360);
  std::vector<double> e(nb), a1(nb), a2(nb), r1(nb), r2(nb);
  const int step = std::max(1, o.hours_step);
  int hour_of_year = 0;
  for (int month = 1; month <= 12; ++month) {
    for (int day = 1; day <= days_in_month(year, month); ++day) {
      for (int hour = 0; hour < 24; ++hour, ++hour_of_year) {
        if (hour_of_year % step != 0) continue;
        hs = std::clamp(hs * std::exp(rng.between(-0.08, 0.08)), 0.3, 8.0);
        fp = std::clamp(fp + rng.between(-0.004, 0.004), 0.05, 0.2);
        dir = wrap_deg(dir + rng.between(-8, 8));
        // JONSWAP shape (γ = 3.3), then scaled so that Σ E Δf = Hs²/16.
        double m0 = 0;
        for (size_t i = 0; i < nb; ++i) {
          double f = freqs[i];
          double sigma = f <= fp ? 0.07 : 0.09;
          double peak = std::exp(-(f - fp) * (f - fp) / (2 * sigma * sigma * fp * fp));
          e[i] = std::pow(f, -5) * std::exp(-1.25 * std::pow(fp / f, 4)) * std::pow(3.3, peak);
          m0 += e[i] * widths[i];
        }
        const double scale = hs * hs / 16 / m0;
        for (size_t i = 0; i < nb; ++i) {
          e[i] *= scale;
          double away = std::fabs(freqs[i] - fp) / fp;  // spread grows away from the peak
          a1[i] = wrap_deg(dir + rng.between(-10, 10) * (1 + away));
          a2[i] = wrap_deg(a1[i] + rng.between(-15, 15));
          r1[i] = std::clamp(85 - 30 * away + rng.between(-8, 8), 5.0, 98.0);
          r2[i] = std::clamp(r1[i] * rng.between(0.4, 0.8), 2.0, 95.0);
        }
        const std::vector<double>* vars[kVariables] = {&e, &a1, &a2, &r1, &r2};
        static constexpr int kDecimals[kVariables] = {2, 1, 1, 1, 1};
        char stamp[64];
        std::snprintf(stamp, sizeof stamp, "%04d %02d %02d %02d 50", year, month, day, hour);
        for (int v = 0; v < kVariables; ++v) {
          if (rng.uniform() < o.gap_time) continue;  // the timestamp is absent from this file
          bool row_gap = rng.uniform() < o.gap_row;
          std::string& t = texts[v];
          t += stamp;
          for (size_t i = 0; i < nb; ++i) {
            if (row_gap || rng.uniform() < o.gap_band) {
              t += v == 0 ? " 999.00" : " 999.0";
            } else {
              append(t, kDecimals[v], (*vars[v])[i]);
            }
          }
          t += '\n';
        }
      }
    }
  }
  return texts;
}

Status write_synthetic_group(const std::filesystem::path& dir, const SynthOptions& o, int station_index, int year) {
  std::error_code ec;
  std::vector<std::string> texts = synthetic_texts(o, station_index, year);
  for (int v = 0; v < kVariables; ++v) {
    std::filesystem::path path = dir / file_name(synthetic_station(station_index), static_cast<Variable>(v), year);
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    std::string gz = gzip(texts[v]);
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(gz.data(), static_cast<std::streamsize>(gz.size()));
      if (!out) return Status::io_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status::io_error("cannot rename " + tmp.string() + ": " + ec.message());
  }
  return {};
}

Status write_synthetic_dataset(const std::filesystem::path& dir, const SynthOptions& o) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("cannot create " + dir.string() + ": " + ec.message());
  for (int s = 0; s < o.stations; ++s) {
    for (int y = o.first_year; y < o.first_year + o.years; ++y) {
      Status st = write_synthetic_group(dir, o, s, y);
      if (!st.ok()) return st;
    }
  }
  return {};
}

}  // namespace chiron::jobs::ndbc
