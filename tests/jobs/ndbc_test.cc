#include "jobs/ndbc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

namespace chiron::jobs::ndbc {
namespace {

constexpr double kPi = std::numbers::pi;

std::string header(int bands = 3) {
  std::string h = "#YY  MM DD hh mm";
  const char* f[] = {" .0200", " .0325", " .0375", " .0425"};
  for (int i = 0; i < bands; ++i) h += f[i];
  return h + "\n";
}

TEST(NdbcFileNameTest, ParsesStationVariableYear) {
  auto k = parse_file_name("41001w2015.txt.gz");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->station, "41001");
  EXPECT_EQ(k->year, 2015);
  EXPECT_EQ(k->variable, Variable::kDensity);
  auto k2 = parse_file_name("lonf1k2009.txt");
  ASSERT_TRUE(k2.has_value());
  EXPECT_EQ(k2->station, "lonf1");
  EXPECT_EQ(k2->variable, Variable::kR2);
  EXPECT_EQ(file_name("41001", Variable::kAlpha2, 2015), "41001i2015.txt.gz");
}

TEST(NdbcFileNameTest, RejectsOtherNames) {
  for (const char* n : {"41001h2015.txt.gz", "41001w15.txt.gz", "w2015.txt.gz", "41001w2015.gz", "../x/1w2015.txt.gz",
                        "41001W2015.txt.gz", "41001w20a5.txt.gz", ""}) {
    EXPECT_FALSE(parse_file_name(n).has_value()) << n;
  }
}

TEST(NdbcParseTest, ReadsHeaderRowsAndMissingValues) {
  std::string text = header() + "#yr  mo dy hr mn m2/Hz\n2015 01 01 00 50 0.00 1.25 999.00\n\n2015 01 01 01 50 999 2 3\n";
  auto f = parse_text(text, "41001w2015.txt");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ASSERT_EQ(f->freqs.size(), 3u);
  EXPECT_DOUBLE_EQ(f->freqs[0], 0.02);
  EXPECT_DOUBLE_EQ(f->freqs[2], 0.0375);
  ASSERT_EQ(f->rows(), 2u);
  EXPECT_EQ(f->times[0], 201501010050u);
  EXPECT_EQ(f->times[1], 201501010150u);
  EXPECT_DOUBLE_EQ(f->row(0)[1], 1.25);
  EXPECT_TRUE(std::isnan(f->row(0)[2]));
  EXPECT_TRUE(std::isnan(f->row(1)[0]));
  EXPECT_DOUBLE_EQ(f->row(1)[2], 3.0);
}

TEST(NdbcParseTest, KeepsRowsWithOtherBandCountsForTheJoinToDrop) {
  auto f = parse_text(header() + "2015 01 01 00 50 1 2\r\n", "x");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->row(0).size(), 2u);
}

TEST(NdbcParseTest, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    std::string want;
  } cases[] = {
      {"", "x:1: empty file"},
      {"YYYY MM DD hh .0200 .0325\n", "x:1: no '#YY  MM DD hh mm' header (pre-2007 format is not supported)"},
      {"#YY  MM DD hh .0200\n", "x:1: expected '#YY  MM DD hh mm' header"},
      {"#YY  MM DD hh mm .0200\n", "x:1: header needs at least two frequencies"},
      {"#YY  MM DD hh mm .0325 .0200\n", "x:1: frequencies not increasing"},
      {"#YY  MM DD hh mm .02 nan\n", "x:1: bad frequency 'nan'"},
      {header() + "2015 01 01 00 50 1 2 abc\n", "x:2: bad value 'abc'"},
      {header() + "2015 01 01 00 50 1 2 inf\n", "x:2: bad value 'inf'"},
      {header() + "2015 02 29 00 50 1 2 3\n", "x:2: date/time out of range"},
      {header() + "2015 01 01 24 00 1 2 3\n", "x:2: date/time out of range"},
      {header() + "2015 01 01 00\n", "x:2: row needs 'YYYY MM DD hh mm' and values"},
      {header() + "2015 01 x1 00 50 1 2 3\n", "x:2: bad date/time field 'x1'"},
  };
  for (const Case& c : cases) {
    auto f = parse_text(c.text, "x");
    ASSERT_FALSE(f.ok()) << c.text;
    EXPECT_EQ(f.status().message(), c.want) << c.text;
  }
}

TEST(NdbcParseTest, EnforcesLimits) {
  Limits lim;
  lim.max_rows = 2;
  lim.max_bands = 3;
  std::string rows = header() + "2015 01 01 00 50 1 2 3\n2015 01 01 01 50 1 2 3\n2015 01 01 02 50 1 2 3\n";
  auto f = parse_text(rows, "x", lim);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "x:4: more than 2 rows");
  auto g = parse_text(header() + "2015 01 01 00 50 1 2 3 4\n", "x", lim);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(), "x:2: more than 3 bands");
}

