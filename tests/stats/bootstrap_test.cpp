// Bootstrap ratio intervals: determinism, coverage over simulated data sets,
// pairing, and the required-repeats estimate checked by simulation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

// Log-normal samples around `median` with log-scale spread `sigma`.
std::vector<double> lognormal(std::mt19937_64& rng, double med, double sigma, int n) {
  std::normal_distribution<double> noise(0.0, sigma);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(med * std::exp(noise(rng)));
  return out;
}

TEST(Bootstrap, PointEstimateAndDeterminismBySeed) {
  std::vector<double> a{100, 102, 98, 101, 99, 103, 97};
  std::vector<double> b{110, 113, 108, 111, 109, 112, 107};
  auto ci = bootstrap_ratio_ci(a, b, false, 0.95, 2000, 42);
  ASSERT_TRUE(ci) << ci.error().format();
  EXPECT_DOUBLE_EQ(ci->ratio, 110.0 / 100.0);
  EXPECT_LT(ci->lo, ci->ratio);
  EXPECT_GT(ci->hi, ci->ratio);
  EXPECT_TRUE(ci->contains(1.1));
  EXPECT_FALSE(ci->contains(1.0));
  EXPECT_EQ(ci->resamples, 2000);

  auto again = bootstrap_ratio_ci(a, b, false, 0.95, 2000, 42);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->lo, ci->lo);
  EXPECT_EQ(again->hi, ci->hi);
  // A different seed gives a different (but similar) interval on data this varied.
  std::vector<double> wide_a, wide_b;
  std::mt19937_64 rng(1);
  wide_a = lognormal(rng, 100, 0.1, 25);
  wide_b = lognormal(rng, 105, 0.1, 25);
  auto s1 = bootstrap_ratio_ci(wide_a, wide_b, false, 0.95, 2000, 1);
  auto s2 = bootstrap_ratio_ci(wide_a, wide_b, false, 0.95, 2000, 2);
  ASSERT_TRUE(s1 && s2);
  EXPECT_TRUE(s1->lo != s2->lo || s1->hi != s2->hi);
  EXPECT_NEAR(s1->lo, s2->lo, 0.03);
  EXPECT_NEAR(s1->hi, s2->hi, 0.03);
  EXPECT_EQ(ci->brief().substr(0, 5), "1.1 [");
  EXPECT_NE(ci->brief().find("] (95%, unpaired bootstrap, 2000 resamples)"), std::string::npos) << ci->brief();
}

TEST(Bootstrap, HigherLevelGivesWiderInterval) {
  std::mt19937_64 rng(3);
  auto a = lognormal(rng, 50, 0.08, 20);
  auto b = lognormal(rng, 50, 0.08, 20);
  auto ci90 = bootstrap_ratio_ci(a, b, false, 0.90, 4000, 9);
  auto ci99 = bootstrap_ratio_ci(a, b, false, 0.99, 4000, 9);
  ASSERT_TRUE(ci90 && ci99);
  EXPECT_LT(ci99->lo, ci90->lo);
  EXPECT_GT(ci99->hi, ci90->hi);
}

// Over many simulated data sets with a known true ratio of medians, a 95%
// interval must cover the truth about 95% of the time. With 400 data sets the
// binomial standard error is ~1.1%, so [0.90, 0.99] fails only if the
// interval is really mis-sized (too narrow or too wide).
TEST(Bootstrap, UnpairedCoverageNearNominal) {
  std::mt19937_64 rng(2024);
  const double truth = 1.1;
  int covered = 0, runs = 400;
  for (int run = 0; run < runs; ++run) {
    auto a = lognormal(rng, 100, 0.05, 21);
    auto b = lognormal(rng, 100 * truth, 0.05, 21);
    auto ci = bootstrap_ratio_ci(a, b, false, 0.95, 1000, static_cast<std::uint64_t>(run));
    ASSERT_TRUE(ci);
    covered += ci->contains(truth);
  }
  double coverage = static_cast<double>(covered) / runs;
  RecordProperty("coverage", std::to_string(coverage));
  EXPECT_GE(coverage, 0.90) << coverage;
  EXPECT_LE(coverage, 0.99) << coverage;
}

