#pragma once
// DESIGN — ndbc: NDBC historical spectral wave files → directional wave spectra (the paper's
// big-data benchmark, ../shared/research/subordination.md §4). Pure functions, no I/O except
// read_spectral_file(); thread-safe (no shared state). Used by the "ndbc-spectra" cluster job
// (ndbc_app.cc), the MapReduce baseline (bench/ndbc_mapreduce.cc) and the fuzz target.
//
// Files. `<station><v><year>.txt.gz`, v ∈ w (E(f), m²/Hz), d (α1, degrees), i (α2, degrees),
// j (r1), k (r2). The first line is `#YY  MM DD hh mm` followed by the band frequencies (Hz);
// further lines starting with '#' are skipped; each data row is `YYYY MM DD hh mm` and one
// value per band. Pre-2007 files (no '#', no minute column) are refused with a clear error.
//
// Missing values. NDBC historical files write 999 / 999.0 (a "9-filled" field) for a missing
// value (https://www.ndbc.noaa.gov/measdes.shtml). The parser stores them as NaN. A band is
// used only when all five values are present and physically valid (0 ≤ E ≤ 10⁶, 0 ≤ α ≤ 360,
// 0 ≤ r ≤ 100 as stored); otherwise it contributes nothing to the integrals and is counted in
// `missing_bands` — unlike the authors' program, which read 999 as 0 (giving α1 = 0° = north
// and E = 0 for a missing band).
//
// Units (the authors' defects fixed). α is converted from degrees to radians; r1 and r2 are
// stored ×100 in the historical files (r ∈ [0,1] becomes 0…100) and are divided by 100 —
// the 0.01 factor of the authors' program and of public readers of these files (e.g.
// matNOAA-NDBC readNDBCwavespectra.m). The directional spectrum is NDBC's
//   S(f,θ) = E(f)·D(f,θ),  D = (1/π)·(½ + r1·cos(θ−α1) + r2·cos(2(θ−α2)))
// with ∫₀^{2π} D dθ = 1. It is evaluated on n_theta ≥ 4 uniform directions θ_j = 2πj/n_theta
// (Δθ = 2π/n_theta; the periodic trapezoid rule is exact for trigonometric polynomials of
// degree < n_theta: S is degree 2, S·cos θ and S·sin θ degree 3) and the file's non-uniform
// frequencies with band widths Δf_i (the cell between the midpoints to the neighbouring
// frequencies; the two end cells are symmetric about their frequency, the lower edge clamped
// at 0). So Σ_j S(f_i,θ_j)Δθ = E(f_i) and
// m0 = Σ_i Σ_j S Δf_i Δθ = Σ_i E(f_i) Δf_i.
//
// Join. The five files of a (station, year) are joined on the timestamp, ascending. A
// timestamp is dropped when it appears twice in one file (duplicate), is missing from any
// of the five files (missing_variable), or when a row's band count differs from the number
// of frequencies in the w file's header (band_mismatch); each case is counted.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace chiron::jobs::ndbc {

enum class Variable : uint8_t { kDensity = 0, kAlpha1 = 1, kAlpha2 = 2, kR1 = 3, kR2 = 4 };
inline constexpr int kVariables = 5;
// The file-name letters in Variable order.
inline constexpr std::array<char, kVariables> kLetters = {'w', 'd', 'i', 'j', 'k'};
inline constexpr double kMissingValue = 999.0;
inline constexpr int kDefaultDirections = 36;  // Δθ = 10°

struct FileKey {
  std::string station;  // [a-z0-9], 1..16 characters as in the name
  int year = 0;
  Variable variable = Variable::kDensity;
};
// "41001w2015.txt.gz" (or ".txt") → {"41001", 2015, kDensity}; nullopt for any other name.
std::optional<FileKey> parse_file_name(std::string_view name);
// The name of a yearly file: "41001w2015.txt.gz".
std::string file_name(std::string_view station, Variable variable, int year);

// Bounds on hostile input.
struct Limits {
  size_t max_file_bytes = size_t{64} << 20;   // compressed file on disk
  size_t max_text_bytes = size_t{256} << 20;  // after gunzip (gzip-bomb cap)
  size_t max_bands = 256;
  size_t max_rows = 200'000;                  // a year of 10-minute rows is 52,560
  size_t max_line_bytes = 16 << 10;
};

