// ar: the pure functions of the AR wave generator (see ar.h).
#include "jobs/ar.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>

#include "common/strings.h"

namespace chiron::jobs::ar {

static_assert(std::endian::native == std::endian::little, "output and wire bytes are float32 little-endian");

namespace {

Result<Dims> parse_dims(std::string_view flag, std::string_view s) {
  auto parts = split(s, ',');
  if (parts.size() != 3) return Status::invalid_argument(std::string(flag) + " wants T,X,Y (three numbers)");
  uint32_t v[3];
  for (int i = 0; i < 3; ++i) {
    auto n = parse_u64(parts[static_cast<size_t>(i)]);
    if (!n.ok()) return Status::invalid_argument(std::string(flag) + ": " + n.status().message());
    if (*n > kMaxAxis) return Status::invalid_argument(std::string(flag) + ": " + std::to_string(*n) + " is too large");
    v[i] = static_cast<uint32_t>(*n);
  }
  return Dims{v[0], v[1], v[2]};
}

Result<double> parse_double(std::string_view flag, const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    return Status::invalid_argument(std::string(flag) + ": '" + s.substr(0, 64) + "' is not a finite number");
  }
  return v;
}

std::string dims_str(Dims d) { return std::to_string(d.t) + "," + std::to_string(d.x) + "," + std::to_string(d.y); }

}  // namespace

std::string usage() {
  return "ar-waves --size T,X,Y --out FILE [--seed N] [--part T,X,Y] [--order T,X,Y] [--pad T,X,Y] "
         "[--alpha a] [--beta b] [--gamma g] [--no-sha256] [--no-fsync]";
}

Result<Config> parse_args(const std::vector<std::string>& a) {
  Config c;
  bool have_size = false, have_pad = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& flag = a[i];
    if (flag == "--no-sha256") {
      c.sha256 = false;
      continue;
    }
    if (flag == "--no-fsync") {
      c.fsync = false;
      continue;
    }
    if (i + 1 >= a.size()) return Status::invalid_argument(flag + " needs a value (usage: " + usage() + ")");
    const std::string& v = a[++i];
    if (flag == "--size" || flag == "--part" || flag == "--order" || flag == "--pad") {
      auto d = parse_dims(flag, v);
      if (!d.ok()) return d.status();
      if (flag == "--size") {
        c.size = *d;
        have_size = true;
      } else if (flag == "--part") {
        c.part = *d;
      } else if (flag == "--order") {
        c.order = *d;
      } else {
        c.padding = *d;
        have_pad = true;
      }
    } else if (flag == "--out") {
      c.out = v;
    } else if (flag == "--seed") {
      auto n = parse_u64(v);
      if (!n.ok()) return Status::invalid_argument("--seed: " + n.status().message());
      c.seed = *n;
    } else if (flag == "--alpha" || flag == "--beta" || flag == "--gamma") {
      auto d = parse_double(flag, v);
      if (!d.ok()) return d.status();
      (flag == "--alpha" ? c.acf.alpha : flag == "--beta" ? c.acf.beta : c.acf.gamma) = *d;
    } else {
      return Status::invalid_argument("unknown option " + flag.substr(0, 64) + " (usage: " + usage() + ")");
    }
  }
  if (!have_size) return Status::invalid_argument("--size T,X,Y is required");
  if (!have_pad) c.padding = c.order;
  Status st = validate(c);
  if (!st.ok()) return st;
  return c;
}

