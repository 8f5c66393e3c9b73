// Rank tests against scipy 1.10.1 (Debian 12, /usr/bin/python3):
// scipy.stats.wilcoxon(a, b) and scipy.stats.mannwhitneyu(a, b), defaults
// (two-sided, method "auto"); where scipy's "auto" keeps the exact method
// despite tied ranks we compare with method="approx", as documented in
// stats.hpp. The data sets below are the ones passed to scipy.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

void expect_test(const util::Result<TestResult>& r, double statistic, double pvalue, bool exact) {
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_DOUBLE_EQ(r->statistic, statistic);
  EXPECT_NEAR(r->pvalue, pvalue, 1e-12 + 1e-9 * pvalue);
  EXPECT_EQ(r->exact, exact);
}

TEST(Wilcoxon, ExactSmallSample) {
  std::vector<double> a{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
  std::vector<double> b{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
  auto r = wilcoxon_signed_rank(a, b);
  expect_test(r, 5.0, 0.0390625, true);  // scipy: WilcoxonResult(statistic=5.0, pvalue=0.0390625)
  EXPECT_EQ(r->n, 9u);
  EXPECT_EQ(r->brief(), "Wilcoxon signed-rank: statistic 5, p = 0.03906 (exact, n=9)");
  // Swapping the samples mirrors the statistic: same p.
  expect_test(wilcoxon_signed_rank(b, a), 5.0, 0.0390625, true);
}

TEST(Wilcoxon, ExactTwentyPairs) {
  std::vector<double> a(20);
  std::iota(a.begin(), a.end(), 1.0);
  std::vector<double> b{1.05,   1.919,  3.112,  4.143,  5.174,  5.795,  7.236,  8.267,  9.298,  9.671,
                        11.36,  12.391, 13.422, 13.547, 15.484, 16.515, 17.546, 17.423, 19.608, 20.639};
  expect_test(wilcoxon_signed_rank(a, b), 50.0, 0.039989471435546875, true);
}

TEST(Wilcoxon, TiedRanksUseTieCorrectedNormal) {
  std::vector<double> a{10.2, 11.1, 9.8, 10.5, 10.9, 11.4, 10.0, 10.7, 11.0, 10.3, 10.8, 11.2, 9.9, 10.6};
  std::vector<double> b{10.9, 11.0, 10.4, 11.3, 11.5, 11.6, 10.1, 11.9, 11.7, 10.2, 11.8, 12.1, 10.5, 11.45};
  // scipy.stats.wilcoxon(a, b, method="approx")
  auto r = wilcoxon_signed_rank(a, b);
  expect_test(r, 4.5, 0.0025529913234938898, false);
  EXPECT_LT(r->z, 0);
}

TEST(Wilcoxon, ZerosDroppedAndTiesCorrected) {
  std::vector<double> a{5, 7, 6, 9, 4, 8, 6, 7, 5, 9, 6, 8, 7, 5, 6};
  std::vector<double> b{6, 7, 8, 9, 6, 10, 5, 9, 7, 9, 8, 10, 8, 7, 8};
  auto r = wilcoxon_signed_rank(a, b);
  expect_test(r, 2.0, 0.002275429072099651, false);
  EXPECT_EQ(r->n, 12u);  // three zero differences dropped
}

TEST(Wilcoxon, LargeSampleNormalApproximation) {
  // a4/b4 from numpy default_rng(5), rounded to 3 decimals (n = 60 > 50).
  std::vector<double> a{95.99,   93.378,  98.758, 102.102, 105.68,  100.549, 97.237,  96.076,  103.744, 108.174,
                        101.364, 93.833,  95.209, 108.0,   101.014, 91.339,  99.582,  94.184,  96.854,  97.56,
                        96.433,  102.767, 99.685, 97.053,  102.048, 104.149, 91.785,  98.716,  95.096,  99.134,
                        93.553,  100.103, 99.811, 98.478,  94.76,   98.019,  94.543,  93.224,  101.124, 94.453,
                        105.851, 103.583, 90.011, 101.361, 94.491,  100.165, 100.218, 90.058,  98.833,  98.721,
                        104.81,  94.093,  103.69, 94.505,  98.344,  95.798,  107.244, 102.841, 112.159, 103.21};
  std::vector<double> b{98.64,   95.993,  98.532,  102.983, 109.438, 100.761, 98.587,  96.994,  106.0,   108.526,
                        102.073, 95.256,  96.367,  107.35,  103.816, 89.655,  98.176,  92.561,  99.756,  97.814,
                        95.455,  101.523, 101.524, 95.914,  100.524, 106.418, 90.309,  99.058,  96.033,  99.235,
                        94.38,   103.782, 99.775,  96.944,  92.034,  98.59,   94.784,  94.686,  101.207, 94.44,
                        105.467, 103.579, 91.232,  101.614, 95.637,  104.969, 102.178, 87.806,  103.288, 100.404,
                        103.975, 96.848,  104.762, 94.22,   98.06,   94.769,  108.413, 106.007, 112.63,  105.084};
  expect_test(wilcoxon_signed_rank(a, b), 537.0, 0.005391096465653226, false);
}

TEST(Wilcoxon, RefusesUnusableInput) {
  EXPECT_FALSE(wilcoxon_signed_rank({1, 2}, {1, 2, 3}));
  EXPECT_FALSE(wilcoxon_signed_rank({}, {}));
  EXPECT_FALSE(wilcoxon_signed_rank({1, 2, 3}, {1, 2, 3}));  // all differences zero
  EXPECT_FALSE(wilcoxon_signed_rank({1, std::nan(""), 3}, {1, 2, 3}));
}

TEST(MannWhitney, ExactSmallSamples) {
  auto r = mann_whitney_u({19.1, 21.4, 18.2, 22.0, 20.3}, {23.5, 24.1, 21.9, 25.0, 22.8, 26.3, 23.0});
  expect_test(r, 1.0, 0.005050505050505051, true);
  EXPECT_EQ(r->n, 12u);
  // One small, one larger sample (exact when either side has <= 8 values).
  expect_test(mann_whitney_u({3.1, 2.2, 4.5, 5.0}, {1.0, 2.0, 0.5, 1.5, 2.5, 0.7, 1.2, 3.0, 0.9, 1.1, 1.9, 0.3}), 46.0,
              0.004395604395604396, true);
}

TEST(MannWhitney, TiesUseCorrectedNormal) {
  expect_test(mann_whitney_u({1, 2, 2, 3, 4, 4, 4, 5, 6, 7, 8}, {3, 4, 5, 5, 6, 7, 8, 8, 9, 9, 10, 11}), 25.0,
              0.012179962045979119, false);
}

TEST(MannWhitney, LargeSamplesNormalApproximation) {
  std::vector<double> a{11.8756, 8.7854,  10.2575, 9.6936,  8.9407,  8.9742,  9.9847,  10.4339, 9.4684,  10.0544,
                        10.7222, 10.2966, 10.8687, 10.4614, 10.488,  11.8266, 10.6232, 10.1295, 10.7099, 9.0809,
                        9.6623,  10.7932, 10.6308, 11.5484, 10.0105, 8.5377,  11.9472, 11.0929, 8.9413,  11.3758};
  std::vector<double> b{10.6324, 8.7861,  10.1796, 10.0911, 12.1908, 9.8079,  10.3464, 10.3232, 10.221,
                        9.6859,  10.8191, 11.6768, 11.224,  9.6725,  9.4502,  10.719,  9.8934,  9.9698,
                        8.9203,  12.5505, 11.5166, 9.6261,  11.5082, 11.9425, 8.2104};
  expect_test(mann_whitney_u(a, b), 365.0, 0.8724247528915914, false);
}

TEST(MannWhitney, ExactDistributionSumsToOneAndIsSymmetric) {
  // Completely separated samples: U = 0, p = 2 / C(m+n, m).
  auto r = mann_whitney_u({1, 2, 3}, {4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->statistic, 0);
  EXPECT_NEAR(r->pvalue, 2.0 / 286.0, 1e-15);  // C(13, 3) = 286
  // Identical-looking samples interleaved: p = 1.
  auto even = mann_whitney_u({1, 4, 5, 8}, {2, 3, 6, 7});
  ASSERT_TRUE(even);
  EXPECT_EQ(even->statistic, 8);
  EXPECT_DOUBLE_EQ(even->pvalue, 1.0);
  // Every value equal: no evidence.
  auto same = mann_whitney_u({2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2, 2, 2, 2, 2});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->pvalue, 1.0);
  EXPECT_FALSE(mann_whitney_u({}, {1}));
  EXPECT_FALSE(mann_whitney_u({1, INFINITY}, {1}));
}

}  // namespace
}  // namespace kerntune::stats
