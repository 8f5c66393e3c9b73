// The early-stopping decision (stats::early_stop): the pooled one-sided t on
// log values checked by hand and against t tables, its direction, the looks,
// and its error rate and power checked by simulation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

std::vector<double> exps(std::vector<double> logs) {
  for (double& v : logs) v = std::exp(v);
  return logs;
}

// Logs 0, ±0.1 (mean 0, variance 0.01) against 0.5, 0.7 (mean 0.6, variance
// 0.02): pooled variance 0.04/3, se = sqrt(0.04/3 · (1/3 + 1/2)), t = 0.6/se.
TEST(EarlyStop, PooledTOnLogValues) {
  const auto inc = exps({0, 0.1, -0.1});
  const auto trial = exps({0.5, 0.7});
  auto d = early_stop(inc, trial, {.alpha = 0.05, .min_repeats = 2, .planned_repeats = 3});
  ASSERT_TRUE(d) << d.error().format();
  EXPECT_TRUE(d->looked);
  EXPECT_TRUE(d->log_scale);
  EXPECT_NEAR(d->statistic, 0.6 / std::sqrt(0.04 / 3 * (1.0 / 3 + 0.5)), 1e-9);
  EXPECT_DOUBLE_EQ(d->df, 3);
  EXPECT_EQ(d->looks, 1);
  EXPECT_NEAR(d->threshold, 2.353363, 1e-6);  // t(0.95, 3), from the tables
  EXPECT_TRUE(d->stop);
  EXPECT_EQ(d->brief(), "pooled t on log values: t = 5.69 > 2.35 (one-sided, alpha 0.05 over 1 look(s), 2 vs 3 repeats)");

  // Five planned repeats: looks after repeats 2, 3 and 4, alpha/3 each.
  d = early_stop(inc, trial, {.alpha = 0.05, .min_repeats = 2, .planned_repeats = 5});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->looks, 3);
  EXPECT_NEAR(d->alpha_per_look, 0.05 / 3, 1e-15);
  EXPECT_GT(d->threshold, 3.182446);  // t(0.975, 3)
  EXPECT_LT(d->threshold, 4.540703);  // t(0.99, 3)
  EXPECT_TRUE(d->stop);
}

TEST(EarlyStop, DirectionOfTheObjective) {
  const auto inc = exps({0, 0.1, -0.1});
  const auto higher = exps({0.5, 0.7});
  // Maximizing, a higher trial is better: never stopped.
  auto d = early_stop(inc, higher, {.min_repeats = 2, .planned_repeats = 3, .maximize = true});
  ASSERT_TRUE(d);
  EXPECT_LT(d->statistic, 0);
  EXPECT_FALSE(d->stop);
  // Maximizing, a lower one is worse.
  d = early_stop(inc, exps({-0.5, -0.7}), {.min_repeats = 2, .planned_repeats = 3, .maximize = true});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->stop);
  // Minimizing, a close trial is not clearly worse.
  d = early_stop(inc, exps({0.05, 0.12}), {.min_repeats = 2, .planned_repeats = 3});
  ASSERT_TRUE(d);
  EXPECT_GT(d->statistic, 0);
  EXPECT_FALSE(d->stop);
}

TEST(EarlyStop, NoLookBeforeMinRepeatsAndLinearScaleForNonPositive) {
  auto d = early_stop({1, 1.1, 0.9}, {5, 5.1}, {.min_repeats = 3, .planned_repeats = 5});
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->looked);
  EXPECT_FALSE(d->stop);
  // A value <= 0 (a difference, a score): the test runs on the values.
  d = early_stop({0, 0.1, -0.1}, {0.5, 0.7}, {.min_repeats = 2, .planned_repeats = 3});
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->log_scale);
  EXPECT_NEAR(d->statistic, 0.6 / std::sqrt(0.04 / 3 * (1.0 / 3 + 0.5)), 1e-9);
  // No spread at all: a worse mean stops, an equal one does not.
  d = early_stop({2, 2}, {3, 3}, {.min_repeats = 2, .planned_repeats = 3});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->stop);
  d = early_stop({2, 2}, {2, 2}, {.min_repeats = 2, .planned_repeats = 3});
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->stop);
}

TEST(EarlyStop, RefusesWhatItCannotTest) {
  EXPECT_FALSE(early_stop({1}, {1, 2}, {}));
  EXPECT_FALSE(early_stop({1, 2}, {1, NAN}, {}));
  EXPECT_FALSE(early_stop({1, 2}, {1, 2}, {.alpha = 0}));
  EXPECT_FALSE(early_stop({1, 2}, {1, 2}, {.alpha = 1}));
  EXPECT_FALSE(early_stop({1, 2}, {1, 2}, {.min_repeats = 1}));
  EXPECT_EQ(early_stop({1}, {1, 2}, {}).error().kind, util::Error::Kind::invalid_input);
}

// The sequence of looks a campaign makes (after repeats 2..planned-1), on
// multiplicative noise: with the trial equal to the incumbent it stops in at
// most alpha of the cases; 30% worse, it almost always stops at the first look.
int stops(double worse, int planned, int runs, int* at_first_look) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 0.05);
  int stopped = 0;
  *at_first_look = 0;
  for (int r = 0; r < runs; ++r) {
    std::vector<double> inc;
    for (int i = 0; i < planned; ++i) inc.push_back(std::exp(noise(rng)));
    std::vector<double> trial;
    for (int i = 0; i < planned - 1; ++i) {
      trial.push_back(worse * std::exp(noise(rng)));
      auto d = early_stop(inc, trial, {.alpha = 0.05, .min_repeats = 2, .planned_repeats = planned});
      if (d && d->stop) {
        ++stopped;
        *at_first_look += i == 1;
        break;
      }
    }
  }
  return stopped;
}

TEST(EarlyStop, ErrorRateAndPowerBySimulation) {
  int first = 0;
  const int runs = 4000;
  const int null_stops = stops(1.0, 5, runs, &first);
  EXPECT_LE(null_stops, runs * 0.05) << null_stops;  // the stated error rate holds over all looks
  EXPECT_GT(null_stops, 0);                          // and the test does look
  const int worse_stops = stops(1.3, 5, 1000, &first);
  EXPECT_GT(worse_stops, 990);
  EXPECT_GT(first, 900);  // mostly after min_repeats
}

}  // namespace
}  // namespace kerntune::stats
