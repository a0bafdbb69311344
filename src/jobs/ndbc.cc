#include "jobs/ndbc.h"
#include "net/http_gzip.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numbers>
#include <tuple>

namespace chiron::jobs::ndbc {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits a line into whitespace-separated tokens; false when there are more than max_tokens.
bool tokenize(std::string_view line, std::vector<std::string_view>& out, size_t max_tokens) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) {
      if (out.size() == max_tokens) return false;
      out.push_back(line.substr(start, i - start));
    }
  }
  return true;
}

bool parse_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty() || s.size() > 64) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

int days_in_month(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Status line_error(std::string_view name, size_t line, std::string_view what) {
  return Status::invalid_argument(std::string(name) + ":" + std::to_string(line) + ": " + std::string(what));
}

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Far above any sea (E of a 30 m sea is ~10⁴ m²/Hz); keeps every sum finite.
constexpr double kMaxDensity = 1e6;

bool valid_band(double e, double a1, double a2, double r1, double r2) {
  // NaN (missing) fails every comparison.
  return e >= 0 && e <= kMaxDensity && a1 >= 0 && a1 <= 360 && a2 >= 0 && a2 <= 360 && r1 >= 0 && r1 <= 100 && r2 >= 0 && r2 <= 100;
}

}  // namespace

std::optional<FileKey> parse_file_name(std::string_view name) {
  constexpr std::string_view kGz = ".txt.gz", kTxt = ".txt";
  if (name.ends_with(kGz)) {
    name.remove_suffix(kGz.size());
  } else if (name.ends_with(kTxt)) {
    name.remove_suffix(kTxt.size());
  } else {
    return std::nullopt;
  }
  // station (1..16) + letter + 4-digit year
  if (name.size() < 6 || name.size() > 21) return std::nullopt;
  std::string_view year = name.substr(name.size() - 4);
  if (!std::all_of(year.begin(), year.end(), is_digit)) return std::nullopt;
  char letter = name[name.size() - 5];
  auto it = std::find(kLetters.begin(), kLetters.end(), letter);
  if (it == kLetters.end()) return std::nullopt;
  std::string_view station = name.substr(0, name.size() - 5);
  if (!std::all_of(station.begin(), station.end(), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); })) {
    return std::nullopt;
  }
  FileKey key;
  key.station = std::string(station);
  key.year = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10 + (year[3] - '0');
  key.variable = static_cast<Variable>(it - kLetters.begin());
  return key;
}

std::string file_name(std::string_view station, Variable variable, int year) {
  char tail[32];
  std::snprintf(tail, sizeof tail, "%c%04d.txt.gz", kLetters[static_cast<int>(variable)], year);
  return std::string(station) + tail;
}