TEST(NdbcGzipTest, RoundTripsAndConcatenatesMembers) {
  std::string a = header() + "2015 01 01 00 50 1 2 3\n";
  std::string b = "2015 01 01 01 50 4 5 6\n";
  auto one = gunzip(gzip(a), "x.gz", 1 << 20);
  ASSERT_TRUE(one.ok()) << one.status().to_string();
  EXPECT_EQ(*one, a);
  auto two = gunzip(gzip(a) + gzip(b), "x.gz", 1 << 20);
  ASSERT_TRUE(two.ok()) << two.status().to_string();
  EXPECT_EQ(*two, a + b);
}

TEST(NdbcGzipTest, RefusesBombsTruncationAndGarbage) {
  std::string zeros(8 << 20, '0');
  std::string bomb = gzip(zeros, 9);
  ASSERT_LT(bomb.size(), 64u << 10);
  auto r = gunzip(bomb, "bomb.gz", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  std::string gz = gzip(std::string(1000, 'x'));
  EXPECT_FALSE(gunzip(gz.substr(0, gz.size() - 6), "t.gz", 1 << 20).ok());
  EXPECT_FALSE(gunzip(gz + "junk", "t.gz", 1 << 20).ok());
  EXPECT_FALSE(gunzip("\x1f\x8bnot gzip at all", "t.gz", 1 << 20).ok());
  EXPECT_FALSE(gunzip("", "t.gz", 1 << 20).ok());
}

TEST(NdbcSpectrumTest, BandWidthsFollowTheNonUniformFrequencies) {
  std::vector<double> f = {0.02, 0.0325, 0.0375, 0.1, 0.11};
  auto w = band_widths(f);
  ASSERT_EQ(w.size(), 5u);
  EXPECT_NEAR(w[0], 0.0125, 1e-12);          // symmetric end cell
  EXPECT_NEAR(w[1], (0.0375 - 0.02) / 2, 1e-12);
  EXPECT_NEAR(w[3], (0.11 - 0.0375) / 2, 1e-12);
  EXPECT_NEAR(w[4], 0.01, 1e-12);
  double total = 0;
  for (double x : w) total += x;
  EXPECT_NEAR(total, (0.11 + 0.005) - (0.02 - 0.00625), 1e-12);
}

TEST(NdbcSpectrumTest, DensityIntegratesOverDirectionToE) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> deg(0, 360), r(0, 100), e(0, 5);
  for (int k = 0; k < 50; ++k) {
    double E = e(rng), a1 = deg(rng), a2 = deg(rng), r1 = r(rng), r2 = r(rng);
    // A fine midpoint rule with the density itself (independent of the grid code).
    const int n = 3600;
    double sum = 0;
    for (int j = 0; j < n; ++j) sum += directional_density(E, a1, a2, r1, r2, 2 * kPi * (j + 0.5) / n) * 2 * kPi / n;
    EXPECT_NEAR(sum, E, 1e-9 * (1 + E));
  }
}

TEST(NdbcSpectrumTest, ClosedFormCases) {
  // r1 = r2 = 0: isotropic, S = E/(2π).
  EXPECT_NEAR(directional_density(2.0, 123, 45, 0, 0, 1.0), 2.0 / (2 * kPi), 1e-15);
  // r1 = 1 (100 in the file), r2 = 0: S = E(½ + cos(θ−α1))/π, maximal toward α1 (90° = east).
  EXPECT_NEAR(directional_density(1.0, 90, 0, 100, 0, kPi / 2), 1.5 / kPi, 1e-15);
  EXPECT_NEAR(directional_density(1.0, 90, 0, 100, 0, 3 * kPi / 2), -0.5 / kPi, 1e-15);
  // Degrees, not radians: α1 = 180 puts the lobe south (θ = π), not at 180 rad.
  EXPECT_GT(directional_density(1.0, 180, 180, 50, 0, kPi), directional_density(1.0, 180, 180, 50, 0, 0));
  // r2 term: cos(2(θ−α2)) has lobes at α2 and α2+180°.
  EXPECT_NEAR(directional_density(1.0, 0, 30, 0, 100, kPi / 6), 1.5 / kPi, 1e-15);
  EXPECT_NEAR(directional_density(1.0, 0, 30, 0, 100, kPi / 6 + kPi), 1.5 / kPi, 1e-14);
}

TEST(NdbcSpectrumTest, IntegralsMatchClosedForms) {
  std::vector<double> f = {0.02, 0.0325, 0.0375, 0.0425, 0.1, 0.2, 0.485};
  auto w = band_widths(f);
  std::vector<double> e = {0.1, 0.5, 2.0, 3.5, 1.0, 0.2, 0.01}, a1 = {10, 20, 200, 359, 90, 180, 270},
                      a2 = {0, 45, 190, 5, 100, 170, 260}, r1 = {80, 70, 90, 30, 0, 100, 55}, r2 = {40, 10, 60, 20, 0, 100, 25};
  for (int n : {4, 8, 36, 360}) {
    Directions d(n);
    SpectrumResult s = integrate_spectrum({e, a1, a2, r1, r2}, w, d);
    double m0 = 0, mc = 0, ms = 0;
    for (size_t i = 0; i < f.size(); ++i) {
      m0 += e[i] * w[i];
      mc += e[i] * w[i] * r1[i] / 100 * std::cos(a1[i] * kPi / 180);
      ms += e[i] * w[i] * r1[i] / 100 * std::sin(a1[i] * kPi / 180);
    }
    EXPECT_NEAR(s.m0, m0, 1e-12) << n;
    EXPECT_EQ(s.bands_used, 7u);
    EXPECT_EQ(s.bands_missing, 0u);
    {
      EXPECT_NEAR(s.m_cos, mc, 1e-12) << n;
      EXPECT_NEAR(s.m_sin, ms, 1e-12) << n;
    }
  }
}

