#pragma once
// A real campaign on the `command` target whose space has the runtime domains
// (sysctl, sysfs, cmdline, generic), for export and gate tests. Kconfig
// parameters need a kernel build per trial (kernel_source:), so the fragment
// is tested on its own (fragment_merge_test.cpp, label kconfig).
#include <gtest/gtest.h>

#include <string>

#include "../integration/cli.hpp"

namespace kt_test {

/// The black box: runtime = 100 s, ×EFFECT when `slow` is true, ×(1 − 0.3·swappiness/100),
/// times lognormal noise of sigma NOISE; the random stream is seeded from SEED
/// and the trial number, so a run is reproducible.
inline const char* kBoxPy = R"PY(import json, os, random
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
rng = random.Random(int(os.environ.get("SEED", "1")) * 1000003 + int(os.environ.get("KERNTUNE_TRIAL", "0")))
noise = float(os.environ.get("NOISE", "0.01"))
effect = float(os.environ.get("EFFECT", "1.3"))
v = 100.0 * (effect if p.get("slow") else 1.0) * (1 - 0.3 * p.get("vm.swappiness", 60) / 100.0)
v *= rng.lognormvariate(0, noise)
print(f"KERNTUNE_METRIC runtime {v:.6f} s")
)PY";

inline std::string bundle_recipe(const std::string& name, const std::string& noise = "0.01",
                                 const std::string& seed = "1", const std::string& effect = "1.3") {
  return "name: " + name + R"Y(
seed: 5
parameters:
  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 10}
  - {name: kernel.sched_autogroup_enabled, domain: sysctl, type: bool, default: true}
  - {name: kernel/mm/transparent_hugepage/enabled, domain: sysfs, type: choice, values: [always, madvise, never], default: always}
  - {name: preempt, domain: cmdline, type: choice, values: [none, voluntary, full], default: voluntary}
  - {name: nosmt, domain: cmdline, type: bool, default: false}
  - {name: slow, domain: generic, type: bool, default: false}
target:
  kind: command
  argv: [python3, box.py]
  timeout: 30s
  env: {NOISE: ")Y" + noise + "\", SEED: \"" + seed + "\", EFFECT: \"" + effect + R"Y("}
objectives:
  - {metric: runtime, direction: minimize}
budget:
  trials: 8
optimizer: {kind: random}
noise: {confirm_top: 1, confirm_rounds: 3}
)Y";
}

/// Runs the campaign once into dir/kt.db (recipe dir/recipe.yaml).
inline void make_campaign(const TempDir& dir, const std::string& name = "bundles") {
  write(dir / "box.py", kBoxPy);
  write(dir / "recipe.yaml", bundle_recipe(name));
  auto r = run_cli({"tune", dir / "recipe.yaml", "--db", dir / "kt.db", "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
}

/// The `trials --json` array.
inline nlohmann::json trials_json(const TempDir& dir) {
  auto r = run_cli({"trials", "--db", dir / "kt.db", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

}  // namespace kt_test
