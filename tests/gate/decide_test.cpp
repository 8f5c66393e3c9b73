// The gate's decision from per-pair measurements, and its reports.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kerntune/gate/gate.hpp"

using namespace kerntune::gate;

namespace {

/// n pairs: a ~ 100·LN(0, sigma), b = ratio · 100·LN(0, sigma), independent.
std::pair<std::vector<double>, std::vector<double>> pairs(int n, double ratio, double sigma, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, sigma);
  std::vector<double> a, b;
  for (int i = 0; i < n; ++i) {
    a.push_back(100 * std::exp(z(rng)));
    b.push_back(ratio * 100 * std::exp(z(rng)));
  }
  return {a, b};
}

TEST(Decide, ClearSlowdownOfAMinimizedMetricIsARegression) {
  auto [a, b] = pairs(10, 1.30, 0.01, 1);
  GateResult r = decide(a, b, /*maximize=*/false, {});
  EXPECT_EQ(r.decision, Decision::regression) << r.message;
  ASSERT_TRUE(r.ci);
  EXPECT_GT(r.ci->lo, 1.02);
  EXPECT_NEAR(r.ci->ratio, 1.30, 0.02);
  ASSERT_TRUE(r.test);
  EXPECT_LT(r.test->pvalue, 0.01);
}

TEST(Decide, DirectionMatters) {
  // The same numbers are an improvement of a maximized metric: pass.
  auto [a, b] = pairs(10, 1.30, 0.01, 2);
  EXPECT_EQ(decide(a, b, true, {}).decision, Decision::pass);
  // And a drop of a maximized metric is the regression.
  auto [c, d] = pairs(10, 0.70, 0.01, 3);
  EXPECT_EQ(decide(c, d, true, {}).decision, Decision::regression);
  EXPECT_EQ(decide(c, d, false, {}).decision, Decision::pass);
}

TEST(Decide, IdenticalConfigurationsWithLowNoisePass) {
  auto [a, b] = pairs(12, 1.0, 0.003, 4);
  GateResult r = decide(a, b, false, {});
  EXPECT_EQ(r.decision, Decision::pass) << r.message;
  EXPECT_LE(r.ci->hi, 1.02);
}

TEST(Decide, SmallNoisySampleIsInconclusiveWithRepeatsThatWouldSettleIt) {
  auto [a, b] = pairs(4, 1.0, 0.10, 5);
  GateResult r = decide(a, b, false, {});
  ASSERT_EQ(r.decision, Decision::inconclusive) << r.message;
  ASSERT_TRUE(r.needed);
  EXPECT_GT(r.needed->repeats, 4);
  EXPECT_NE(r.message.find("repeats per side would settle it"), std::string::npos);
}

TEST(Decide, TheAllowanceMovesTheBoundary) {
  // A true 5% slowdown, measured tightly: a regression at 2%, a pass at 10%.
  auto [a, b] = pairs(20, 1.05, 0.002, 6);
  GateOptions strict;
  strict.max_regression = 0.02;
  GateOptions loose;
  loose.max_regression = 0.10;
  EXPECT_EQ(decide(a, b, false, strict).decision, Decision::regression);
  EXPECT_EQ(decide(a, b, false, loose).decision, Decision::pass);
}

TEST(Decide, TooFewPairsOrUnusableValuesAreErrors) {
  EXPECT_EQ(decide({1, 2}, {1, 2}, false, {}).decision, Decision::error);
  EXPECT_EQ(decide({1, 2, 0}, {1, 2, 3}, false, {}).decision, Decision::error);
  EXPECT_EQ(decide({1, 2, 3}, {1, 2}, false, {}).decision, Decision::error);
}

TEST(Decide, SameSeedSameInterval) {
  auto [a, b] = pairs(15, 1.02, 0.05, 7);
  GateOptions o;
  o.seed = 42;
  auto r1 = decide(a, b, false, o), r2 = decide(a, b, false, o);
  EXPECT_EQ(r1.ci->lo, r2.ci->lo);
  EXPECT_EQ(r1.ci->hi, r2.ci->hi);
}

TEST(Reports, JUnitMarksTheDecision) {
  auto [a, b] = pairs(10, 1.30, 0.01, 8);
  GateResult r = decide(a, b, false, {});
  r.metric = "runtime";
  r.baseline_label = "default";
  r.candidate_label = "bundle <x>";
  std::string x = junit_xml(r);
  EXPECT_NE(x.find("<failure "), std::string::npos);
  EXPECT_NE(x.find("failures=\"1\""), std::string::npos);
  EXPECT_NE(x.find("bundle &lt;x&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(x.find("bundle <x>"), std::string::npos);
  std::string md = markdown_summary(r);
  EXPECT_NE(md.find("kerntune gate: regression"), std::string::npos);
  EXPECT_NE(md.find("| pairs (interleaved A B B A …) | 10 |"), std::string::npos);

  auto [c, d] = pairs(4, 1.0, 0.10, 5);
  GateResult i = decide(c, d, false, {});
  EXPECT_NE(junit_xml(i).find("<skipped "), std::string::npos);
  GateResult p = decide(a, a, false, {});
  EXPECT_EQ(junit_xml(p).find("<failure"), std::string::npos);
  EXPECT_EQ(junit_xml(p).find("<skipped"), std::string::npos);
}

}  // namespace