Status validate(Config& c) {
  if (c.size.t == 0 || c.size.x == 0 || c.size.y == 0) return Status::invalid_argument("--size: every axis must be ≥ 1");
  if (c.size.volume() > kMaxPoints) return Status::invalid_argument("--size: more than 2^38 points");
  if (c.order.t == 0 || c.order.x == 0 || c.order.y == 0 || c.order.t > kMaxOrderAxis || c.order.x > kMaxOrderAxis ||
      c.order.y > kMaxOrderAxis) {
    return Status::invalid_argument("--order: every axis must be 1.." + std::to_string(kMaxOrderAxis));
  }
  if (c.order.volume() < 2 || c.order.volume() > kMaxOrderVolume) {
    return Status::invalid_argument("--order: the grid must hold 2.." + std::to_string(kMaxOrderVolume) + " points");
  }
  if (uint64_t{c.size.t} + c.padding.t > kMaxAxis || uint64_t{c.size.x} + c.padding.x > kMaxAxis ||
      uint64_t{c.size.y} + c.padding.y > kMaxAxis) {
    return Status::invalid_argument("--size + --pad: an axis is longer than 2^30");
  }
  const AcfParams& p = c.acf;
  if (!(p.alpha > 0) || !std::isfinite(p.alpha)) return Status::invalid_argument("--alpha must be > 0");
  if (!(p.beta >= 0) || !std::isfinite(p.beta)) return Status::invalid_argument("--beta must be ≥ 0");
  if (!(p.gamma > 0) || !std::isfinite(p.gamma)) return Status::invalid_argument("--gamma must be > 0");
  if (c.out.empty()) return Status::invalid_argument("--out FILE is required");
  const Dims pd = c.padded();
  Dims& b = c.part;
  if (b.t + 1 < c.order.t || b.x + 1 < c.order.x || b.y + 1 < c.order.y || b.t == 0 || b.x == 0 || b.y == 0) {
    return Status::invalid_argument("--part " + dims_str(b) + ": every axis must be ≥ max(1, order − 1) (order " +
                                    dims_str(c.order) + ")");
  }
  b = {std::min(b.t, pd.t), std::min(b.x, pd.x), std::min(b.y, pd.y)};
  if (b.volume() > kMaxPartPoints) return Status::invalid_argument("--part: more than 2^21 points per part");
  if (uint64_t{b.t + c.order.t - 1} * (b.x + c.order.x - 1) * (b.y + c.order.y - 1) > kMaxPartExtPoints) {
    return Status::invalid_argument("--part: a part with its halo holds more than 2^23 points");
  }
  const uint64_t parts = uint64_t{(pd.t + b.t - 1) / b.t} * ((pd.x + b.x - 1) / b.x) * ((pd.y + b.y - 1) / b.y);
  if (parts > kMaxParts) return Status::invalid_argument("--part: more than 2^24 parts; use larger parts");
  return Status{};
}

double acf(const AcfParams& p, int64_t t, int64_t x, int64_t y) {
  const double at = static_cast<double>(std::llabs(t)), ax = static_cast<double>(std::llabs(x)),
               ay = static_cast<double>(std::llabs(y));
  return p.gamma * std::exp(-p.alpha * (at + ax + ay)) * std::cos(p.beta * ax) * std::cos(p.beta * at);
}

std::vector<double> acf_grid(const AcfParams& p, Dims order) {
  std::vector<double> g(order.volume());
  size_t i = 0;
  for (uint32_t l = 0; l < order.t; ++l)
    for (uint32_t m = 0; m < order.x; ++m)
      for (uint32_t n = 0; n < order.y; ++n) g[i++] = acf(p, l, m, n);
  return g;
}

Status cholesky_solve(std::vector<double>& a, std::vector<double>& b, size_t n) {
  if (a.size() != n * n || b.size() != n) return Status::invalid_argument("cholesky_solve: size mismatch");
  // A = L·Lᵀ, L stored in the lower triangle of a.
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0) || !std::isfinite(d)) {
      return Status::failed_precondition("matrix is not positive definite (pivot " + std::to_string(j) + ")");
    }
    const double ljj = std::sqrt(d);
    a[j * n + j] = ljj;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      const double* ri = &a[i * n];
      const double* rj = &a[j * n];
      for (size_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
      a[i * n + j] = s / ljj;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L·z = b
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // Lᵀ·x = z
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return Status{};
}

Result<std::vector<double>> yule_walker(const std::vector<double>& g, Dims order) {
  const size_t v = order.volume();
  if (g.size() != v || v < 2) return Status::invalid_argument("yule_walker: ACF grid does not match the order");
  const size_t n = v - 1;
  auto coord = [&](size_t i) {
    return std::array<uint32_t, 3>{static_cast<uint32_t>(i / (uint64_t{order.x} * order.y)),
                                   static_cast<uint32_t>(i / order.y % order.x), static_cast<uint32_t>(i % order.y)};
  };
  auto dist = [](uint32_t p, uint32_t q) { return p > q ? p - q : q - p; };
  std::vector<double> a(n * n), b(n);
  for (size_t i = 0; i < n; ++i) {
    const auto ci = coord(i + 1);
    b[i] = g[i + 1];
    for (size_t j = 0; j <= i; ++j) {
      const auto cj = coord(j + 1);
      const double v_ij = g[(uint64_t{dist(ci[0], cj[0])} * order.x + dist(ci[1], cj[1])) * order.y + dist(ci[2], cj[2])];
      a[i * n + j] = v_ij;
      a[j * n + i] = v_ij;
    }
  }
  Status st = cholesky_solve(a, b, n);
  if (!st.ok()) return st.context("Yule–Walker system (ACF not positive definite at this order)");
  std::vector<double> phi(v);
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(b[i])) return Status::failed_precondition("Yule–Walker: coefficient is not finite");
    phi[i + 1] = b[i];
  }
  return phi;
}