// Interleaved A/B on a drifting host: each pair shares a slow factor. The
// paired interval must keep its coverage and be much narrower than the
// unpaired one, which cannot separate drift from the effect.
TEST(Bootstrap, PairedResamplingUsesThePairing) {
  std::mt19937_64 rng(77);
  std::normal_distribution<double> drift(0.0, 0.15), noise(0.0, 0.02);
  const double truth = 0.95;
  int covered = 0, pair_covered = 0, narrower = 0, runs = 300;
  std::vector<double> half_widths, pair_half_widths;
  for (int run = 0; run < runs; ++run) {
    std::vector<double> a, b;
    for (int i = 0; i < 21; ++i) {
      double host = std::exp(drift(rng));
      a.push_back(100 * host * std::exp(noise(rng)));
      b.push_back(100 * truth * host * std::exp(noise(rng)));
    }
    auto paired = bootstrap_ratio_ci(a, b, true, 0.95, 1000, static_cast<std::uint64_t>(run));
    auto unpaired = bootstrap_ratio_ci(a, b, false, 0.95, 1000, static_cast<std::uint64_t>(run));
    ASSERT_TRUE(paired && unpaired);
    auto pair_ratio = bootstrap_pair_ratio_ci(a, b, 0.95, 1000, static_cast<std::uint64_t>(run));
    ASSERT_TRUE(pair_ratio);
    EXPECT_TRUE(pair_ratio->pair_ratios);
    covered += paired->contains(truth);
    pair_covered += pair_ratio->contains(truth);
    half_widths.push_back(paired->relative_half_width());
    pair_half_widths.push_back(pair_ratio->relative_half_width());
    narrower += (paired->hi - paired->lo) < 0.5 * (unpaired->hi - unpaired->lo);
  }
  // The ratio of medians is not the median of ratios: under drift this
  // strong its paired interval is conservative (measured: 99.7% coverage,
  // median half-width 3.7%). The median of pair ratios cancels the drift:
  // near-nominal coverage and an interval about as wide as the 2% per-run
  // noise allows (≈ 1.96·√(π/2)·√2·0.02/√21 ≈ 1.5%).
  double coverage = static_cast<double>(covered) / runs;
  double pair_coverage = static_cast<double>(pair_covered) / runs;
  RecordProperty("coverage", std::to_string(coverage));
  RecordProperty("pair_coverage", std::to_string(pair_coverage));
  RecordProperty("narrower", narrower);
  RecordProperty("median_half_width", std::to_string(median(half_widths)));
  RecordProperty("pair_median_half_width", std::to_string(median(pair_half_widths)));
  EXPECT_GE(coverage, 0.90) << coverage;
  EXPECT_LT(median(half_widths), 0.06);
  EXPECT_GE(narrower, runs * 9 / 10) << narrower;
  EXPECT_GE(pair_coverage, 0.90) << pair_coverage;
  EXPECT_LE(pair_coverage, 0.99) << pair_coverage;
  EXPECT_LT(median(pair_half_widths), 0.02);
  EXPECT_GT(median(pair_half_widths), 0.01);
}

TEST(Bootstrap, RefusesUnusableInput) {
  std::vector<double> ok{1, 2, 3};
  EXPECT_FALSE(bootstrap_ratio_ci({1}, ok, false));
  EXPECT_FALSE(bootstrap_ratio_ci(ok, {1, 2}, true));  // paired size mismatch
  EXPECT_FALSE(bootstrap_ratio_ci({0, 1, 2}, ok, false));
  EXPECT_FALSE(bootstrap_ratio_ci(ok, {-1, 2, 3}, false));
  EXPECT_FALSE(bootstrap_ratio_ci(ok, {1, NAN, 3}, false));
  EXPECT_FALSE(bootstrap_ratio_ci(ok, ok, false, 1.0));
  EXPECT_FALSE(bootstrap_ratio_ci(ok, ok, false, 0.95, 10));
  EXPECT_FALSE(bootstrap_pair_ratio_ci(ok, {1, 2}));
  EXPECT_FALSE(bootstrap_pair_ratio_ci({1, 0, 2}, ok));
  auto pr = bootstrap_pair_ratio_ci({10, 20, 40}, {11, 22, 44}, 0.95, 200);
  ASSERT_TRUE(pr);
  EXPECT_DOUBLE_EQ(pr->ratio, 1.1);
  EXPECT_DOUBLE_EQ(pr->lo, 1.1);
  EXPECT_DOUBLE_EQ(pr->hi, 1.1);
  auto zero_b = bootstrap_ratio_ci(ok, {0, 0, 0}, false, 0.95, 200);
  ASSERT_TRUE(zero_b);
  EXPECT_EQ(zero_b->ratio, 0);
}

