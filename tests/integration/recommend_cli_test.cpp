// The recommendation through the real CLI (issue: a limit on an outcome must
// be respected by best and export; two objectives give a front).
#include <gtest/gtest.h>

#include "cli.hpp"

using kt_test::run_cli;
using nlohmann::json;

namespace {

// Low y needs high mem: the unconstrained optimum (x = 10) has mem = 550.
constexpr const char* kBlackBox = R"py(import json, os, random
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
x = p["x"]
noise = random.lognormvariate(0, 0.03)  # fresh each run: confirmation rounds differ
print(f"KERNTUNE_METRIC y {((10 - x) ** 2 + 1) * noise:.6f}")
print(f"KERNTUNE_METRIC mem {100 + 45 * x:.6f}")
print(f"KERNTUNE_METRIC t {1 + x:.6f}")
)py";

std::string recipe(const std::string& extra_objective, const std::string& noise) {
  return "name: limits\nseed: 5\n"
         "parameters:\n  - {name: x, domain: generic, type: real, range: [0.0, 10.0], default: 0.0}\n"
         "target: {kind: command, argv: [python3, bb.py], timeout: 30s}\n"
         "objectives:\n  - {metric: y, direction: minimize}\n  - {metric: mem, limit: \"<= 300\"}\n" +
         extra_objective + "budget: {trials: 14}\n" + noise;
}

}  // namespace

TEST(RecommendCli, BestAndExportKeepTheOutcomeLimit) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kBlackBox);
  kt_test::write(dir / "r.yaml", recipe("", ""));
  std::string db = dir / "kt.db";
  auto r = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  // The search did visit configurations that break the limit.
  auto all = json::parse(run_cli({"trials", "--db", db, "--json"}).out);
  int broken = 0;
  double best_y_anywhere = 1e300;
  for (const auto& t : all) {
    broken += t["metrics"]["mem"].get<double>() > 300;
    best_y_anywhere = std::min(best_y_anywhere, t["metrics"]["y"].get<double>());
  }
  ASSERT_GT(broken, 0);
  auto b = run_cli({"best", "--db", db, "--json"});
  ASSERT_EQ(b.code, 0) << b.err;
  json best = json::parse(b.out);
  EXPECT_LE(best["metrics"]["mem"].get<double>(), 300.0) << best.dump(1);
  EXPECT_GT(best["metrics"]["y"].get<double>(), best_y_anywhere);  // the infeasible raw optimum is not picked
  EXPECT_EQ(best["recommendation"]["infeasible"], broken);
  EXPECT_FALSE(best["improvement"]["confirmed"].get<bool>());
  auto text = run_cli({"best", "--db", db});
  EXPECT_NE(text.out.find("UNCONFIRMED"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("break a limit and are never recommended"), std::string::npos) << text.out;
  // export without --trial takes the same pick.
  auto e = run_cli({"export", "--db", db, "--out", dir / "bundle", "--json"});
  ASSERT_EQ(e.code, 0) << e.err;
  json manifest = json::parse(e.out);
  EXPECT_EQ(manifest["trials"]["seq"], best["seq"]) << e.out.substr(0, 600);
}

TEST(RecommendCli, TwoObjectivesListTheFeasibleFrontAndConfirmOverRounds) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kBlackBox);
  kt_test::write(dir / "r.yaml", recipe("  - {metric: t, direction: minimize}\n", "noise: {confirm_top: 1, confirm_rounds: 3}\n"));
  std::string db = dir / "kt.db";
  auto r = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  json best = json::parse(run_cli({"best", "--db", db, "--json"}).out);
  ASSERT_TRUE(best["front"].is_array());
  ASSERT_GE(best["front"].size(), 2u) << best.dump(1);
  bool pick_on_front = false;
  for (const auto& f : best["front"]) {
    EXPECT_TRUE(f["feasible"].get<bool>());
    EXPECT_LE(f["limits"][0]["value"].get<double>(), 300.0);
    pick_on_front = pick_on_front || f["seq"] == best["seq"];
  }
  EXPECT_TRUE(pick_on_front);
  // Confirmed on 3 fresh rounds: the interval says so and is not degenerate.
  const auto& imp = best["improvement"];
  ASSERT_TRUE(imp.is_object()) << best.dump(1);
  EXPECT_TRUE(imp["confirmed"].get<bool>());
  EXPECT_EQ(imp["rounds"], 3);
  EXPECT_LT(imp["ci95"][0].get<double>(), imp["ratio"].get<double>());
  EXPECT_GT(imp["ci95"][1].get<double>(), imp["ratio"].get<double>());
  auto text = run_cli({"best", "--db", db});
  EXPECT_NE(text.out.find("over 3 independent rounds"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("feasible Pareto front"), std::string::npos) << text.out;
}

