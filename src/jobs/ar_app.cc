// ar-waves: the AR ocean-wave job — main, the preprocessing kernels and the App (see ar.h,
// ar_kernels.h for the generator).
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "jobs/ar.h"
#include "jobs/ar_io.h"
#include "jobs/ar_kernels.h"
#include "jobs/jobs.h"

namespace chiron::jobs::ar {

namespace {

void write_phi(cluster::ByteWriter& out, const std::vector<double>& phi) {
  out.u64(phi.size());
  for (double v : phi) out.f64(v);
}
Status read_phi(cluster::ByteReader& in, std::vector<double>& phi, Dims order) {
  const uint64_t n = in.u64();
  if (!in.ok()) return in.status(false);
  if (n != 0 && n != order.volume()) return Status::invalid_argument("ar: coefficient count does not match the order");
  phi.resize(n);
  for (double& v : phi) v = in.f64();
  return in.status(false);
}

// The ACF parameters and the order grid, as both preprocessing kernels carry them.
void write_model(cluster::ByteWriter& out, const AcfParams& acf, const Dims& order) {
  out.f64(acf.alpha);
  out.f64(acf.beta);
  out.f64(acf.gamma);
  out.u32(order.t);
  out.u32(order.x);
  out.u32(order.y);
}

Status read_model(cluster::ByteReader& in, AcfParams& acf, Dims& order, const char* who) {
  acf = {in.f64(), in.f64(), in.f64()};
  order = {in.u32(), in.u32(), in.u32()};
  if (in.ok() && (order.t == 0 || order.x == 0 || order.y == 0 || order.t > kMaxOrderAxis || order.x > kMaxOrderAxis ||
                  order.y > kMaxOrderAxis || order.volume() < 2 || order.volume() > kMaxOrderVolume)) {
    return Status::invalid_argument(std::string(who) + ": order out of range");
  }
  return {};
}

// Solves the Yule–Walker system: φ from the ACF on the order grid.
class ArCoefficients final : public cluster::RemoteKernel {
 public:
  ArCoefficients() = default;
  ArCoefficients(AcfParams acf, Dims order) : acf_(acf), order_(order) {}
  std::string_view wire_type() const override { return "ar.coefficients"; }
  void write(cluster::ByteWriter& out) const override {
    write_model(out, acf_, order_);
    write_phi(out, phi_);
  }
  Status read(cluster::ByteReader& in) override {
    if (Status st = read_model(in, acf_, order_, "ar.coefficients"); !st.ok()) return st;
    return read_phi(in, phi_, order_);
  }
  void act() override {
    auto phi = yule_walker(acf_grid(acf_, order_), order_);
    if (!phi.ok()) return commit(phi.status());
    phi_ = std::move(*phi);
    commit();
  }
  std::vector<double>& phi() { return phi_; }

 private:
  AcfParams acf_;
  Dims order_;
  std::vector<double> phi_;  // result
};

// σ² of the white noise from the ACF and φ.
class ArVariance final : public cluster::RemoteKernel {
 public:
  ArVariance() = default;
  ArVariance(AcfParams acf, Dims order, std::vector<double> phi) : acf_(acf), order_(order), phi_(std::move(phi)) {}
  std::string_view wire_type() const override { return "ar.variance"; }
  void write(cluster::ByteWriter& out) const override {
    write_model(out, acf_, order_);
    write_phi(out, phi_);
    out.f64(variance_);
  }
  Status read(cluster::ByteReader& in) override {
    if (Status st = read_model(in, acf_, order_, "ar.variance"); !st.ok()) return st;
    if (Status st = read_phi(in, phi_, order_); !st.ok()) return st;
    variance_ = in.f64();
    return in.status(false);
  }
  void act() override {
    auto v = white_noise_variance(acf_grid(acf_, order_), phi_);
    if (!v.ok()) return commit(v.status());
    variance_ = *v;
    commit();
  }
  double variance() const { return variance_; }

