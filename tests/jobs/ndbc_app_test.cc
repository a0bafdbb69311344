#include "jobs/ndbc_app.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/cluster.h"
#include "jobs/jobs.h"
#include "jobs/ndbc.h"
#include "jobs/ndbc_synth.h"
#include "kernel/kernel.h"

namespace chiron::jobs::ndbc {
namespace {

namespace fs = std::filesystem;

class NdbcJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ndbc_job_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    SynthOptions o;
    o.stations = 3;
    o.years = 1;
    o.hours_step = 24;
    o.seed = 5;
    ASSERT_TRUE(write_synthetic_dataset(dir_ / "in", o).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Result<JobOutcome> run(unsigned threads, std::vector<std::string> args) {
    kernel::Runtime rt(kernel::RuntimeOptions{.cpu_threads = threads});
    EXPECT_TRUE(rt.start().ok());
    auto r = run_local(rt, args);
    rt.stop();
    return r;
  }

  fs::path dir_;
};

TEST_F(NdbcJobTest, SummaryAndOutputFileDoNotDependOnThreads) {
  std::string in = (dir_ / "in").string(), out1 = (dir_ / "o1.csv").string(), out2 = (dir_ / "o2.csv").string();
  auto a = run(1, {"--input", in, "--out", out1});
  auto b = run(2, {"--input", in, "--out", out2});
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(a->groups, 3u);
  EXPECT_GT(a->spectra, 3u * 300);  // 365 daily rows per group minus the synthetic gaps
  EXPECT_LE(a->spectra, 3u * 365);
  EXPECT_EQ(a->summary, b->summary);
  EXPECT_TRUE(a->summary.starts_with("spectra=" + std::to_string(a->spectra) + " groups=3 checksum="));
  std::ifstream f1(out1), f2(out2);
  std::stringstream s1, s2;
  s1 << f1.rdbuf();
  s2 << f2.rdbuf();
  EXPECT_EQ(s1.str(), s2.str());
  EXPECT_NE(s1.str().find("\n41001,2010,"), std::string::npos);
  EXPECT_LT(s1.str().find("\n41001,2010,"), s1.str().find("\n41003,2010,"));
}

TEST_F(NdbcJobTest, SkipsIncompleteGroupsAndReportsBadFiles) {
  fs::remove(dir_ / "in" / file_name("41002", Variable::kR1, 2010));
  {
    std::ofstream bad(dir_ / "in" / file_name("41003", Variable::kAlpha2, 2010), std::ios::trunc);
    bad << "not a spectral file\n";
  }
  std::ofstream(dir_ / "in" / "README.txt") << "ignored\n";
  std::string out = (dir_ / "o.csv").string();
  auto r = run(2, {"--input", (dir_ / "in").string(), "--out", out});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->groups, 1u);
  EXPECT_NE(r->summary.find(" errors=1 incomplete=1"), std::string::npos) << r->summary;
  std::ifstream f(out);
  std::stringstream s;
  s << f.rdbuf();
  EXPECT_NE(s.str().find("# error 41003,2010: 41003i2010.txt.gz:1: no '#YY"), std::string::npos) << s.str();
}

TEST_F(NdbcJobTest, BadArgumentsAndMissingInputFail) {
  kernel::Runtime rt(kernel::RuntimeOptions{.cpu_threads = 1});
  ASSERT_TRUE(rt.start().ok());
  EXPECT_FALSE(run_local(rt, {}).ok());
  EXPECT_FALSE(run_local(rt, {"--input"}).ok());
  EXPECT_FALSE(run_local(rt, {"--input", "x", "--bogus", "1"}).ok());
  EXPECT_FALSE(run_local(rt, {"--input", (dir_ / "nope").string()}).ok());
  rt.stop();
}

TEST(NdbcKernelTest, RegisteredTypesRefuseBadBytes) {
  register_ndbc_spectra();
  ASSERT_NE(cluster::find_app("ndbc-spectra"), nullptr);
  for (const char* type : {"ndbc.group", "ndbc.main"}) {
    auto k = cluster::make_kernel(type);
    ASSERT_NE(k, nullptr) << type;
    for (std::string bytes : {std::string(), std::string(3, '\xff'), std::string(200, '\x7f')}) {
      auto r = cluster::from_blob(cluster::KernelBlob{type, bytes});
      EXPECT_FALSE(r.ok()) << type;
    }
  }
  cluster::JobSpec spec;
  spec.args = {"--input", "/data/ndbc", "--out", "/tmp/x.csv", "--directions", "72"};
  auto main = cluster::find_app("ndbc-spectra")->make_main(spec);
  ASSERT_TRUE(main.ok()) << main.status().to_string();
  auto blob = cluster::to_blob(**main);
  auto back = cluster::from_blob(blob);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(cluster::to_blob(**back).body, blob.body);
}

TEST(NdbcSynthTest, DeterministicAndParsable) {
  SynthOptions o;
  o.hours_step = 6;
  o.seed = 9;
  auto a = synthetic_texts(o, 0, 2012);
  auto b = synthetic_texts(o, 0, 2012);
  ASSERT_EQ(a, b);
  EXPECT_NE(a, synthetic_texts(o, 1, 2012));
  EXPECT_TRUE(a[0].starts_with("#YY  MM DD hh mm .0200 .0325 .0375"));
  EXPECT_EQ(standard_frequencies().size(), 47u);
  auto f = parse_text(a[0], "w");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->freqs.size(), 47u);
  EXPECT_NEAR(f->freqs.back(), 0.485, 1e-12);
  EXPECT_GT(f->rows(), 366u * 4 - 20);
}

}  // namespace
}  // namespace chiron::jobs::ndbc