Result<SpectralFile> parse_text(std::string_view text, std::string_view name, const Limits& limits) {
  SpectralFile f;
  std::vector<std::string_view> tok;
  const size_t max_tokens = limits.max_bands + 5;
  size_t line_no = 0;
  bool header = false;
  size_t pos = 0;
  f.offsets.push_back(0);
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.size() > limits.max_line_bytes) return line_error(name, line_no, "line longer than " + std::to_string(limits.max_line_bytes) + " bytes");
    if (!tokenize(line, tok, max_tokens)) return line_error(name, line_no, "more than " + std::to_string(limits.max_bands) + " bands");
    if (!header) {
      if (tok.empty()) return line_error(name, line_no, "empty first line (expected '#YY  MM DD hh mm' and frequencies)");
      if (tok[0] != "#YY") {
        return line_error(name, line_no,
                          tok[0].starts_with("#") ? "expected '#YY  MM DD hh mm' header"
                                                  : "no '#YY  MM DD hh mm' header (pre-2007 format is not supported)");
      }
      if (tok.size() < 5 || tok[1] != "MM" || tok[2] != "DD" || tok[3] != "hh" || tok[4] != "mm") {
        return line_error(name, line_no, "expected '#YY  MM DD hh mm' header");
      }
      if (tok.size() < 7) return line_error(name, line_no, "header needs at least two frequencies");
      for (size_t i = 5; i < tok.size(); ++i) {
        double v = 0;
        if (!parse_double(tok[i], v)) return line_error(name, line_no, "bad frequency '" + std::string(tok[i].substr(0, 32)) + "'");
        if (v <= 0 || v > 100) return line_error(name, line_no, "frequency out of range");
        if (!f.freqs.empty() && v <= f.freqs.back()) return line_error(name, line_no, "frequencies not increasing");
        f.freqs.push_back(v);
      }
      header = true;
      continue;
    }
    if (tok.empty() || tok[0].starts_with("#")) continue;
    if (f.rows() == limits.max_rows) return line_error(name, line_no, "more than " + std::to_string(limits.max_rows) + " rows");
    if (tok.size() < 6) return line_error(name, line_no, "row needs 'YYYY MM DD hh mm' and values");
    int t[5];
    for (int i = 0; i < 5; ++i) {
      if (!parse_int(tok[i], t[i])) return line_error(name, line_no, "bad date/time field '" + std::string(tok[i].substr(0, 32)) + "'");
    }
    if (t[0] < 1900 || t[0] > 2999 || t[1] < 1 || t[1] > 12 || t[2] < 1 || t[2] > days_in_month(t[0], t[1]) || t[3] < 0 ||
        t[3] > 23 || t[4] < 0 || t[4] > 59) {
      return line_error(name, line_no, "date/time out of range");
    }
    for (size_t i = 5; i < tok.size(); ++i) {
      double v = 0;
      if (!parse_double(tok[i], v)) return line_error(name, line_no, "bad value '" + std::string(tok[i].substr(0, 32)) + "'");
      f.values.push_back(v == kMissingValue ? kNaN : v);
    }
    f.times.push_back(uint64_t(t[0]) * 100000000 + uint64_t(t[1]) * 1000000 + uint64_t(t[2]) * 10000 + uint64_t(t[3]) * 100 +
                      uint64_t(t[4]));
    f.offsets.push_back(static_cast<uint32_t>(f.values.size()));
  }
  if (!header) return line_error(name, 1, "empty file");
  return f;
}

Result<std::string> gunzip(std::string_view data, std::string_view name, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::internal("inflateInit2 failed");
  std::string out;
  size_t in_pos = 0;
  char buf[64 << 10];
  Status st;
  for (;;) {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      size_t n = std::min<size_t>(data.size() - in_pos, 1 << 20);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof buf - zs.avail_out;
    if (out.size() + produced > max_bytes) {
      st = Status::resource_exhausted(std::string(name) + ": decompressed size exceeds " + std::to_string(max_bytes) + " bytes");
      break;
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files are valid gzip).
      size_t left = zs.avail_in + (data.size() - in_pos);
      if (left == 0) break;
      size_t at = data.size() - left;
      if (left < 2 || static_cast<unsigned char>(data[at]) != 0x1f || static_cast<unsigned char>(data[at + 1]) != 0x8b) {
        st = Status::invalid_argument(std::string(name) + ": trailing bytes after the gzip stream");
        break;
      }
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0 && in_pos == data.size()) {
        st = Status::invalid_argument(std::string(name) + ": truncated gzip stream");
        break;
      }
      if (zs.avail_in > 0 && produced == 0) {
        st = Status::invalid_argument(std::string(name) + ": gzip stream makes no progress");
        break;
      }
      continue;
    }
    if (rc != Z_OK) {
      st = Status::invalid_argument(std::string(name) + ": bad gzip data (" + (zs.msg != nullptr ? zs.msg : "zlib error") + ")");
      break;
    }
  }
  inflateEnd(&zs);
  if (!st.ok()) return st;
  return out;
}

std::string gzip(std::string_view data, int level) {
  auto gz = net::gzip_compress(data, level);  // the HTTP layer's compressor (one member)
  return gz.ok() ? std::move(*gz) : std::string();
}

