// Drift correction per metric: each metric by its own baseline ratio, or none.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "kerntune/campaign/drift.hpp"

using kerntune::campaign::drift_factors;
using kerntune::campaign::Objective;
using kerntune::campaign::Recipe;
using kerntune::results::Trial;

namespace {

Trial trial(int seq, const std::string& kind, std::map<std::string, double> metrics, const std::string& status = "ok") {
  Trial t;
  t.seq = seq;
  t.kind = kerntune::results::kind_from_string(kind);
  t.ok = status == "ok";
  t.metrics = std::move(metrics);
  return t;
}

Objective objective(const std::string& metric, Objective::Drift drift) {
  Objective o;
  o.metric = metric;
  o.drift = drift;
  return o;
}

Recipe recipe_with(int baseline_every) {
  Recipe r;
  r.baseline_every = baseline_every;
  r.objectives = {objective("t", Objective::Drift::correct), objective("w", Objective::Drift::correct),
                  objective("mem", Objective::Drift::none)};
  return r;
}

// A timing that slows by 20% then 50%, a throughput that drops 10%, a memory
// count that also moves (+10%) but is marked drift: none.
std::vector<Trial> history() {
  return {trial(0, "baseline", {{"t", 2.0}, {"w", 10.0}, {"mem", 100.0}}),
          trial(1, "proposal", {{"t", 1.0}, {"w", 12.0}, {"mem", 90.0}}),
          trial(3, "rebaseline", {{"t", 2.4}, {"w", 9.0}, {"mem", 110.0}}),
          trial(4, "proposal", {{"t", 1.5}, {"w", 11.0}, {"mem", 95.0}}),
          trial(6, "rebaseline", {}, "failed"),
          trial(9, "rebaseline", {{"t", 3.0}, {"mem", 120.0}}),  // w not measured
          trial(10, "proposal", {{"t", 2.0}, {"w", 8.0}, {"mem", 100.0}})};
}

}  // namespace

TEST(Drift, EachMetricByItsOwnNearestEarlierBaseline) {
  Recipe r = recipe_with(2);
  auto f = drift_factors(r, history(), 4);
  EXPECT_DOUBLE_EQ(f.at("t"), 1.2);
  EXPECT_DOUBLE_EQ(f.at("w"), 0.9);
  EXPECT_DOUBLE_EQ(f.at("mem"), 1.0);  // drift: none, although its baseline moved
  // The failed re-baseline (seq 6) is skipped; seq 9 lacks w: w keeps seq 3's ratio.
  f = drift_factors(r, history(), 7);
  EXPECT_DOUBLE_EQ(f.at("t"), 1.2);
  f = drift_factors(r, history(), 10);
  EXPECT_DOUBLE_EQ(f.at("t"), 1.5);
  EXPECT_DOUBLE_EQ(f.at("w"), 0.9);
}

TEST(Drift, OnlyBaselinesWithALowerSeqCount) {
  Recipe r = recipe_with(2);
  auto f = drift_factors(r, history(), 3);  // the re-baseline itself is not its own reference
  EXPECT_DOUBLE_EQ(f.at("t"), 1.0);
  f = drift_factors(r, history(), 0);
  EXPECT_DOUBLE_EQ(f.at("t"), 1.0);
  // Record order (several workers finish out of order) does not matter: seq does.
  auto shuffled = history();
  std::mt19937 rng(5);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  EXPECT_EQ(drift_factors(r, shuffled, 10), drift_factors(r, history(), 10));
}

TEST(Drift, MarkedMetricIsCorrectedByItsOwnRatio) {
  Recipe r = recipe_with(2);
  r.objectives[2].drift = Objective::Drift::correct;
  EXPECT_DOUBLE_EQ(drift_factors(r, history(), 4).at("mem"), 1.1);
  EXPECT_DOUBLE_EQ(drift_factors(r, history(), 10).at("mem"), 1.2);
}

TEST(Drift, NoCorrectionWithoutRebaseliningOrAMeaningfulRatio) {
  for (const auto& [metric, f] : drift_factors(recipe_with(0), history(), 10)) EXPECT_DOUBLE_EQ(f, 1.0) << metric;
  Recipe r = recipe_with(2);
  std::vector<Trial> zero = {trial(0, "baseline", {{"t", 0.0}, {"w", -1.0}}),
                                    trial(2, "rebaseline", {{"t", 1.0}, {"w", 1.0}})};
  auto f = drift_factors(r, zero, 5);
  EXPECT_DOUBLE_EQ(f.at("t"), 1.0);  // first value 0: no ratio
  EXPECT_DOUBLE_EQ(f.at("w"), 1.0);  // a metric crossing zero has no multiplicative drift
  EXPECT_DOUBLE_EQ(f.at("mem"), 1.0);
}
