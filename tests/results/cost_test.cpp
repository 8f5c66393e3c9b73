// The cost of a trial by what it changes (results/cost.hpp, change_costs;
// docs/bo.md §16): learned from the stage timings of stored trials.
#include <gtest/gtest.h>

#include "kerntune/results/cost.hpp"

using namespace kerntune;
using nlohmann::json;

namespace {

results::Trial trial(int seq, json params, std::map<std::string, double> timings, double seconds,
                     std::string worker = "local") {
  results::Trial t;
  t.seq = seq;
  t.kind = seq == 0 ? results::TrialKind::baseline : results::TrialKind::proposal;
  t.ok = true;
  t.params = std::move(params);
  t.timings = std::move(timings);
  t.worker = std::move(worker);
  t.started_at = 1000.0 * (seq + 1);
  t.finished_at = t.started_at + seconds;
  return t;
}

int tier(const std::string& name) { return name.starts_with("cmd.") ? 1 : name.starts_with("CONFIG_") ? 2 : 0; }

TEST(ChangeCosts, AStayIsTheTrialsOwnWorkABootAndABuildAddTheirMedians) {
  std::vector<results::Trial> ts = {
      trial(0, {{"cmd.a", 1}, {"vm.x", 1}}, {{"boot", 10}, {"workload", 5}}, 16),
      trial(1, {{"cmd.a", 2}, {"vm.x", 1}}, {{"boot", 12}, {"workload", 5}}, 18),
      trial(2, {{"cmd.a", 2}, {"vm.x", 3}}, {{"snapshot_load", 0.2}, {"workload", 5}}, 6.2),
      trial(3, {{"cmd.a", 2}, {"vm.x", 3}, {"CONFIG_B", "y"}}, {{"build", 30}, {"boot", 11}, {"workload", 5}}, 47),
  };
  auto c = results::change_costs(ts, tier);
  ASSERT_EQ(c.size(), 3u);
  // Own work: 6, 6, 6, 6; boot median 11; build 30; snapshot load 0.2.
  EXPECT_NEAR(c[0], 6.2, 1e-9);
  EXPECT_NEAR(c[1], 17, 1e-9);
  EXPECT_NEAR(c[2], 47, 1e-9);
}

TEST(ChangeCosts, ATargetThatBootsEvenWhenTheCommandLineStaysHasNoCheapTrial) {
  // between_trials: reboot — trial 2 changed a sysctl only and still booted.
  std::vector<results::Trial> ts = {
      trial(0, {{"cmd.a", 1}, {"vm.x", 1}}, {{"boot", 10}, {"workload", 5}}, 15),
      trial(1, {{"cmd.a", 2}, {"vm.x", 1}}, {{"boot", 10}, {"workload", 5}}, 15),
      trial(2, {{"cmd.a", 2}, {"vm.x", 3}}, {{"boot", 10}, {"workload", 5}}, 15),
  };
  auto c = results::change_costs(ts, tier);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], c[1]);
  // Before that evidence (trials 0 and 1 only) a stay is assumed cheap.
  ts.pop_back();
  c = results::change_costs(ts, tier);
  EXPECT_NEAR(c[0], 5, 1e-9);
  EXPECT_NEAR(c[1], 15, 1e-9);
}

TEST(ChangeCosts, TheTrialBeforeIsTheOneOnTheSameWorker) {
  // Worker b's trial 2 repeats b's command line (trial 1's); worker a's
  // trial 0 had another. It booted: evidence of a target that always boots.
  std::vector<results::Trial> ts = {
      trial(0, {{"cmd.a", 1}}, {{"boot", 10}, {"workload", 5}}, 15, "a"),
      trial(1, {{"cmd.a", 2}}, {{"boot", 10}, {"workload", 5}}, 15, "b"),
      trial(2, {{"cmd.a", 2}}, {{"boot", 10}, {"workload", 5}}, 15, "b"),
  };
  auto c = results::change_costs(ts, tier);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], c[1]);
  ts[2].worker = "a";  // now it changed a's command line: no evidence either way
  c = results::change_costs(ts, tier);
  EXPECT_LT(c[0], c[1]);
}

TEST(ChangeCosts, NothingBeforeATrialHasAWallTime) {
  EXPECT_TRUE(results::change_costs({}, tier).empty());
  auto t = trial(0, {{"vm.x", 1}}, {{"workload", 5}}, 0);
  EXPECT_TRUE(results::change_costs({t}, tier).empty());
}

}  // namespace