Result<SpectralFile> read_spectral_file(const std::filesystem::path& path, const Limits& limits) {
  std::string name = path.filename().string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot open " + path.string());
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return Status::io_error("cannot read " + path.string());
  if (static_cast<uint64_t>(size) > limits.max_file_bytes) {
    return Status::resource_exhausted(name + ": file larger than " + std::to_string(limits.max_file_bytes) + " bytes");
  }
  in.seekg(0);
  std::string raw(static_cast<size_t>(size), '\0');
  if (!in.read(raw.data(), size)) return Status::io_error("cannot read " + path.string());
  if (raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x1f && static_cast<unsigned char>(raw[1]) == 0x8b) {
    auto text = gunzip(raw, name, limits.max_text_bytes);
    if (!text.ok()) return text.status();
    return parse_text(*text, name, limits);
  }
  if (raw.size() > limits.max_text_bytes) return Status::resource_exhausted(name + ": text larger than the limit");
  return parse_text(raw, name, limits);
}

std::vector<double> band_widths(std::span<const double> freqs) {
  const size_t n = freqs.size();
  std::vector<double> w(n, 0.0);
  if (n < 2) return w;
  double lower = std::max(0.0, freqs[0] - (freqs[1] - freqs[0]) / 2);
  for (size_t i = 0; i < n; ++i) {
    double upper = i + 1 < n ? (freqs[i] + freqs[i + 1]) / 2 : freqs[n - 1] + (freqs[n - 1] - freqs[n - 2]) / 2;
    w[i] = upper - lower;
    lower = upper;
  }
  return w;
}

Directions::Directions(int count) : n(std::max(count, 4)), dtheta(2 * std::numbers::pi / n) {
  for (int j = 0; j < n; ++j) {
    double t = dtheta * j;
    cos1.push_back(std::cos(t));
    sin1.push_back(std::sin(t));
    cos2.push_back(std::cos(2 * t));
    sin2.push_back(std::sin(2 * t));
  }
}

double directional_density(double e, double alpha1_deg, double alpha2_deg, double r1_x100, double r2_x100,
                           double theta_rad) {
  constexpr double kRad = std::numbers::pi / 180;
  double a1 = alpha1_deg * kRad, a2 = alpha2_deg * kRad;
  double r1 = r1_x100 / 100, r2 = r2_x100 / 100;
  return e * (0.5 + r1 * std::cos(theta_rad - a1) + r2 * std::cos(2 * (theta_rad - a2))) / std::numbers::pi;
}

SpectrumResult integrate_spectrum(const SpectrumRows& rows, std::span<const double> widths, const Directions& dirs) {
  constexpr double kRad = std::numbers::pi / 180;
  SpectrumResult r;
  const size_t n = std::min({rows.e.size(), rows.alpha1.size(), rows.alpha2.size(), rows.r1.size(), rows.r2.size(), widths.size()});
  for (size_t i = 0; i < n; ++i) {
    const double e = rows.e[i], a1 = rows.alpha1[i], a2 = rows.alpha2[i], r1 = rows.r1[i], r2 = rows.r2[i];
    if (!valid_band(e, a1, a2, r1, r2)) {
      ++r.bands_missing;
      continue;
    }
    ++r.bands_used;
    // cos(θ−α) = cosθ cosα + sinθ sinα; cos 2(θ−α) likewise with 2θ, 2α.
    const double c1 = std::cos(a1 * kRad) * (r1 / 100), s1 = std::sin(a1 * kRad) * (r1 / 100);
    const double c2 = std::cos(2 * a2 * kRad) * (r2 / 100), s2 = std::sin(2 * a2 * kRad) * (r2 / 100);
    const double scale = e / std::numbers::pi;
    double band0 = 0, band_cos = 0, band_sin = 0;
    for (int j = 0; j < dirs.n; ++j) {
      const double s = scale * (0.5 + dirs.cos1[j] * c1 + dirs.sin1[j] * s1 + dirs.cos2[j] * c2 + dirs.sin2[j] * s2);
      band0 += s;
      band_cos += s * dirs.cos1[j];
      band_sin += s * dirs.sin1[j];
    }
    const double w = widths[i] * dirs.dtheta;
    r.m0 += band0 * w;
    r.m_cos += band_cos * w;
    r.m_sin += band_sin * w;
  }
  r.bands_missing += static_cast<uint32_t>(rows.e.size() - n);
  return r;
}

void GroupResult::add(const SpectrumResult& s) {
  ++spectra;
  missing_bands += s.bands_missing;
  sum_m0 += s.m0;
  sum_hm0 += 4 * std::sqrt(std::max(0.0, s.m0));
  sum_m_cos += s.m_cos;
  sum_m_sin += s.m_sin;
}

