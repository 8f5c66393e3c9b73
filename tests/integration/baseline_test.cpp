// Recipe `override:` (a shipped parameter's range, default and safety floor),
// shipped safe ranges enforced by export, `baseline: target` with the command
// target, and `workers:` beyond an ssh pool — all through the real CLI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"

using kt_test::run_cli;
using nlohmann::json;

namespace {

const std::string kVm = kt_test::source_dir() + "/search-spaces/sysctl-vm.yaml";

// A black box over two sysctl names (nothing is written anywhere): y from the
// proposed values. With KERNTUNE_BASELINE=target it reports "current" values
// taken from the environment (BOX_CURRENT_* or the built-ins).
const char* kBox = R"kt(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
if os.environ.get("KERNTUNE_BASELINE") == "target":
    if os.environ.get("BOX_SILENT") != "1":
        print("KERNTUNE_EFFECTIVE vm.swappiness " + os.environ.get("BOX_CURRENT_SWAPPINESS", "10"))
        print("KERNTUNE_EFFECTIVE vm.min_free_kbytes 67584")
    p = {"vm.swappiness": int(os.environ.get("BOX_CURRENT_SWAPPINESS", "10")), "vm.min_free_kbytes": 67584}
print("KERNTUNE_METRIC y %.6f" % ((p["vm.swappiness"] - 40) ** 2 + p["vm.min_free_kbytes"] / 1000.0))
)kt";

struct Campaign {
  kt_test::TempDir dir;
  std::string db = dir / "kt.db";
  Campaign() { kt_test::write(dir / "box.py", kBox); }
  std::string recipe(const std::string& extra, int budget = 5, const std::string& env = "") {
    std::string text = "name: bl\nseed: 3\n"
                       "search_spaces:\n  - {file: " + json(kVm).dump() +
                       ", only: [vm.swappiness, vm.min_free_kbytes]}\n" + extra +
                       "target: {kind: command, argv: [python3, box.py], timeout: 60s" +
                       (env.empty() ? "" : ", env: {" + env + "}") + "}\n"
                       "objectives: [{metric: y, direction: minimize}]\n"
                       "budget: {trials: " + std::to_string(budget) + "}\n"
                       "optimizer: {kind: random}\n";
    kt_test::write(dir / "recipe.yaml", text);
    return dir / "recipe.yaml";
  }
  kt_test::CliResult tune(const std::string& recipe_path) {
    return run_cli({"tune", recipe_path, "--db", db, "--progress", "quiet"}, dir.path.string());
  }
  json trials() {
    auto t = run_cli({"trials", "--db", db, "--json"});
    EXPECT_EQ(t.code, 0) << t.err;
    return t.code == 0 ? json::parse(t.out) : json::array();
  }
};

}  // namespace

TEST(Override, SetsRangeAndDefaultOfAShippedParameter) {
  Campaign c;
  auto r = c.tune(c.recipe("override:\n  vm.swappiness: {range: [20, 50], default: 30}\n", 8));
  ASSERT_EQ(r.code, 0) << r.err;
  json trials = c.trials();
  ASSERT_EQ(trials.size(), 8u);
  EXPECT_EQ(trials[0]["kind"], "baseline");
  EXPECT_EQ(trials[0]["params"]["vm.swappiness"], 30);     // the override's default, not the file's 60
  EXPECT_EQ(trials[0]["params"]["vm.min_free_kbytes"], 45056);
  for (const auto& t : trials) {
    int s = t["params"]["vm.swappiness"].get<int>();
    EXPECT_GE(s, 20) << t.dump();
    EXPECT_LE(s, 50) << t.dump();
    EXPECT_GE(t["params"]["vm.min_free_kbytes"].get<int>(), 45056) << "sampled below the shipped safety floor";
  }
}

TEST(Override, BadOverridesAreLocatedErrors) {
  struct Case {
    std::string yaml, message;
    int line;
  } cases[] = {
      {"override:\n  vm.swapiness: {range: [0, 100]}\n", "unknown parameter 'vm.swapiness' (did you mean 'vm.swappiness'?)", 6},
      {"override:\n  vm.swappiness: {range: [0, 50]}\n", "excludes its default 60", 6},
      {"override:\n  vm.swappiness: {range: [0, 50], default: 70}\n", "outside its range [0, 50]", 6},
      {"override:\n  vm.swappiness: {ranges: [0, 50]}\n", "ranges", 6},
      {"override:\n  vm.min_free_kbytes: {range: [1024, 131072]}\n", "leaves its safe_range [45056, 131072]", 6},
      {"override:\n  vm.min_free_kbytes: {safe_range: [1024, 131072]}\n", "allow_unsafe: true", 6},
      {"override:\n  vm.swappiness: {safe_range: [0, 100], range: [0, 100]}\n", "", 6},  // none shipped: a new one is free
      {"override:\n  vm.swappiness: {safe_range: [0, 100]}\n", "leaves its safe_range [0, 100]", 6},
      {"override: [vm.swappiness]\n", "'override' must be a mapping", 5},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.yaml);
    Campaign c;
    auto r = c.tune(c.recipe(k.yaml, 1));
    if (k.message.empty()) {
      EXPECT_EQ(r.code, 0) << r.err;
      continue;
    }
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("recipe.yaml:" + std::to_string(k.line) + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(k.message), std::string::npos) << r.err;
  }
}

