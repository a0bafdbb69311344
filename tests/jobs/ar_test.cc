#include "jobs/ar.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "cluster/cluster.h"
#include "common/sha256.h"
#include "jobs/ar_kernels.h"
#include "jobs/jobs.h"
#include "kernel/kernel.h"

namespace chiron::jobs::ar {
namespace {

namespace fs = std::filesystem;

class ArTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { register_ar_waves(); }
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("chiron_ar_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs an ar.main on a plain runtime (no node); returns {exit code, summary}.
  static std::pair<int, std::string> run_main(const Config& c, unsigned cpu = 2) {
    kernel::RuntimeOptions o;
    o.cpu_threads = cpu;
    o.disk_threads = 1;
    o.net_threads = 1;
    kernel::Runtime rt(o);
    EXPECT_TRUE(rt.start().ok());
    std::promise<std::pair<int, std::string>> done;
    rt.submit(make_main(c), [&](std::unique_ptr<kernel::Kernel> k) {
      done.set_value({k->exit_code() != 0 ? k->exit_code() : (k->result().ok() ? 0 : 1), summary_of(*k)});
    });
    auto r = done.get_future().get();
    rt.stop();
    return r;
  }

  // Runs one kernel as a root on a plain runtime and hands it back finished.
  static std::unique_ptr<kernel::Kernel> run_root(std::unique_ptr<kernel::Kernel> k) {
    kernel::RuntimeOptions o;
    o.cpu_threads = 1;
    o.disk_threads = 1;
    kernel::Runtime rt(o);
    EXPECT_TRUE(rt.start().ok());
    std::promise<std::unique_ptr<kernel::Kernel>> done;
    rt.submit(std::move(k), [&](std::unique_ptr<kernel::Kernel> f) { done.set_value(std::move(f)); });
    auto r = done.get_future().get();
    rt.stop();
    return r;
  }

  Config small(Dims size, Dims part, Dims order = {7, 7, 7}) {
    Config c;
    c.size = size;
    c.order = order;
    c.padding = order;
    c.part = part;
    c.seed = 42;
    c.out = (dir_ / "zeta").string();
    c.sha256 = false;
    c.fsync = false;
    EXPECT_TRUE(validate(c).ok()) << validate(c).message();
    return c;
  }

  fs::path dir_;
};

TEST_F(ArTest, CholeskySolvesASymmetricPositiveDefiniteSystem) {
  // A = [[4,2,0.4],[2,5,1],[0.4,1,3]], x = (1, −2, 0.5)
  std::vector<double> a{4, 2, 0.4, 2, 5, 1, 0.4, 1, 3};
  const std::vector<double> x{1, -2, 0.5};
  std::vector<double> b(3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) b[i] += a[i * 3 + j] * x[j];
  ASSERT_TRUE(cholesky_solve(a, b, 3).ok());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(b[i], x[i], 1e-12);
}

TEST_F(ArTest, CholeskyRefusesAnIndefiniteMatrix) {
  std::vector<double> a{1, 2, 2, 1};
  std::vector<double> b{1, 1};
  Status st = cholesky_solve(a, b, 2);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  std::vector<double> wrong(3);
  EXPECT_FALSE(cholesky_solve(wrong, b, 2).ok());
}

TEST_F(ArTest, YuleWalkerRecoversAnAr1) {
  // β = 0, one axis: γ(t) = γ·ρ^|t| with ρ = e^−α, the ACF of ζ_t = ρ·ζ_{t−1} + ε, σ² = γ(1−ρ²).
  const AcfParams p{0.3, 0.0, 2.0};
  const double rho = std::exp(-0.3);
  auto phi = yule_walker(acf_grid(p, {3, 1, 1}), {3, 1, 1});
  ASSERT_TRUE(phi.ok()) << phi.status().message();
  EXPECT_NEAR((*phi)[1], rho, 1e-9);
  EXPECT_NEAR((*phi)[2], 0.0, 1e-9);
  auto var = white_noise_variance(acf_grid(p, {3, 1, 1}), *phi);
  ASSERT_TRUE(var.ok());
  EXPECT_NEAR(*var, 2.0 * (1 - rho * rho), 1e-9);
}

TEST_F(ArTest, YuleWalkerRecoversASeparable3dAr1) {
  // ρ^(|t|+|x|+|y|) is the product of three AR(1)s: φ(l,m,n) = −(−ρ)^(l+m+n), σ² = (1−ρ²)³.
  const AcfParams p{0.5, 0.0, 1.0};
  const double r = std::exp(-0.5);
  const Dims o{2, 2, 2};
  auto phi = yule_walker(acf_grid(p, o), o);
  ASSERT_TRUE(phi.ok());
  for (uint32_t i = 1; i < 8; ++i) {
    const int k = static_cast<int>((i >> 2) + ((i >> 1) & 1) + (i & 1));
    EXPECT_NEAR((*phi)[i], -std::pow(-r, k), 1e-9) << "index " << i;
  }
  auto var = white_noise_variance(acf_grid(p, o), *phi);
  ASSERT_TRUE(var.ok());
  EXPECT_NEAR(*var, std::pow(1 - r * r, 3), 1e-9);
}

TEST_F(ArTest, DefaultAcfGivesAPositiveVarianceAtOrder7) {
  Config c = small({4, 4, 4}, {8, 8, 8});
  auto m = make_model(c);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_GT(m->sigma, 0.0);
  EXPECT_LT(m->sigma * m->sigma, c.acf.gamma);
}

TEST_F(ArTest, NoiseIsACounterBasedStandardNormal) {
  EXPECT_EQ(gaussian(7, 1, 2, 3), gaussian(7, 1, 2, 3));
  EXPECT_NE(gaussian(7, 1, 2, 3), gaussian(8, 1, 2, 3));
  EXPECT_NE(gaussian(7, 1, 2, 3), gaussian(7, 1, 3, 2));
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double g = gaussian(1, static_cast<uint64_t>(i) / 400, (i / 20) % 20, i % 20);
    s += g;
    s2 += g * g;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
}

TEST_F(ArTest, GeneratedAr1HasItsAutocorrelation) {
  Config c = small({40000, 1, 1}, {4096, 1, 1}, {2, 1, 1});
  c.acf = {0.5, 0.0, 1.0};
  c.padding = {200, 0, 0};
  auto bytes = generate_sequential(c);
  ASSERT_TRUE(bytes.ok());
  std::vector<float> z(c.size.volume());
  std::memcpy(z.data(), bytes->data(), bytes->size());
  double v = 0, c1 = 0;
  for (size_t i = 0; i < z.size(); ++i) v += double{z[i]} * z[i];
  for (size_t i = 1; i < z.size(); ++i) c1 += double{z[i]} * z[i - 1];
  v /= static_cast<double>(z.size());
  c1 /= static_cast<double>(z.size() - 1);
  EXPECT_NEAR(v, 1.0, 0.08);
  EXPECT_NEAR(c1 / v, std::exp(-0.5), 0.03);
}

TEST_F(ArTest, ChironOutputEqualsTheSequentialReferenceForEveryPartSize) {
  const Dims size{30, 17, 13};
  auto ref = generate_sequential(small(size, {8, 8, 8}));
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  ASSERT_EQ(ref->size(), size.volume() * 4);
  for (Dims part : {Dims{6, 6, 6}, Dims{8, 8, 8}, Dims{13, 24, 20}, Dims{100, 100, 100}, Dims{7, 9, 6}}) {
    Config c = small(size, part);
    auto [code, summary] = run_main(c);
    ASSERT_EQ(code, 0) << summary;
    EXPECT_TRUE(read_file(c.out) == *ref) << "part " << part.t << "," << part.x << "," << part.y;
  }
}

TEST_F(ArTest, OneCpuThreadAndFsyncAndDigestGiveTheSameBytes) {
  const Dims size{20, 9, 11};
  Config c = small(size, {6, 6, 6}, {3, 4, 2});
  c.padding = {5, 1, 0};
  c.sha256 = true;
  c.fsync = true;
  auto ref = generate_sequential(c);
  ASSERT_TRUE(ref.ok());
  auto [code, summary] = run_main(c, 1);
  ASSERT_EQ(code, 0) << summary;
  EXPECT_TRUE(read_file(c.out) == *ref);
  EXPECT_NE(summary.find("sha256=" + sha256_hex(*ref)), std::string::npos) << summary;
  EXPECT_NE(summary.find("bytes=" + std::to_string(ref->size())), std::string::npos) << summary;
}

TEST_F(ArTest, APartSurvivesTheWireBothWays) {
  Config c = small({10, 10, 10}, {8, 8, 8}, {3, 3, 3});
  auto m = make_model(c);
  ASSERT_TRUE(m.ok());
  const Dims box{5, 4, 6};
  const Dims ext = ArPart::ext_dims(box, c.order);
  std::vector<float> halo(ext.volume(), 0.0f);
  for (size_t i = 0; i < halo.size(); ++i) halo[i] = static_cast<float>(i % 7) * 0.25f;
  // Interior cells are not sent: zero them in the local copy too.
  for (uint32_t t = 2; t < ext.t; ++t)
    for (uint32_t x = 2; x < ext.x; ++x)
      for (uint32_t y = 2; y < ext.y; ++y) halo[(t * ext.x + x) * ext.y + y] = 0;
  auto local = run_root(std::make_unique<ArPart>(*m, 3, 10, 20, 30, box, halo));
  auto sent = cluster::from_blob(cluster::to_blob(ArPart(*m, 3, 10, 20, 30, box, halo)));
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  auto ran = run_root(std::move(*sent));
  ASSERT_TRUE(ran->result().ok());
  auto back = cluster::from_blob(cluster::to_blob(static_cast<const ArPart&>(*ran)));
  ASSERT_TRUE(back.ok()) << back.status().message();
  auto* p = dynamic_cast<ArPart*>(back->get());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->index(), 3u);
  EXPECT_EQ(p->values().size(), box.volume());
  EXPECT_EQ(p->values(), static_cast<ArPart&>(*local).values());
  // Cut anywhere, the bytes are refused with a status, never a crash.
  cluster::KernelBlob blob = cluster::to_blob(*p);
  for (size_t cut : {size_t{0}, size_t{5}, blob.body.size() / 2, blob.body.size() - 1}) {
    cluster::KernelBlob bad = blob;
    bad.body.resize(cut);
    EXPECT_FALSE(cluster::from_blob(bad).ok());
  }
}

TEST_F(ArTest, MainAndGeneratorSurviveTheWireAndRefuseBadBytes) {
  Config c = small({30, 17, 13}, {8, 8, 8}, {3, 3, 3});
  c.sha256 = true;
  for (const char* type : {"ar.main", "ar.generator", "ar.coefficients", "ar.variance"}) {
    std::unique_ptr<cluster::RemoteKernel> k;
    if (std::string(type) == "ar.main") {
      k = make_main(c);
    } else if (std::string(type) == "ar.generator") {
      auto m = make_model(c);
      ASSERT_TRUE(m.ok());
      k = std::make_unique<ArGenerator>(c, *m);
    } else {
      // Built from the wire like a received kernel: acf + order + (no) coefficients.
      cluster::ByteWriter w;
      w.f64(0.42);
      w.f64(0.95);
      w.f64(1.0);
      w.u32(3);
      w.u32(3);
      w.u32(3);
      w.u64(0);
      if (std::string(type) == "ar.variance") w.f64(0);
      auto made = cluster::from_blob(cluster::KernelBlob{type, w.take()});
      ASSERT_TRUE(made.ok()) << type << ": " << made.status().message();
      k = std::move(*made);
    }
    const cluster::KernelBlob blob = cluster::to_blob(*k);
    auto back = cluster::from_blob(blob);
    ASSERT_TRUE(back.ok()) << type << ": " << back.status().message();
    EXPECT_EQ(cluster::to_blob(**back).body, blob.body) << type;
    for (size_t cut : {size_t{0}, size_t{7}, blob.body.size() / 2, blob.body.size() - 1}) {
      cluster::KernelBlob bad = blob;
      bad.body.resize(cut);
      EXPECT_FALSE(cluster::from_blob(bad).ok()) << type << " cut at " << cut;
    }
  }
  // A config that validate() refuses is refused on the wire too (order 17 on one axis).
  cluster::KernelBlob blob = cluster::to_blob(*make_main(c));
  blob.body[12] = 17;  // order.t (size takes bytes 0..11)
  EXPECT_FALSE(cluster::from_blob(blob).ok());
}

TEST_F(ArTest, HostileArgumentsGiveClearErrors) {
  auto err = [](std::vector<std::string> a) {
    auto c = parse_args(a);
    EXPECT_FALSE(c.ok());
    return c.ok() ? std::string() : c.status().message();
  };
  EXPECT_NE(err({"--out", "f"}).find("--size"), std::string::npos);
  EXPECT_NE(err({"--size", "1,2", "--out", "f"}).find("T,X,Y"), std::string::npos);
  EXPECT_NE(err({"--size", "0,4,4", "--out", "f"}).find("≥ 1"), std::string::npos);
  EXPECT_NE(err({"--size", "99999999999,4,4", "--out", "f"}).find("too large"), std::string::npos);
  EXPECT_NE(err({"--size", "1073741824,1073741824,4", "--out", "f"}).find("2^38"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--order", "17,1,1"}).find("--order"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--order", "1,1,1"}).find("--order"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--part", "2,8,8"}).find("order − 1"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--alpha", "nan"}).find("finite"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--alpha", "-1"}).find("--alpha"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--seed", "x"}).find("--seed"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out", "f", "--bogus", "1"}).find("unknown option"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8", "--out"}).find("needs a value"), std::string::npos);
  EXPECT_NE(err({"--size", "8,8,8"}).find("--out"), std::string::npos);
  auto ok = parse_args({"--size", "8,8,8", "--out", "f", "--order", "3,3,3", "--part", "100,4,4", "--seed", "9"});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->padding, (Dims{3, 3, 3}));
  EXPECT_EQ(ok->part, (Dims{11, 4, 4}));  // clamped to the padded domain
}

TEST_F(ArTest, TheAppIsRegisteredAndRefusesBadArgs) {
  const cluster::App* app = cluster::find_app("ar-waves");
  ASSERT_NE(app, nullptr);
  cluster::JobSpec spec;
  spec.args = {"--size", "4,4"};
  auto bad = app->make_main(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  spec.args = {"--size", "4,4,4", "--out", "z"};
  spec.work_dir = "/tmp/x";
  EXPECT_TRUE(app->make_main(spec).ok());
}

TEST_F(ArTest, AnIllConditionedAcfFailsTheJobWithAMessage) {
  Config c = small({8, 8, 8}, {8, 8, 8}, {8, 8, 8});
  c.acf = {1e-12, 0.0, 1.0};  // no decay: the Yule–Walker matrix is numerically singular
  auto m = make_model(c);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().message().find("positive definite") != std::string::npos ||
              m.status().message().find("variance") != std::string::npos)
      << m.status().message();
  auto [code, summary] = run_main(c);
  EXPECT_NE(code, 0);
  EXPECT_FALSE(fs::exists(c.out));
}

}  // namespace
}  // namespace chiron::jobs::ar