// The estimate is checked against what it promises: at the recommended number
// of repeats, bootstrap intervals come out about as wide as the target.
TEST(RequiredRepeats, RecommendedRepeatsReachTheTargetWidth) {
  std::mt19937_64 rng(5);
  const double sigma = 0.05, target = 0.02;
  auto a = lognormal(rng, 100, sigma, 10);
  auto b = lognormal(rng, 103, sigma, 10);
  auto est = required_repeats(a, b, false, {.target_half_width = target});
  ASSERT_TRUE(est) << est.error().format();
  // From the true spread: ceil(1.96² · π/2 · 2σ² / log(1.02)²) = 77; the
  // estimate uses the observed (robust) spread of 10 values, so allow slack.
  EXPECT_GT(est->repeats, 30);
  EXPECT_LT(est->repeats, 200);
  EXPECT_GT(est->projected_half_width, target);  // 10 repeats are not enough
  EXPECT_FALSE(est->capped);

  // Simulate at the n the true spread calls for and measure the intervals.
  std::vector<double> widths;
  for (int run = 0; run < 40; ++run) {
    auto sa = lognormal(rng, 100, sigma, 77);
    auto sb = lognormal(rng, 103, sigma, 77);
    auto ci = bootstrap_ratio_ci(sa, sb, false, 0.95, 1000, static_cast<std::uint64_t>(run));
    ASSERT_TRUE(ci);
    widths.push_back(ci->relative_half_width());
    auto at_n = required_repeats(sa, sb, false, {.target_half_width = target});
    ASSERT_TRUE(at_n);
    EXPECT_NEAR(at_n->projected_half_width, target, 0.5 * target);
  }
  EXPECT_GT(median(widths), 0.75 * target);
  EXPECT_LT(median(widths), 1.3 * target);
}

TEST(RequiredRepeats, PairedUsesSpreadOfPairRatios) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> drift(0.0, 0.2), noise(0.0, 0.01);
  std::vector<double> a, b;
  for (int i = 0; i < 12; ++i) {
    double host = std::exp(drift(rng));
    a.push_back(50 * host * std::exp(noise(rng)));
    b.push_back(52 * host * std::exp(noise(rng)));
  }
  auto paired = required_repeats(a, b, true, {.target_half_width = 0.01});
  auto unpaired = required_repeats(a, b, false, {.target_half_width = 0.01});
  ASSERT_TRUE(paired && unpaired);
  EXPECT_LT(paired->repeats * 20, unpaired->repeats);  // drift cancels within pairs
  EXPECT_LT(paired->repeats, 40);

  auto capped = required_repeats(a, b, false, {.target_half_width = 0.001, .max_repeats = 500});
  ASSERT_TRUE(capped);
  EXPECT_TRUE(capped->capped);
  EXPECT_EQ(capped->repeats, 500);
  EXPECT_NE(capped->brief().find("~>500 repeats"), std::string::npos) << capped->brief();
}

TEST(RequiredRepeats, RefusesUnusableInput) {
  std::vector<double> ok{1, 2, 3};
  EXPECT_FALSE(required_repeats({1, 2}, ok, false));
  EXPECT_FALSE(required_repeats(ok, {1, 2, 0}, false));
  EXPECT_FALSE(required_repeats(ok, {1, 2, 3, 4}, true));
  EXPECT_FALSE(required_repeats(ok, ok, false, {.target_half_width = 0}));
  EXPECT_FALSE(required_repeats(ok, ok, false, {.level = 1.5}));
  // Identical values: no spread, the minimum answer.
  auto flat = required_repeats({5, 5, 5}, {5, 5, 5}, false);
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->repeats, 3);
}

}  // namespace
}  // namespace kerntune::stats