TEST(Override, BelowTheSafetyFloorOnlyWhenAcknowledgedAndExportRefusesIt) {
  Campaign c;
  auto r = c.tune(c.recipe("override:\n  vm.min_free_kbytes: {range: [1024, 131072], allow_unsafe: true}\n", 8));
  ASSERT_EQ(r.code, 0) << r.err;
  int unsafe_seq = -1, safe_seq = -1;
  for (const auto& t : c.trials()) {
    int v = t["params"]["vm.min_free_kbytes"].get<int>();
    if (v < 45056 && unsafe_seq < 0) unsafe_seq = t["seq"];
    if (v >= 45056 && t["seq"] != 0 && safe_seq < 0) safe_seq = t["seq"];
  }
  ASSERT_GE(unsafe_seq, 0) << "the acknowledged range was never sampled below the floor";
  auto e = run_cli({"export", "--db", c.db, "--trial", std::to_string(unsafe_seq), "--out", c.dir / "unsafe"});
  EXPECT_EQ(e.code, 2) << e.out << e.err;
  EXPECT_NE(e.err.find("vm.min_free_kbytes"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("safe_range [45056,131072]"), std::string::npos) << e.err;
  EXPECT_FALSE(std::filesystem::exists(c.dir / "unsafe"));
  auto ok = run_cli({"export", "--db", c.db, "--trial", std::to_string(unsafe_seq), "--out", c.dir / "unsafe",
                     "--allow-unsafe"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  if (safe_seq >= 0) {
    auto s = run_cli({"export", "--db", c.db, "--trial", std::to_string(safe_seq), "--out", c.dir / "safe"});
    EXPECT_EQ(s.code, 0) << s.err;
  }
}

TEST(BaselineTarget, TrialZeroRunsTheValuesTheTargetReports) {
  Campaign c;
  auto r = c.tune(c.recipe("baseline: target\nnoise: {baseline_every: 2}\n", 6));
  ASSERT_EQ(r.code, 0) << r.err;
  json trials = c.trials();
  ASSERT_GE(trials.size(), 6u);
  const json want = {{"vm.min_free_kbytes", 67584}, {"vm.swappiness", 10}};
  EXPECT_EQ(trials[0]["kind"], "baseline");
  EXPECT_EQ(trials[0]["params"], want) << trials[0].dump();
  // y of the values read back: (10-40)^2 + 67.584, not the defaults' (60-40)^2 + 45.056.
  EXPECT_NEAR(trials[0]["metrics"]["y"].get<double>(), 967.584, 1e-6);
  int rebaselines = 0;
  for (const auto& t : trials)
    if (t["kind"] == "rebaseline") {
      ++rebaselines;
      EXPECT_EQ(t["params"], want) << "a rebaseline must run the baseline trial's values";
    }
  EXPECT_GE(rebaselines, 1);
  // `best` marks changes against the baseline read from the target.
  auto b = run_cli({"best", "--db", c.db});
  EXPECT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("changes from the baseline"), std::string::npos) << b.out;
  // Export's rollback restores what the target ran, not the file's defaults.
  ASSERT_EQ(trials[1]["kind"], "proposal");
  auto e = run_cli({"export", "--db", c.db, "--trial", "1", "--out", c.dir / "bundle"});
  ASSERT_EQ(e.code, 0) << e.err;
  auto rollback = kerntune::util::read_file(c.dir / "bundle/rollback/sysctl.d/90-kerntune.conf");
  ASSERT_TRUE(rollback) << rollback.error().message;
  EXPECT_NE(rollback->find("vm.swappiness = 10"), std::string::npos) << *rollback;
}

TEST(BaselineTarget, AValueOutsideTheRangeOrNotReportedStopsBeforeAnyTrial) {
  {
    Campaign c;
    auto r = c.tune(c.recipe("baseline: target\n", 3, "BOX_CURRENT_SWAPPINESS: \"250\""));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("recipe.yaml:5:11: baseline: target: the target runs vm.swappiness = 250"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("override:"), std::string::npos) << r.err;
    EXPECT_EQ(c.trials().size(), 0u);
  }
  {
    Campaign c;
    auto r = c.tune(c.recipe("baseline: target\n", 3, "BOX_SILENT: \"1\""));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("reported no current value of 'vm.swappiness'"), std::string::npos) << r.err;
    EXPECT_EQ(c.trials().size(), 0u);
  }
  {
    Campaign c;
    auto r = c.tune(c.recipe("baseline: targets\n", 3));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("did you mean 'target'?"), std::string::npos) << r.err;
  }
}

TEST(SshPool, MoreWorkersThanHostsIsALocatedError) {
  kt_test::TempDir dir;
  kt_test::write(dir / "key", "not a key\n");
  kt_test::write(dir / "recipe.yaml",
                 "name: pool\n"
                 "parameters:\n  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                 "target:\n  kind: ssh\n  hosts:\n    - {name: a, address: 127.0.0.1, port: 1, key: key}\n"
                 "    - {name: b, address: 127.0.0.1, port: 2, key: key}\n"
                 "objectives: [{metric: y, direction: minimize}]\n"
                 "budget: {trials: 3}\n"
                 "workers: 3\n");
  auto r = run_cli({"tune", dir / "recipe.yaml", "--db", dir / "kt.db", "--progress", "quiet"}, dir.path.string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("recipe.yaml:11:10: workers: 3 but the ssh pool has 2 target hosts"), std::string::npos) << r.err;
}