TEST(NdbcSpectrumTest, MissingOrInvalidBandsContributeNothing) {
  std::vector<double> f = {0.05, 0.1, 0.15};
  auto w = band_widths(f);
  const double nan = std::nan("");
  std::vector<double> e = {1, nan, 2}, a1 = {0, 0, 400}, a2 = {0, 0, 0}, r1 = {50, 50, 50}, r2 = {50, 50, 50};
  SpectrumResult s = integrate_spectrum({e, a1, a2, r1, r2}, w, Directions(36));
  EXPECT_EQ(s.bands_used, 1u);
  EXPECT_EQ(s.bands_missing, 2u);
  EXPECT_NEAR(s.m0, 1 * w[0], 1e-14);
}

SpectralFile file_of(std::string_view text) {
  auto f = parse_text(text, "t");
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? std::move(*f) : SpectralFile{};
}

TEST(NdbcJoinTest, JoinsOnTimestampAndCountsDrops) {
  const std::string h = header(2);
  // 00:50 complete; 01:50 missing from r2; 02:50 band mismatch in d; 03:50 duplicate in w; 04:50 complete.
  std::array<SpectralFile, kVariables> files = {
      file_of(h + "2015 01 01 04 50 1 1\n2015 01 01 00 50 1 2\n2015 01 01 01 50 1 1\n2015 01 01 02 50 1 1\n"
                  "2015 01 01 03 50 1 1\n2015 01 01 03 50 1 1\n"),
      file_of(h + "2015 01 01 00 50 0 90\n2015 01 01 01 50 0 0\n2015 01 01 02 50 0\n2015 01 01 03 50 0 0\n2015 01 01 04 50 0 0\n"),
      file_of(h + "2015 01 01 00 50 0 90\n2015 01 01 01 50 0 0\n2015 01 01 02 50 0 0\n2015 01 01 03 50 0 0\n2015 01 01 04 50 0 0\n"),
      file_of(h + "2015 01 01 00 50 50 50\n2015 01 01 01 50 0 0\n2015 01 01 02 50 0 0\n2015 01 01 03 50 0 0\n2015 01 01 04 50 0 0\n"),
      file_of(h + "2015 01 01 00 50 10 10\n2015 01 01 02 50 0 0\n2015 01 01 03 50 0 0\n2015 01 01 04 50 0 0\n"),
  };
  GroupResult g = process_group("41001", 2015, files, Directions(36));
  EXPECT_EQ(g.spectra, 2u);
  EXPECT_EQ(g.dropped_missing_variable, 1u);
  EXPECT_EQ(g.dropped_band_mismatch, 1u);
  EXPECT_EQ(g.dropped_duplicate, 1u);
  auto w = band_widths(files[0].freqs);
  double m0_first = 1 * w[0] + 2 * w[1], m0_last = w[0] + w[1];
  EXPECT_NEAR(g.sum_m0, m0_first + m0_last, 1e-14);
  EXPECT_NEAR(g.sum_hm0, 4 * std::sqrt(m0_first) + 4 * std::sqrt(m0_last), 1e-12);
  // m_cos of the first spectrum: band 0 α1=0 r1=.5 → ½·E·Δf, band 1 α1=90° → 0.
  EXPECT_NEAR(g.sum_m_cos, 0.5 * w[0] + 0 + (0 /* r1 = 0 in the last */), 1e-14);
}

TEST(NdbcChecksumTest, IndependentOfGroupOrderAndSensitiveToValues) {
  std::vector<GroupResult> a(3);
  a[0].station = "41001", a[0].year = 2010, a[0].sum_m0 = 1.5, a[0].spectra = 3;
  a[1].station = "41001", a[1].year = 2011, a[1].sum_m0 = 2.5;
  a[2].station = "41002", a[2].year = 2010, a[2].sum_m_sin = -1;
  std::vector<GroupResult> b = {a[2], a[0], a[1]};
  EXPECT_EQ(checksum(a), checksum(b));
  b[1].sum_m0 = std::nextafter(b[1].sum_m0, 10.0);
  EXPECT_NE(checksum(a), checksum(b));
  EXPECT_EQ(format_group(a[0]), "41001,2010,3,0,0,0,0,1.5,0,0,0");
}

}  // namespace
}  // namespace chiron::jobs::ndbc