// One parsed file. Missing values (999) are NaN. Rows keep the file's order.
struct SpectralFile {
  std::vector<double> freqs;      // Hz, from the header, strictly increasing, > 0
  std::vector<uint64_t> times;    // per row: YYYYMMDDhhmm as a decimal number (sorts in time)
  std::vector<uint32_t> offsets;  // rows()+1 entries: row r is values[offsets[r], offsets[r+1])
  std::vector<double> values;

  size_t rows() const { return times.size(); }
  std::span<const double> row(size_t r) const {
    return {values.data() + offsets[r], values.data() + offsets[r + 1]};
  }
};

// Parses the text of one file; errors are "name:line: what".
Result<SpectralFile> parse_text(std::string_view text, std::string_view name, const Limits& limits = {});
// Inflates gzip data (one or more members), failing beyond `max_bytes` of output.
Result<std::string> gunzip(std::string_view data, std::string_view name, size_t max_bytes);
// gzip-compresses data (one member; for the generator and tests).
std::string gzip(std::string_view data, int level = 6);
// Reads a file (gunzips it when it starts with the gzip magic) and parses it.
Result<SpectralFile> read_spectral_file(const std::filesystem::path& path, const Limits& limits = {});

// Band widths Δf_i for the frequencies (see DESIGN); same size as freqs.
std::vector<double> band_widths(std::span<const double> freqs);

// Direction grid: θ_j = 2πj/n and its trigonometric values.
struct Directions {
  explicit Directions(int n = kDefaultDirections);  // n < 4 is raised to 4
  int n;
  double dtheta;
  std::vector<double> cos1, sin1, cos2, sin2;  // cos θ_j, sin θ_j, cos 2θ_j, sin 2θ_j
};

// The integrals of one spectrum over f and θ (m², i.e. variance of the surface elevation).
struct SpectrumResult {
  double m0 = 0;     // ∫∫ S dθ df
  double m_cos = 0;  // ∫∫ S cos θ dθ df (northward component of the mean direction vector)
  double m_sin = 0;  // ∫∫ S sin θ dθ df (eastward)
  uint32_t bands_used = 0;
  uint32_t bands_missing = 0;
};

// The five rows of one timestamp, raw as in the files (degrees, r ×100, NaN = missing).
struct SpectrumRows {
  std::span<const double> e, alpha1, alpha2, r1, r2;
};

// S(f_i, θ) for one band with α in degrees and r as stored (×100).
double directional_density(double e, double alpha1_deg, double alpha2_deg, double r1_x100, double r2_x100,
                           double theta_rad);
// Evaluates S on the whole grid and integrates it with Δf·Δθ weights.
SpectrumResult integrate_spectrum(const SpectrumRows& rows, std::span<const double> widths, const Directions& dirs);

// The result of one (station, year) group. Sums are accumulated in timestamp order, so a
// group's numbers are bit-identical wherever (and by whichever program) it is computed.
struct GroupResult {
  std::string station;
  int year = 0;
  uint64_t spectra = 0;
  uint64_t dropped_missing_variable = 0;
  uint64_t dropped_band_mismatch = 0;
  uint64_t dropped_duplicate = 0;
  uint64_t missing_bands = 0;
  double sum_m0 = 0;
  double sum_hm0 = 0;  // Σ 4·√m0 (significant wave height, m)
  double sum_m_cos = 0;
  double sum_m_sin = 0;

  void add(const SpectrumResult& s);
  bool operator==(const GroupResult&) const = default;
};

// Joins the five files of a group (indexed by Variable) and integrates every joined spectrum.
// `cancelled` (optional) is polled now and then; when it returns true the result is partial.
GroupResult process_group(std::string_view station, int year, const std::array<SpectralFile, kVariables>& files,
                          const Directions& dirs, bool (*cancelled)(const void*) = nullptr,
                          const void* cancel_arg = nullptr);

// Sorts by (station, year) and folds every field into one 64-bit checksum.
uint64_t checksum(std::vector<GroupResult>& groups);
// "station,year,spectra,dropped_missing_variable,dropped_band_mismatch,dropped_duplicate,
//  missing_bands,sum_m0,sum_hm0,sum_m_cos,sum_m_sin" (%.17g), no newline.
std::string format_group(const GroupResult& g);

}  // namespace chiron::jobs::ndbc