 private:
  AcfParams acf_;
  Dims order_;
  std::vector<double> phi_;
  double variance_ = 0;  // result
};

// main → coefficients → variance → generator → (digest). Checkpoints after the variance,
// so a job resumed after a restart only re-runs the generator (which rewrites the file).
class ArMain final : public cluster::RemoteKernel {
 public:
  enum Step : uint32_t { kCoefficients = 0, kVariance = 1, kGenerate = 2, kDigest = 3, kDone = 4 };
  ArMain() = default;
  explicit ArMain(Config c) : config_(std::move(c)) {}
  std::string_view wire_type() const override { return "ar.main"; }
  void write(cluster::ByteWriter& out) const override {
    write_config(out, config_);
    out.u32(step_);
    write_phi(out, phi_);
    out.f64(variance_);
    out.u64(parts_);
    out.u64(bytes_);
    out.str(summary_);
  }
  Status read(cluster::ByteReader& in) override {
    if (Status st = read_config(in, config_); !st.ok()) return st;
    step_ = in.u32();
    if (Status st = read_phi(in, phi_, config_.order); !st.ok()) return st;
    variance_ = in.f64();
    parts_ = in.u64();
    bytes_ = in.u64();
    summary_ = in.str();
    if (!in.ok()) return in.status(false);
    if (step_ > kDone || (step_ >= kVariance && phi_.empty())) return Status::invalid_argument("ar.main: bad step");
    if (step_ >= kGenerate && (!std::isfinite(variance_) || variance_ <= 0)) {
      return Status::invalid_argument("ar.main: bad variance");
    }
    return Status{};
  }
  void act() override {
    if (step_ > kGenerate) step_ = kGenerate;  // resumed after the file was written: redo it
    next();
  }
  void react(std::unique_ptr<kernel::Kernel> child) override {
    if (!child->result().ok()) return commit(child->result());
    if (auto* c = dynamic_cast<ArCoefficients*>(child.get())) {
      phi_ = std::move(c->phi());
      step_ = kVariance;
    } else if (auto* v = dynamic_cast<ArVariance*>(child.get())) {
      variance_ = v->variance();
      step_ = kGenerate;
      checkpoint();
    } else if (auto* g = dynamic_cast<ArGenerator*>(child.get())) {
      parts_ = g->parts();
      bytes_ = g->bytes_written();
      step_ = kDigest;
    } else if (auto* d = dynamic_cast<ArDigest*>(child.get())) {
      sha256_ = d->hex();
      step_ = kDone;
    } else {
      return commit(Status::internal("ar.main: unexpected subordinate " + child->type_name()));
    }
    next();
  }
  const std::string& summary() const { return summary_; }

 private:
  void next() {
    switch (step_) {
      case kCoefficients:
        return cluster::upstream(*this, std::make_unique<ArCoefficients>(config_.acf, config_.order));
      case kVariance:
        return cluster::upstream(*this, std::make_unique<ArVariance>(config_.acf, config_.order, phi_));
      case kGenerate:
        return cluster::upstream(
            *this, std::make_unique<ArGenerator>(config_, Model{config_.order, phi_, std::sqrt(variance_), config_.seed}));
      case kDigest:
        if (config_.sha256) return upstream(std::make_unique<ArDigest>(config_.out));
        step_ = kDone;
        [[fallthrough]];
      default:
        break;
    }
    char line[256];
    std::snprintf(line, sizeof line, "size=%u,%u,%u seed=%" PRIu64 " sigma2=%.6g parts=%" PRIu64 " bytes=%" PRIu64,
                  config_.size.t, config_.size.x, config_.size.y, config_.seed, variance_, parts_, bytes_);
    summary_ = line;
    if (!sha256_.empty()) summary_ += " sha256=" + sha256_;
    set_summary(summary_);
    commit();
  }

  Config config_;
  uint32_t step_ = kCoefficients;
  std::vector<double> phi_;
  double variance_ = 0;
  uint64_t parts_ = 0;
  uint64_t bytes_ = 0;
  std::string sha256_;
  std::string summary_;
};

Result<std::unique_ptr<cluster::RemoteKernel>> make_app_main(const cluster::JobSpec& spec) {
  auto c = parse_args(spec.args);
  if (!c.ok()) return c.status();
  std::filesystem::path out(c->out);
  if (out.is_relative() && !spec.work_dir.empty()) c->out = (spec.work_dir / out).string();
  return std::unique_ptr<cluster::RemoteKernel>(std::make_unique<ArMain>(std::move(*c)));
}

}  // namespace

std::unique_ptr<cluster::RemoteKernel> make_main(const Config& c) { return std::make_unique<ArMain>(c); }

std::string summary_of(const kernel::Kernel& main) {
  auto* m = dynamic_cast<const ArMain*>(&main);
  return m == nullptr ? std::string() : m->summary();
}

}  // namespace chiron::jobs::ar

namespace chiron::jobs {

void register_ar_waves() {
  cluster::register_kernel_type<ar::ArMain>("ar.main");
  cluster::register_kernel_type<ar::ArCoefficients>("ar.coefficients");
  cluster::register_kernel_type<ar::ArVariance>("ar.variance");
  cluster::register_kernel_type<ar::ArGenerator>("ar.generator");
  cluster::register_kernel_type<ar::ArPart>("ar.part");
  cluster::register_app(cluster::App{"ar-waves", ar::usage(),
                                     "AR ocean-wave surface: Yule–Walker coefficients, then a padded 3-D AR filter in "
                                     "parts written to disk as they finish (the paper's HPC benchmark)",
                                     &ar::make_app_main});
}

}  // namespace chiron::jobs
