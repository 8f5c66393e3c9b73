// stats::best_trial / stats::improvement: the one definition of "best" and
// of the improvement that `best`, `export` and `report` share.
#include <gtest/gtest.h>

#include <cmath>

#include "kerntune/stats/best.hpp"
#include "kerntune/stats/stats.hpp"

namespace {

using kerntune::stats::TrialMetric;

TrialMetric trial(std::string kind, std::string config, std::vector<double> samples, bool ok = true) {
  return TrialMetric{std::move(kind), ok, std::move(config), std::move(samples)};
}

TEST(BestRule, LowestMedianAmongOkCandidatesRebaselinesNeverCount) {
  std::vector<TrialMetric> t = {
      trial("baseline", "d", {10, 10.2, 9.9}),
      trial("proposal", "p1", {9.0, 9.1, 8.9}),
      trial("proposal", "p2", {5.0}, /*ok=*/false),   // failed: never best
      trial("proposal", "p3", {}),                     // metric missing
      trial("rebaseline", "d", {1.0, 1.0, 1.0}),       // the defaults again: never a candidate
      trial("confirm", "p1", {9.2, 9.3, 9.1}),
  };
  ASSERT_EQ(kerntune::stats::best_trial(t, false), 1u);
  // Maximizing: the highest median; the rebaseline's 1.0 would be lowest, not considered either way.
  ASSERT_EQ(kerntune::stats::best_trial(t, true), 0u);
  // A tie goes to the earliest trial.
  t.push_back(trial("proposal", "p4", {9.0, 9.1, 8.9}));
  EXPECT_EQ(kerntune::stats::best_trial(t, false), 1u);
  EXPECT_FALSE(kerntune::stats::best_trial({trial("rebaseline", "d", {1, 2})}, false));
}

TEST(BestRule, ConfirmedConfigurationIsComparedPairwiseRepeatByRepeat) {
  std::vector<TrialMetric> t = {
      trial("baseline", "d", {100, 101}),
      trial("proposal", "p", {90, 91}),
      trial("rebaseline", "d", {102, 103}),
      trial("confirm", "p", {92, 93}),
      trial("rebaseline", "d", {99, 98}),
      trial("confirm", "p", {89, 88}),
      trial("rebaseline", "d", {100, 100}),
      trial("confirm", "p", {90, 91}, /*ok=*/false),  // a failed confirm drops its pair
  };
  auto imp = kerntune::stats::improvement(t, 1);
  ASSERT_TRUE(imp);
  EXPECT_TRUE(imp->paired);
  EXPECT_EQ(imp->method, "paired (interleaved confirmation)");
  EXPECT_EQ(imp->n, 4);
  // Exactly the paired bootstrap over the (rebaseline, confirm) repeats.
  auto ci = kerntune::stats::bootstrap_ratio_ci({102, 103, 99, 98}, {92, 93, 89, 88}, true, 0.95, 10000, 12345);
  ASSERT_TRUE(ci);
  EXPECT_DOUBLE_EQ(imp->ratio, ci->ratio);
  EXPECT_DOUBLE_EQ(imp->lo, ci->lo);
  EXPECT_DOUBLE_EQ(imp->hi, ci->hi);
  EXPECT_LT(imp->hi, 1.0);
  // The same answer from a confirm trial of that configuration.
  auto from_confirm = kerntune::stats::improvement(t, 3);
  ASSERT_TRUE(from_confirm);
  EXPECT_DOUBLE_EQ(from_confirm->ratio, imp->ratio);
}

TEST(BestRule, UnconfirmedConfigurationIsUnpairedAgainstEveryBaselineSample) {
  std::vector<TrialMetric> t = {
      trial("baseline", "d", {100, 104, 98}),
      trial("proposal", "p", {90, 92}),
      trial("proposal", "q", {95, 96}),
      trial("proposal", "p", {91}),   // the same configuration proposed again
  };
  auto imp = kerntune::stats::improvement(t, 1);
  ASSERT_TRUE(imp);
  EXPECT_FALSE(imp->paired);
  EXPECT_EQ(imp->method, "unpaired");
  auto ci = kerntune::stats::bootstrap_ratio_ci({100, 104, 98}, {90, 92, 91}, false, 0.95, 10000, 12345);
  ASSERT_TRUE(ci);
  EXPECT_DOUBLE_EQ(imp->ratio, ci->ratio);
  EXPECT_DOUBLE_EQ(imp->lo, ci->lo);
  EXPECT_EQ(imp->n, 3);
}

TEST(BestRule, SingleMeasurementHasARatioButNoIntervalAndTheBaselineHasNoImprovement) {
  std::vector<TrialMetric> t = {trial("baseline", "d", {100}), trial("proposal", "p", {80})};
  auto imp = kerntune::stats::improvement(t, 1);
  ASSERT_TRUE(imp);
  EXPECT_DOUBLE_EQ(imp->ratio, 0.8);
  EXPECT_TRUE(std::isnan(imp->lo));
  EXPECT_TRUE(std::isnan(imp->hi));
  EXPECT_EQ(imp->method, "single measurement, no interval");
  EXPECT_FALSE(kerntune::stats::improvement(t, 0));       // the baseline against itself
  EXPECT_FALSE(kerntune::stats::improvement(t, 7));       // out of range
  t[1].ok = false;
  EXPECT_FALSE(kerntune::stats::improvement(t, 1));       // a failed trial
  EXPECT_FALSE(kerntune::stats::improvement({trial("proposal", "p", {80, 81})}, 0));  // no baseline
}

}  // namespace
