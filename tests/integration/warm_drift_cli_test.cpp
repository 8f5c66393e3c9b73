// Warm start across mismatched spaces and drift correction per metric, through
// the real kerntune binary with the command target and a real store.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "cli.hpp"
#include "kerntune/store/store.hpp"

using kt_test::run_cli;
using nlohmann::json;

namespace {

json trials_json(const std::string& db) {
  auto r = run_cli({"trials", "--db", db, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out);
}

std::vector<std::string> events(const std::string& db, const std::string& campaign) {
  auto store = kerntune::store::Store::open(db, {.create = false, .read_only = true});
  EXPECT_TRUE(store) << store.error().message;
  auto row = store->find_campaign(campaign);
  EXPECT_TRUE(row && *row);
  std::vector<std::string> out;
  auto rows = store->events((*row)->id);
  EXPECT_TRUE(rows);
  for (const auto& e : *rows) out.push_back(e.message);
  return out;
}

// y is smallest at x = 2, extra = 0 (the old space's extra knob), n = 4.
const char* kEval = R"py(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
y = (p["x"] - 2.0) ** 2 + p.get("extra", 0) + abs(p.get("n", 4) - 4) / 4.0
print(f"KERNTUNE_METRIC y {y:.9g}")
)py";

// The prior campaign: x wider than the new space, and an extra knob.
const char* kPrior = R"(name: old
seed: 11
parameters:
  - {name: x, domain: generic, type: real, range: [-10.0, 10.0], default: 0.0}
  - {name: extra, domain: generic, type: int, range: [0, 3], default: 0}
target: {kind: command, argv: [python3, eval.py], timeout: 30s}
objectives: [{metric: y, direction: minimize}]
optimizer: {kind: random}
budget: {trials: 16}
)";

// The new campaign: x narrower, no extra, a new parameter n.
const char* kNew = R"(name: new
seed: 5
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}
  - {name: n, domain: generic, type: int, range: [1, 8], default: 4}
target: {kind: command, argv: [python3, eval.py], timeout: 30s}
objectives: [{metric: METRIC, direction: minimize}]
budget: {trials: 4}
warm_start: {db: old.db, campaign: old}
)";

std::string with_metric(const std::string& metric) {
  std::string s = kNew;
  return s.replace(s.find("METRIC"), 6, metric);
}

}  // namespace