namespace {

// rps falls with x; a limit of 95% of the baseline's rps allows x <= 2.5.
// With FAIL_FIRST set, the first run (the baseline trial) fails.
constexpr const char* kRelativeBox = R"py(import json, os, sys
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
x = p["x"]
mark = "first-run-done"
if os.environ.get("FAIL_FIRST") and not os.path.exists(mark):
    open(mark, "w").close()
    sys.exit(3)
print(f"KERNTUNE_METRIC y {(10 - x) ** 2 + 1:.6f}")
print(f"KERNTUNE_METRIC rps {1000 - 20 * x:.6f}")
)py";

std::string relative_recipe(bool fail_first) {
  return std::string("name: relative\nseed: 3\n"
                     "parameters:\n  - {name: x, domain: generic, type: real, range: [0.0, 10.0], default: 0.0}\n"
                     "target: {kind: command, argv: [python3, bb.py], timeout: 30s") +
         (fail_first ? ", env: {FAIL_FIRST: \"1\"}" : "") +
         "}\nobjectives:\n  - {metric: y, direction: minimize}\n  - {metric: rps, limit: \">= 95% baseline\"}\n"
         "budget: {trials: 12}\n";
}

}  // namespace

TEST(RecommendCli, RelativeLimitIsAFractionOfTheBaselineMeasuredInTheCampaign) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kRelativeBox);
  kt_test::write(dir / "r.yaml", relative_recipe(false));
  std::string db = dir / "kt.db";
  auto r = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  json best = json::parse(run_cli({"best", "--db", db, "--json"}).out);
  const json& lim = best["recommendation"]["chosen"]["limits"][0];
  EXPECT_DOUBLE_EQ(lim["relative"].get<double>(), 0.95) << lim.dump();
  EXPECT_DOUBLE_EQ(lim["baseline"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(lim["limit"].get<double>(), 950.0);
  EXPECT_GE(best["metrics"]["rps"].get<double>(), 950.0) << best.dump(1);
  EXPECT_GT(best["params"]["x"].get<double>(), 0.0);  // it moved towards the bound (the defaults are x = 0)
  auto text = run_cli({"best", "--db", db});
  EXPECT_NE(text.out.find("(95% of the baseline's 1000)"), std::string::npos) << text.out;
}

TEST(RecommendCli, AFailedBaselineIsMeasuredAgainWhenALimitIsRelativeToIt) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kRelativeBox);
  kt_test::write(dir / "r.yaml", relative_recipe(true));
  std::string db = dir / "kt.db";
  auto r = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  auto all = json::parse(run_cli({"trials", "--db", db, "--json"}).out);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[0]["kind"], "baseline");
  EXPECT_EQ(all[0]["status"], "failed");
  EXPECT_EQ(all[1]["kind"], "rebaseline");
  EXPECT_EQ(all[1]["status"], "ok");
  auto b = run_cli({"best", "--db", db, "--json"});
  ASSERT_EQ(b.code, 0) << b.err << b.out;
  json best = json::parse(b.out);
  EXPECT_DOUBLE_EQ(best["recommendation"]["chosen"]["limits"][0]["baseline"].get<double>(), 1000.0);
  EXPECT_GE(best["metrics"]["rps"].get<double>(), 950.0);
}
