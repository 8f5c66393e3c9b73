// The read model of a stored campaign (results/view.hpp): every field the
// readers (trials, show, status, report, export, gate) take from it.
#include <gtest/gtest.h>

#include <cmath>

#include "kerntune/results/view.hpp"

using namespace kerntune;
using nlohmann::json;

namespace {

store::TrialRecord clamped_trial() {
  store::TrialRecord r;
  r.id = 42;
  r.seq = 3;
  r.kind = "proposal";
  r.status = "ok";
  r.params_json = R"({"vm.swappiness": 250, "kernel.sched_autogroup_enabled": true})";
  // As the campaign stores it: the effective values with the adjustments beside them.
  r.effective_json = json{{"vm.swappiness", 200},
                          {"kernel.sched_autogroup_enabled", true},
                          {"kernel", "6.1.0"},
                          {"adjusted", json::array({{{"parameter", "vm.swappiness"}, {"proposed", 250}, {"effective", 200},
                                                     {"how", "clamped"}}})}}
                         .dump();
  r.timings = {{"boot", 4.5}, {"workload", 10.25}, {"total", 16.0}};
  r.worker = "w1:qemu-0";
  r.started_at = 1000;
  r.finished_at = 1016;
  // Repeats out of order, one not finite: kept in repeat order, the NaN dropped.
  r.measurements = {{"y", 2, 3.0, "s"}, {"y", 0, 1.0, "s"}, {"y", 1, std::nan(""), "s"}, {"mem", 0, 7.0, ""}};
  return r;
}

store::CampaignRow campaign_with(const json& metadata, const std::string& recipe_text = "") {
  store::CampaignRow c;
  c.id = 1;
  c.name = "v";
  c.recipe_path = "v.yaml";
  c.recipe_text = recipe_text;
  c.metadata_json = metadata.dump();
  return c;
}

}  // namespace

TEST(ResultsView, ATrialCarriesItsIdAdjustmentsTimingsAndWorker) {
  const results::Trial t = results::make_trial(clamped_trial());
  EXPECT_EQ(t.id, 42);
  EXPECT_EQ(t.seq, 3);
  EXPECT_EQ(t.kind, results::TrialKind::proposal);
  EXPECT_TRUE(t.ok);
  EXPECT_EQ(t.status(), "ok");
  // The adjustments are split out of the effective values.
  EXPECT_FALSE(t.effective.contains("adjusted"));
  EXPECT_EQ(t.effective["vm.swappiness"], 200);
  EXPECT_EQ(t.effective["kernel"], "6.1.0");
  ASSERT_EQ(t.adjusted.size(), 1u);
  const json* a = t.adjustment("vm.swappiness");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ((*a)["how"], "clamped");
  EXPECT_EQ(t.adjustment("kernel.sched_autogroup_enabled"), nullptr);
  EXPECT_EQ(t.timings.at("workload"), 10.25);
  EXPECT_EQ(t.worker, "w1:qemu-0");
  EXPECT_DOUBLE_EQ(t.seconds(), 16.0);
  EXPECT_EQ(t.samples.at("y"), (std::vector<double>{1.0, 3.0}));
  EXPECT_DOUBLE_EQ(t.metrics.at("y"), 2.0);
  EXPECT_EQ(t.units.at("y"), "s");
  EXPECT_FALSE(t.units.contains("mem"));
  EXPECT_EQ(t.config, json::parse(clamped_trial().params_json).dump());
}

TEST(ResultsView, ToJsonIsTheTrialsSchemaShape) {
  const json j = results::to_json(results::make_trial(clamped_trial()));
  for (const char* key : {"seq", "kind", "status", "params", "effective", "adjusted", "metrics", "samples", "units",
                          "failure", "timings", "worker", "started_at", "finished_at"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["kind"], "proposal");
  EXPECT_EQ(j["adjusted"][0]["effective"], 200);
  EXPECT_TRUE(j["failure"].is_null());
  EXPECT_EQ(j["timings"]["boot"], 4.5);
  EXPECT_EQ(j["samples"]["y"], json::array({1.0, 3.0}));

  store::TrialRecord f = clamped_trial();
  f.status = "failed";
  f.failure_stage = "boot";
  f.failure_reason = "kernel panic";
  const json jf = results::to_json(results::make_trial(f));
  EXPECT_EQ(jf["status"], "failed");
  EXPECT_EQ(jf["failure"], (json{{"stage", "boot"}, {"reason", "kernel panic"}}));
}

TEST(ResultsView, ADistributionMetricsTrialValueIsItsPooledPercentileNotTheMedianOfItsRepeats) {
  store::TrialRecord r = clamped_trial();
  r.measurements = {{"p99", 0, 1.0, "ms"}, {"p99", 1, 1.0, "ms"}, {"p99", 2, 10.0, "ms"},
                    {"p99", store::kPooledRepeat, 10.0, "ms"}, {"rps", 0, 5.0, ""}, {"rps", 1, 7.0, ""}};
  const results::Trial t = results::make_trial(r);
  EXPECT_EQ(t.samples.at("p99"), (std::vector<double>{1.0, 1.0, 10.0}));  // the pooled value is no repeat
  EXPECT_DOUBLE_EQ(t.metrics.at("p99"), 10.0);
  EXPECT_DOUBLE_EQ(t.metrics.at("rps"), 6.0);  // an ordinary metric: the median
  EXPECT_EQ(t.pooled, (std::set<std::string>{"p99"}));
  const json j = results::to_json(t);
  EXPECT_EQ(j["pooled"], json::array({"p99"}));
  EXPECT_EQ(j["metrics"]["p99"], 10.0);
  EXPECT_FALSE(results::to_json(results::make_trial(clamped_trial())).contains("pooled"));
}

TEST(ResultsView, KindsAreParsedOnceAndUnknownOnesStayUnknown) {
  for (auto k : {results::TrialKind::baseline, results::TrialKind::proposal, results::TrialKind::rebaseline,
                 results::TrialKind::confirm})
    EXPECT_EQ(results::kind_from_string(results::to_string(k)), k);
  EXPECT_EQ(results::kind_from_string("Baseline"), results::TrialKind::unknown);
  EXPECT_FALSE(results::is_search(results::TrialKind::confirm));
  EXPECT_TRUE(results::measures_defaults(results::TrialKind::rebaseline));
}

TEST(ResultsView, BudgetFromTheMetadataElseTheStoredRecipe) {
  store::TrialRecord base = clamped_trial();
  base.seq = 0;
  base.kind = "baseline";
  auto with_meta = results::make_view(campaign_with({{"budget", 30}}, "budget:\n  trials: 12\n"), {base});
  ASSERT_TRUE(with_meta.budget);
  EXPECT_EQ(*with_meta.budget, 30);  // a --trials override, as the campaign last ran
  auto old_store = results::make_view(campaign_with(json::object(), "budget:\n  trials: 12\n"), {base});
  ASSERT_TRUE(old_store.budget);
  EXPECT_EQ(*old_store.budget, 12);
  EXPECT_FALSE(results::make_view(campaign_with(json::object(), "name: x\n"), {}).budget);
  ASSERT_NE(old_store.baseline(), nullptr);
  EXPECT_EQ(old_store.baseline()->id, 42);
  EXPECT_EQ(results::make_view(campaign_with(json::object()), {}).baseline(), nullptr);
}