TEST(WarmStartCli, MismatchedSpacesUseOnlyTheTrialsThatFitAndSaySoInTheLogAndEvents) {
  kt_test::TempDir dir;
  kt_test::write(dir / "eval.py", kEval);
  kt_test::write(dir / "old.yaml", kPrior);
  kt_test::write(dir / "new.yaml", with_metric("y"));
  auto prior = run_cli({"tune", dir / "old.yaml", "--db", dir / "old.db", "--progress", "quiet"});
  ASSERT_EQ(prior.code, 0) << prior.err;

  // The expected counts, from the stored prior trials and the documented rule:
  // extra at a non-default value cannot be represented; x below -5 is outside.
  int used = 0, extra = 0, outside = 0, total = 0;
  for (const auto& t : trials_json(dir / "old.db")) {
    if (t["kind"] != "baseline" && t["kind"] != "proposal") continue;
    ++total;
    ASSERT_EQ(t["status"], "ok") << t.dump();
    if (t["params"]["extra"] != 0) ++extra;
    else if (t["params"]["x"].get<double>() < -5.0) ++outside;
    else ++used;
  }
  ASSERT_EQ(total, 16);
  ASSERT_GT(extra, 0);  // seed 11 draws some of each kind
  ASSERT_GT(outside, 0);
  ASSERT_GT(used, 2);

  auto r = run_cli({"tune", dir / "new.yaml", "--db", dir / "new.db", "--progress", "lines"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string line = fmt::format(
      "warm start: {} of 16 trials of campaign 'old' ({}) used; {} dropped: 'extra' (not in this space) at a "
      "non-default value ({}), 'x' outside this space's range or type ({}); taken at their defaults (not in the "
      "prior campaign): n",
      used, dir / "old.db", extra + outside, extra, outside);
  EXPECT_NE(r.err.find(line), std::string::npos) << "expected: " << line << "\n" << r.err;
  auto ev = events(dir / "new.db", "new");
  EXPECT_EQ(std::count(ev.begin(), ev.end(), line), 1) << fmt::format("{}", fmt::join(ev, "\n"));
  EXPECT_EQ(trials_json(dir / "new.db").size(), 4u);

  // Resuming logs the line again but stores it once.
  auto again = run_cli({"tune", dir / "new.yaml", "--db", dir / "new.db", "--progress", "quiet", "--trials", "5"});
  ASSERT_EQ(again.code, 0) << again.err;
  ev = events(dir / "new.db", "new");
  EXPECT_EQ(std::count(ev.begin(), ev.end(), line), 1);
}

TEST(ResumeCli, StoredTrialsOutsideANarrowedSpaceAreSkippedAndNamedOnceNeverTheDefaults) {
  kt_test::TempDir dir;
  kt_test::write(dir / "eval.py", kEval);
  kt_test::write(dir / "old.yaml", kPrior);
  ASSERT_EQ(run_cli({"tune", dir / "old.yaml", "--db", dir / "old.db", "--progress", "quiet"}).code, 0);
  // The same campaign resumed with x narrowed to [-5, 10]: the stored trials
  // below -5 are no point of the space any more.
  std::vector<int> outside;
  for (const auto& t : trials_json(dir / "old.db"))
    if (t["params"]["x"].get<double>() < -5.0) outside.push_back(t["seq"].get<int>());
  ASSERT_FALSE(outside.empty());  // seed 11 draws some
  std::string narrowed = kPrior;
  narrowed.replace(narrowed.find("[-10.0, 10.0]"), 13, "[-5.0, 10.0]");
  kt_test::write(dir / "old.yaml", narrowed);
  auto r = run_cli({"tune", dir / "old.yaml", "--db", dir / "old.db", "--progress", "quiet", "--trials", "18",
                    "--allow-recipe-change"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string named = fmt::format("{} stored trial(s) (seq {}) have an assignment that is not a point of this recipe's "
                                        "search space", outside.size(), fmt::join(outside, ", "));
  EXPECT_NE(r.err.find(named), std::string::npos) << "expected: " << named << "\n" << r.err;
  EXPECT_EQ(r.err.find("stored trial(s)"), r.err.rfind("stored trial(s)")) << "warned more than once:\n" << r.err;
  auto ev = events(dir / "old.db", "old");
  EXPECT_EQ(std::count_if(ev.begin(), ev.end(), [&](const std::string& e) { return e.find(named) == 0; }), 1)
      << fmt::format("{}", fmt::join(ev, "\n"));
  // They still count toward the budget: two new trials, not more.
  EXPECT_EQ(trials_json(dir / "old.db").size(), 18u);
}

TEST(WarmStartCli, APriorWithoutTheObjectiveMetricIsRefusedAtTheWarmStartKey) {
  kt_test::TempDir dir;
  kt_test::write(dir / "eval.py", std::string(kEval) + "print('KERNTUNE_METRIC z 1')\n");
  kt_test::write(dir / "old.yaml", kPrior);
  kt_test::write(dir / "new.yaml", with_metric("z"));
  ASSERT_EQ(run_cli({"tune", dir / "old.yaml", "--db", dir / "old.db", "--progress", "quiet"}).code, 0);
  auto r = run_cli({"tune", dir / "new.yaml", "--db", dir / "new.db", "--progress", "quiet"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(dir / "new.yaml" + ":9:13: warm_start: campaign 'old' has no objective 'z' (its objectives: y)"),
            std::string::npos)
      << r.err;
  // Refused before the campaign was created.
  auto t = run_cli({"trials", "--db", dir / "new.db", "--json"});
  EXPECT_NE(t.code, 0) << t.out;
}

namespace {

// Every run counts itself in runs.txt: the k-th run's t is slowed by 1.1^k
// (a timing on a host that gets busier), w shrinks by 0.95^k, mem grows by 1%
// of its size per run but is a limit-only metric (drift: none by default).
const char* kDriftEval = R"py(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
k = int(open("runs.txt").read()) if os.path.exists("runs.txt") else 0
open("runs.txt", "w").write(str(k + 1))
x = p["x"]
print(f"KERNTUNE_METRIC t {(1.0 + (x - 1.0) ** 2) * 1.1 ** k:.12g}")
print(f"KERNTUNE_METRIC w {(11.0 - x) * 0.95 ** k:.12g}")
print(f"KERNTUNE_METRIC mem {100.0 * (1.0 + 0.01 * k) + x:.12g}")
)py";

const char* kDriftRecipe = R"(name: drift
seed: 2
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 5.0], default: 0.0}
target: {kind: command, argv: [python3, eval.py], timeout: 30s}
objectives:
  - {metric: t, direction: minimize}
  - {metric: w, limit: ">= 0", drift: auto}
  - {metric: mem, limit: "<= 1000"}
optimizer: {kind: sobol}
noise: {baseline_every: 2}
budget: {trials: 7}
)";

std::vector<double> numbers(const std::string& list) {
  std::vector<double> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stod(item));
  return out;
}

void expect_near(double seen, double want, const std::string& what) {
  EXPECT_NEAR(seen, want, 1e-5 * std::max(1.0, std::abs(want))) << what;
}

}  // namespace