Result<double> white_noise_variance(const std::vector<double>& g, const std::vector<double>& phi) {
  if (g.size() != phi.size() || g.empty()) return Status::invalid_argument("white_noise_variance: size mismatch");
  double s = g[0];
  for (size_t i = 1; i < g.size(); ++i) s -= phi[i] * g[i];
  if (!(s > 0) || !std::isfinite(s)) {
    return Status::failed_precondition("white-noise variance " + std::to_string(s) +
                                       " ≤ 0: the ACF is ill-conditioned at this order (try a larger --alpha)");
  }
  return s;
}

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double gaussian(uint64_t seed, uint64_t t, uint64_t x, uint64_t y) {
  const uint64_t k1 = mix64(mix64(mix64(seed) ^ t) ^ ((x << 32) | y));
  const uint64_t k2 = mix64(k1 ^ 0xd1b54a32d192ed03ULL);
  const double u1 = static_cast<double>((k1 >> 11) + 1) * 0x1p-53;  // (0, 1]
  const double u2 = static_cast<double>(k2 >> 11) * 0x1p-53;        // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void filter_box(const Model& m, const BoxRef& b) {
  const uint32_t ot = m.order.t, ox = m.order.x, oy = m.order.y;
  const uint32_t by = b.box.y;
  std::vector<double> acc(by);
  double* ac = acc.data();
  const double* phi = m.phi.data();
  for (uint32_t i = 0; i < b.box.t; ++i) {
    for (uint32_t j = 0; j < b.box.x; ++j) {
      float* row = b.origin + static_cast<int64_t>(i) * b.stride_t + static_cast<int64_t>(j) * b.stride_x;
      std::fill(acc.begin(), acc.end(), 0.0);
      // Terms from earlier rows, in (l, m, n) order: independent across y (vectorisable;
      // each point's sum keeps the same order whatever the box).
      for (uint32_t l = 0; l < ot; ++l) {
        for (uint32_t mm = 0; mm < ox; ++mm) {
          if (l == 0 && mm == 0) continue;
          const float* src = row - static_cast<int64_t>(l) * b.stride_t - static_cast<int64_t>(mm) * b.stride_x;
          const double* ph = phi + (uint64_t{l} * ox + mm) * oy;
          for (uint32_t n = 0; n < oy; ++n) {
            const double c = ph[n];
            const float* s = src - n;
            for (uint32_t y = 0; y < by; ++y) ac[y] += c * static_cast<double>(s[y]);
          }
        }
      }
      // Terms from this row (l = m = 0, n ≥ 1), then the noise: sequential along y.
      const uint64_t t = b.t0 + i, x = b.x0 + j;
      for (uint32_t y = 0; y < by; ++y) {
        double v = ac[y];
        for (uint32_t n = 1; n < oy; ++n) v += phi[n] * static_cast<double>(row[static_cast<int64_t>(y) - n]);
        v += m.sigma * gaussian(m.seed, t, x, b.y0 + y);
        row[y] = static_cast<float>(v);
      }
    }
  }
}

Result<Model> make_model(const Config& c) {
  std::vector<double> g = acf_grid(c.acf, c.order);
  auto phi = yule_walker(g, c.order);
  if (!phi.ok()) return phi.status();
  auto var = white_noise_variance(g, *phi);
  if (!var.ok()) return var.status();
  return Model{c.order, std::move(*phi), std::sqrt(*var), c.seed};
}

Result<std::string> generate_sequential(const Config& c) {
  auto model = make_model(c);
  if (!model.ok()) return model.status();
  const Dims pd = c.padded();
  const Dims o = c.order;
  // Zero border of order−1 cells before each axis: ζ = 0 outside the padded domain.
  const uint64_t et = pd.t + o.t - 1, ex = pd.x + o.x - 1, ey = pd.y + o.y - 1;
  std::vector<float> z(et * ex * ey, 0.0f);
  BoxRef b;
  b.stride_x = static_cast<int64_t>(ey);
  b.stride_t = static_cast<int64_t>(ex * ey);
  b.origin = z.data() + (o.t - 1) * ex * ey + (o.x - 1) * ey + (o.y - 1);
  b.box = pd;
  filter_box(*model, b);
  std::string out(c.size.volume() * sizeof(float), '\0');
  char* w = out.data();
  for (uint32_t t = 0; t < c.size.t; ++t) {
    for (uint32_t x = 0; x < c.size.x; ++x) {
      const float* src = b.origin + (uint64_t{t} + c.padding.t) * ex * ey + (uint64_t{x} + c.padding.x) * ey + c.padding.y;
      std::memcpy(w, src, c.size.y * sizeof(float));
      w += c.size.y * sizeof(float);
    }
  }
  return out;
}

}  // namespace chiron::jobs::ar