GroupResult process_group(std::string_view station, int year, const std::array<SpectralFile, kVariables>& files,
                          const Directions& dirs, bool (*cancelled)(const void*), const void* cancel_arg) {
  GroupResult g;
  g.station = std::string(station);
  g.year = year;
  const SpectralFile& w = files[0];
  const size_t bands = w.freqs.size();
  const std::vector<double> widths = band_widths(w.freqs);
  // Per variable: (time, row) sorted by time (stable: file order among equal times).
  std::array<std::vector<std::pair<uint64_t, uint32_t>>, kVariables> idx;
  for (int v = 0; v < kVariables; ++v) {
    idx[v].reserve(files[v].rows());
    for (size_t r = 0; r < files[v].rows(); ++r) idx[v].emplace_back(files[v].times[r], static_cast<uint32_t>(r));
    std::stable_sort(idx[v].begin(), idx[v].end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::array<size_t, kVariables> p{};
  uint64_t steps = 0;
  for (;;) {
    uint64_t t = std::numeric_limits<uint64_t>::max();
    for (int v = 0; v < kVariables; ++v) {
      if (p[v] < idx[v].size()) t = std::min(t, idx[v][p[v]].first);
    }
    if (t == std::numeric_limits<uint64_t>::max()) break;
    if (cancelled != nullptr && (++steps & 255) == 0 && cancelled(cancel_arg)) break;
    std::array<uint32_t, kVariables> row{};
    int present = 0;
    bool duplicate = false;
    for (int v = 0; v < kVariables; ++v) {
      size_t count = 0;
      while (p[v] < idx[v].size() && idx[v][p[v]].first == t) {
        if (count == 0) row[v] = idx[v][p[v]].second;
        ++count;
        ++p[v];
      }
      if (count > 1) duplicate = true;
      if (count > 0) ++present;
    }
    if (duplicate) {
      ++g.dropped_duplicate;
      continue;
    }
    if (present < kVariables) {
      ++g.dropped_missing_variable;
      continue;
    }
    SpectrumRows rows{files[0].row(row[0]), files[1].row(row[1]), files[2].row(row[2]), files[3].row(row[3]),
                      files[4].row(row[4])};
    if (rows.e.size() != bands || rows.alpha1.size() != bands || rows.alpha2.size() != bands || rows.r1.size() != bands ||
        rows.r2.size() != bands) {
      ++g.dropped_band_mismatch;
      continue;
    }
    g.add(integrate_spectrum(rows, widths, dirs));
  }
  return g;
}

uint64_t checksum(std::vector<GroupResult>& groups) {
  std::sort(groups.begin(), groups.end(),
            [](const GroupResult& a, const GroupResult& b) { return std::tie(a.station, a.year) < std::tie(b.station, b.year); });
  uint64_t h = mix(0x6e646263);  // "ndbc"
  for (const GroupResult& g : groups) {
    for (char c : g.station) h = mix(h ^ static_cast<unsigned char>(c));
    for (uint64_t v : {uint64_t(g.year), g.spectra, g.dropped_missing_variable, g.dropped_band_mismatch, g.dropped_duplicate,
                       g.missing_bands, std::bit_cast<uint64_t>(g.sum_m0), std::bit_cast<uint64_t>(g.sum_hm0),
                       std::bit_cast<uint64_t>(g.sum_m_cos), std::bit_cast<uint64_t>(g.sum_m_sin)}) {
      h = mix(h ^ v);
    }
  }
  return h;
}

std::string format_group(const GroupResult& g) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s,%d,%llu,%llu,%llu,%llu,%llu,%.17g,%.17g,%.17g,%.17g", g.station.c_str(), g.year,
                static_cast<unsigned long long>(g.spectra), static_cast<unsigned long long>(g.dropped_missing_variable),
                static_cast<unsigned long long>(g.dropped_band_mismatch), static_cast<unsigned long long>(g.dropped_duplicate),
                static_cast<unsigned long long>(g.missing_bands), g.sum_m0, g.sum_hm0, g.sum_m_cos, g.sum_m_sin);
  return buf;
}

}  // namespace chiron::jobs::ndbc