TEST(DriftCli, EachMetricIsCorrectedByItsOwnDriftOrNotAtAll) {
  kt_test::TempDir dir;
  kt_test::write(dir / "eval.py", kDriftEval);
  kt_test::write(dir / "r.yaml", kDriftRecipe);
  auto r = run_cli({"-v", "tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "lines"});
  ASSERT_EQ(r.code, 0) << r.err;

  // What the optimizer was told, per trial, from the --verbose log.
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> seen;
  std::regex re(R"(optimizer sees trial (\d+) \((\w+)\): objectives \[([^\]]*)\], constraints \[([^\]]*)\])");
  for (std::sregex_iterator it(r.err.begin(), r.err.end(), re), end; it != end; ++it)
    seen[std::stoi((*it)[1])] = {numbers((*it)[3]), numbers((*it)[4])};

  json trials = trials_json(dir / "k.db");
  const json* first = nullptr;
  const json* latest = nullptr;
  int corrected = 0;
  for (const auto& t : trials) {
    const auto& m = t["metrics"];
    if (t["kind"] == "baseline" || t["kind"] == "rebaseline") {
      if (!first) first = &t;
      latest = &t;
      EXPECT_FALSE(seen.contains(t["seq"].get<int>()) && t["kind"] == "rebaseline");
      continue;
    }
    ASSERT_EQ(t["kind"], "proposal");
    const int seq = t["seq"];
    ASSERT_TRUE(seen.contains(seq)) << "no verbose line for trial " << seq << "\n" << r.err;
    // Each metric's own ratio: nearest earlier baseline measurement over the first.
    double ft = (*latest)["metrics"]["t"].get<double>() / (*first)["metrics"]["t"].get<double>();
    double fw = (*latest)["metrics"]["w"].get<double>() / (*first)["metrics"]["w"].get<double>();
    const auto& [objectives, constraints] = seen.at(seq);
    ASSERT_EQ(objectives.size(), 1u);
    ASSERT_EQ(constraints.size(), 2u);
    expect_near(objectives[0], m["t"].get<double>() / ft, fmt::format("t of trial {}", seq));
    expect_near(constraints[0], 0.0 - m["w"].get<double>() / fw, fmt::format("w of trial {}", seq));  // >= 0
    expect_near(constraints[1], m["mem"].get<double>() - 1000.0, fmt::format("mem of trial {}", seq));  // raw
    if (latest != first) {
      ++corrected;
      EXPECT_GT(ft, 1.3);  // the two drifts differ: one metric's ratio never stands in for another's
      EXPECT_LT(fw, 0.86);
      EXPECT_NE(r.err.find(fmt::format("optimizer sees trial {} (proposal)", seq)), std::string::npos);
    }
  }
  EXPECT_GE(corrected, 4);  // proposals after the re-baselines at seq 3 and 6
  // The baseline measurements really drifted (the black box counts its runs).
  EXPECT_GT((*latest)["metrics"]["mem"].get<double>(), (*first)["metrics"]["mem"].get<double>() * 1.05);
}

TEST(DriftCli, AnUnknownDriftModeIsALocatedError) {
  kt_test::TempDir dir;
  std::string text = kDriftRecipe;
  text.replace(text.find("drift: auto"), 11, "drift: sometimes");
  kt_test::write(dir / "r.yaml", text);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(":8:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'drift' is 'sometimes': use auto"), std::string::npos) << r.err;
}
