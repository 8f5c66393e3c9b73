// The documented demo campaign, end to end through the real CLI and a real store.
#include <gtest/gtest.h>

#include "cli.hpp"

using kt_test::run_cli;
using nlohmann::json;

namespace {

json trials_json(const std::string& db, const std::string& campaign = "") {
  std::vector<std::string> args = {"trials", "--db", db, "--json"};
  if (!campaign.empty()) args.insert(args.end(), {"--campaign", campaign});
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out);
}

std::string with_optimizer(const std::string& recipe_path, const std::string& kind, int trials) {
  std::string text = *kerntune::util::read_file(recipe_path);
  text += "optimizer: {kind: " + kind + "}\n";
  auto pos = text.find("trials: 40");
  text.replace(pos, 10, "trials: " + std::to_string(trials));
  return text;
}

}  // namespace

TEST(DemoCampaign, RunsToBudgetAndBestIsTheMinimum) {
  kt_test::TempDir dir;
  kt_test::copy_demo(dir.path);
  std::string db = dir / "kt.db";
  auto r = run_cli({"tune", dir / "recipe.yaml", "--db", db, "--progress", "lines"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("recommended: trial"), std::string::npos) << r.out;

  json trials = trials_json(db);
  ASSERT_EQ(trials.size(), 40u);
  double min_y = 1e300;
  int min_seq = -1;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    EXPECT_EQ(t["seq"], static_cast<int>(i));
    EXPECT_EQ(t["status"], "ok");
    EXPECT_TRUE(t["failure"].is_null());
    for (const char* key : {"params", "effective", "metrics", "timings"}) EXPECT_TRUE(t.contains(key)) << key;
    // Each trial's stored interval, in order: one worker runs them one after another.
    EXPECT_GT(t["started_at"].get<double>(), 1.7e9);
    EXPECT_LE(t["started_at"].get<double>(), t["finished_at"].get<double>());
    if (i > 0) {
      EXPECT_GE(t["started_at"].get<double>(), trials[i - 1]["finished_at"].get<double>() - 1e-3);
    }
    // Inactive conditional parameters are omitted.
    EXPECT_EQ(t["params"].contains("depth"), t["params"]["fast"].get<bool>()) << t["params"].dump();
    double y = t["metrics"]["y"];
    if (y < min_y) { min_y = y; min_seq = t["seq"]; }
  }
  // Baseline first, with the defaults.
  EXPECT_EQ(trials[0]["kind"], "baseline");
  EXPECT_EQ(trials[0]["params"], json::parse(R"kt({"x":0.0,"n":64,"mode":"none","fast":false,"level":"m"})kt"));

  auto b = run_cli({"best", "--db", db, "--json"});
  ASSERT_EQ(b.code, 0) << b.err;
  json best = json::parse(b.out);
  // The black box is noiseless: the surrogate's pick is the measured minimum
  // or a point within 0.1% of it, and the raw best is reported beside it.
  EXPECT_EQ(best["recommendation"]["raw_best_seq"], min_seq);
  EXPECT_LE(best["metrics"]["y"].get<double>(), min_y * 1.001 + 1e-9) << best.dump(1);
  EXPECT_LT(min_y, trials[0]["metrics"]["y"].get<double>());

  // Running the finished campaign again runs nothing.
  auto again = run_cli({"tune", dir / "recipe.yaml", "--db", db, "--progress", "lines"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("0 run now"), std::string::npos) << again.err;
  EXPECT_EQ(trials_json(db).size(), 40u);
}

TEST(DemoCampaign, ProposalsAreReproducibleFromTheSeed) {
  for (const char* kind : {"random", "sobol", "bo"}) {
    kt_test::TempDir dir;
    kt_test::copy_demo(dir.path);
    kt_test::write(dir / "r.yaml", with_optimizer(dir / "recipe.yaml", kind, 12));
    ASSERT_EQ(run_cli({"tune", dir / "r.yaml", "--db", dir / "a.db", "--progress", "quiet"}).code, 0);
    ASSERT_EQ(run_cli({"tune", dir / "r.yaml", "--db", dir / "b.db", "--progress", "quiet"}).code, 0);
    json a = trials_json(dir / "a.db"), b = trials_json(dir / "b.db");
    ASSERT_EQ(a.size(), 12u);
    ASSERT_EQ(b.size(), 12u);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]["params"], b[i]["params"]) << kind << " trial " << i;
    // Not all the same point.
    EXPECT_NE(a[3]["params"], a[4]["params"]) << kind;
  }
}

TEST(DemoCampaign, FailedTrialsAreOutcomesNotAborts) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", R"kt(import json, os, sys, time
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
if p["x"] > 6: sys.exit(4)            # crashes
if p["x"] < -3: time.sleep(30)        # hangs
if 4 < p["x"] <= 6: print("no metric here"); sys.exit(0)
print("KERNTUNE_METRIC y", (p["x"] - 1) ** 2, "ms")
)kt");
  kt_test::write(dir / "r.yaml", R"kt(name: failing
seed: 1
parameters:
  - {name: x, domain: generic, type: real, range: [-5, 10], default: 0}
target: {kind: command, argv: [python3, bb.py], timeout: 8s}
objectives: [{metric: y, direction: minimize}]
budget: {trials: 16}
optimizer: {kind: sobol}
)kt");
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "lines"});
  ASSERT_EQ(r.code, 0) << r.err;
  json trials = trials_json(dir / "k.db");
  ASSERT_EQ(trials.size(), 16u);
  std::map<std::string, int> stages;
  for (const auto& t : trials) {
    double x = t["params"]["x"];
    if (t["status"] == "ok") {
      EXPECT_TRUE(x >= -3 && x <= 4) << x;
      continue;
    }
    std::string stage = t["failure"]["stage"];
    std::string reason = t["failure"]["reason"];
    stages[stage]++;
    if (x > 6) { EXPECT_EQ(stage, "workload"); EXPECT_NE(reason.find("exit code 4"), std::string::npos) << reason; }
    else if (x < -3) { EXPECT_EQ(stage, "timeout"); EXPECT_NE(reason.find("timed out"), std::string::npos); }
    else { EXPECT_EQ(stage, "parse"); EXPECT_NE(reason.find("metric 'y' missing"), std::string::npos) << reason; }
  }
  EXPECT_GT(stages["workload"], 0);
  EXPECT_GT(stages["timeout"], 0);
  EXPECT_GT(stages["parse"], 0);
  // The unit printed on the metric line is kept.
  EXPECT_EQ(trials[0]["units"]["y"], "ms");
}

TEST(Docs, RecipeDocQuotesTheTestedExampleVerbatim) {
  // docs/recipes.md shows the demo recipe and black box that the tests above run.
  auto doc = kerntune::util::read_file(kt_test::source_dir() + "/docs/recipes.md");
  ASSERT_TRUE(doc);
  for (const char* f : {"recipe.yaml", "eval.py"}) {
    auto text = kerntune::util::read_file(kt_test::source_dir() + "/docs/examples/demo/" + f);
    ASSERT_TRUE(text);
    EXPECT_NE(doc->find(*text), std::string::npos) << "docs/recipes.md does not quote docs/examples/demo/" << f;
  }
}
