#pragma once
// DESIGN — ar: the autoregressive (AR) ocean-wave generator, the paper's HPC benchmark
// (../shared/papers/middleware-big-data-micro-kernels.txt §5.1; the authors' "autoreg").
//
// A wavy surface ζ(t,x,y) is white noise passed through a 3-D AR filter:
//   ζ(t,x,y) = Σ φ(l,m,n)·ζ(t−l,x−m,y−n) + ε(t,x,y),  (l,m,n) ∈ order grid \ {(0,0,0)},
// with φ from the Yule–Walker equations of the ACF
//   γ(t,x,y) = γ·e^(−α(|t|+|x|+|y|))·cos(βx)·cos(βt)
// and ε ~ N(0, σ²), σ² = γ(0) − Σ φ·γ. The filter runs over a domain padded at the start of
// each axis (ζ = 0 before it; the transient is trimmed), so the output is T×X×Y float32,
// little-endian, t-major.
//
// Reproducibility: ε(t,x,y) is a counter-based draw keyed by (seed, padded t, x, y) —
// splitmix64 → Box–Muller — and every point sums its terms in one fixed order
// (filter_box), so the output bytes do not depend on how the domain is cut into parts,
// on which thread a part ran, or on the parallel implementation (tests/jobs and
// bench/ar_openmp.cc check this). Across nodes the same holds for the same binary on the
// same kind of CPU: the noise uses libm log/cos, whose glibc variants (FMA or not) are
// picked per CPU and are not guaranteed to round alike.
//
// This header: pure functions (thread-safe) plus make_main() for the kernel tree in
// ar_app.cc (main → coefficients → variance → generator → parts + disk writes).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace chiron::kernel {
class Kernel;
}  // namespace chiron::kernel
namespace chiron::cluster {
class RemoteKernel;
}  // namespace chiron::cluster

namespace chiron::jobs::ar {

struct Dims {
  uint32_t t = 0, x = 0, y = 0;
  uint64_t volume() const { return uint64_t{t} * x * y; }
  bool operator==(const Dims&) const = default;
};

struct AcfParams {
  double alpha = 0.42;
  double beta = 0.95;
  double gamma = 1.0;
};

// Limits (hostile args and wire input are checked against them).
inline constexpr uint32_t kMaxOrderAxis = 16;
inline constexpr uint64_t kMaxOrderVolume = 1000;          // Yule–Walker matrix ≤ 999²
inline constexpr uint32_t kMaxAxis = uint32_t{1} << 30;     // padded axis length
inline constexpr uint64_t kMaxPoints = uint64_t{1} << 38;   // output ≤ 1 TiB of float32
inline constexpr uint64_t kMaxPartPoints = uint64_t{1} << 21;  // halo+values stay a few MiB
inline constexpr uint64_t kMaxParts = uint64_t{1} << 24;
inline constexpr uint64_t kMaxPartExtPoints = uint64_t{1} << 23;  // part + its halo

struct Config {
  Dims size;               // output T×X×Y
  Dims order{7, 7, 7};     // AR order grid (φ has order.volume() − 1 unknowns)
  Dims part{64, 16, 16};   // part size in the padded domain (≥ order − 1 per axis)
  Dims padding{7, 7, 7};   // transient trimmed before each axis (parse_args: = order)
  uint64_t seed = 1;
  AcfParams acf;
  std::string out;         // output file
  bool sha256 = true;      // main hashes the output (summary) after the last write
  bool fsync = true;       // the output is fsync'd before the generator returns

  Dims padded() const { return {size.t + padding.t, size.x + padding.x, size.y + padding.y}; }
};

// Parses `--size T,X,Y --out FILE [--seed N] [--part T,X,Y] [--order T,X,Y] [--pad T,X,Y]
// [--alpha a] [--beta b] [--gamma g] [--no-sha256] [--no-fsync]`, then validate().
Result<Config> parse_args(const std::vector<std::string>& args);
// Checks ranges (invalid_argument with a message for the user) and clamps the part size
// to the padded domain.
Status validate(Config& c);
std::string usage();

// ACF γ(t,x,y) (even in every axis).
double acf(const AcfParams& p, int64_t t, int64_t x, int64_t y);
// ACF on the order grid, t-major (index (l·ox + m)·oy + n).
std::vector<double> acf_grid(const AcfParams& p, Dims order);

// Solves A·x = b in place for a symmetric positive-definite n×n row-major A (Cholesky
// LLᵀ; only the lower triangle is read). A is overwritten by L, b by x. Fails
// (failed_precondition) when A is not positive definite (a pivot ≤ 0 or not finite).
Status cholesky_solve(std::vector<double>& a, std::vector<double>& b, size_t n);

// Yule–Walker: φ on the order grid, t-major, φ[0] = 0. `acf` is acf_grid(order).
Result<std::vector<double>> yule_walker(const std::vector<double>& acf, Dims order);
// σ² = γ(0) − Σ φ·γ; fails when ≤ 0 or not finite (ACF/order ill-conditioned).
Result<double> white_noise_variance(const std::vector<double>& acf, const std::vector<double>& phi);

// splitmix64 finaliser.
uint64_t mix64(uint64_t x);
// Standard normal draw for the padded-domain point (t,x,y): a pure function of its inputs.
double gaussian(uint64_t seed, uint64_t t, uint64_t x, uint64_t y);

struct Model {
  Dims order;
  std::vector<double> phi;  // order.volume(), t-major, phi[0] unused
  double sigma = 0;         // √σ²
  uint64_t seed = 0;
};

// Computes the box [g0, g0+box) of the padded domain in place. `origin` points at the
// buffer cell of point g0; the cells up to order−1 before the box on every axis must hold
// their values (0 outside the domain). Strides in floats; y is contiguous.
struct BoxRef {
  float* origin = nullptr;
  int64_t stride_t = 0;
  int64_t stride_x = 0;
  uint64_t t0 = 0, x0 = 0, y0 = 0;  // global (padded) coordinates of origin
  Dims box;
};
void filter_box(const Model& m, const BoxRef& b);

// The whole algorithm in one thread, one box: the reference the parallel versions must
// match byte for byte. Returns the trimmed output (T×X×Y float32 LE, t-major).
Result<std::string> generate_sequential(const Config& c);
// The model of a config: coefficients + variance (the preprocessing phase).
Result<Model> make_model(const Config& c);

// The main kernel of an ar-waves job (registered type "ar.main"), for Runtime::run or a
// node. After it finished, summary_of() gives its one-line result ("" if not an ar.main).
std::unique_ptr<cluster::RemoteKernel> make_main(const Config& c);
std::string summary_of(const kernel::Kernel& main);

}  // namespace chiron::jobs::ar
