// Label integration: `kerntune gate` and `verify` on a bundle that holds
// Kconfig values, through the real CLI, on a stand-in kernel tree (a real
// Kconfig file; make writes a .config and an "image" that is a copy of it)
// with the command target, which is handed each run's image as
// $KERNTUNE_KERNEL_IMAGE. The measured metric is 2 when the image booted for the
// run has CONFIG_FAST=y, else 1: a side measured on another kernel than its
// own shows. The real tree and QEMU boots: tests/system/kconfig_gate_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../integration/cli.hpp"
#include "../kbuild/standin_tree.hpp"

namespace fs = std::filesystem;
using kt_test::run_cli;
using kt_test::TempDir;
using kt_test::write;
using nlohmann::json;

namespace {

const char* kProbe =
    "target:\n  kind: command\n  timeout: 20s\n  argv:\n    - sh\n    - -c\n"
    "    - 'if grep -q \"^CONFIG_FAST=y\" \"$KERNTUNE_KERNEL_IMAGE\"; then echo KERNTUNE_METRIC y 2; "
    "else echo KERNTUNE_METRIC y 1; fi'\n"
    "objectives: [{metric: y, direction: minimize}]\n";

std::string recipe(const TempDir& dir, const std::string& name, bool fast_default) {
  return "name: " + name + "\nseed: 3\n" + kt_test::standin_kernel_source(dir / "tree", dir / "cache") +
         "parameters:\n"
         "  - {name: FAST, domain: kconfig, type: bool, default: " + (fast_default ? "true" : "false") + "}\n"
         "  - {name: LEVEL, domain: kconfig, type: int, range: [1, 10], default: 3}\n"
         "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n" +
         kProbe + "budget: {trials: 1}\noptimizer: {kind: random}\n";
}

long builds(const TempDir& dir) {
  auto log = kerntune::util::read_file(dir / "tree/builds.log");
  return log ? static_cast<long>(std::count(log->begin(), log->end(), '\n')) : 0;
}

std::vector<double> values(const json& j, const char* key) { return j.at(key).get<std::vector<double>>(); }

class GateKconfig : public ::testing::Test {
 protected:
  void SetUp() override {
    kt_test::make_standin_tree(dir_.path / "tree");
    // A campaign whose one trial (the baseline) has FAST=y, exported: the
    // bundle's kernel.fragment sets CONFIG_FAST=y.
    write(dir_ / "tune.yaml", recipe(dir_, "fast", true));
    auto r = run_cli({"tune", dir_ / "tune.yaml", "--db", dir_ / "k.db", "--progress", "quiet"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    r = run_cli({"export", "--db", dir_ / "k.db", "--trial", "0", "--out", dir_ / "bundle"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    auto fragment = kerntune::util::read_file(dir_ / "bundle/kernel.fragment");
    ASSERT_TRUE(fragment);
    ASSERT_NE(fragment->find("CONFIG_FAST=y"), std::string::npos) << *fragment;
    ASSERT_EQ(builds(dir_), 1);  // the campaign built FAST=y
    write(dir_ / "gate.yaml", recipe(dir_, "gate", false));
  }
  TempDir dir_;
};

}  // namespace

TEST_F(GateKconfig, GateBuildsAndBootsTheBundlesKernelAndTheDefaultsKernel) {
  auto r = run_cli({"gate", "--recipe", dir_ / "gate.yaml", "--candidate", dir_ / "bundle", "--repeats", "3", "--json"});
  ASSERT_EQ(r.code, 1) << r.out << r.err;  // the bundle's kernel measures 2, the defaults' 1: a regression
  json j = json::parse(r.out);
  EXPECT_EQ(j["decision"], "regression");
  EXPECT_EQ(values(j, "baseline_values"), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(values(j, "candidate_values"), (std::vector<double>{2, 2, 2}));
  // FAST=n was built once for the default side; FAST=y came from the build
  // cache the campaign filled; every later run of a side was a cache hit.
  EXPECT_EQ(builds(dir_), 2);
  EXPECT_NE(r.err.find("booted the kernel built for its Kconfig values (from the build cache)"), std::string::npos)
      << r.err;
}

TEST_F(GateKconfig, VerifyReMeasuresTheBundleOnItsOwnKernel) {
  auto r = run_cli({"verify", dir_ / "bundle", "--recipe", dir_ / "gate.yaml", "--repeats", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json j = json::parse(r.out);
  ASSERT_TRUE(j["measurement"].is_object()) << r.out;
  EXPECT_EQ(values(j["measurement"], "candidate_values"), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(values(j["measurement"], "baseline_values"), (std::vector<double>{1, 1, 1}));
}

TEST_F(GateKconfig, AKernelImageSideBootsAsGivenWithoutABuild) {
  write(dir_ / "own-image", "CONFIG_FAST=y\n");
  auto r = run_cli({"gate", "--recipe", dir_ / "gate.yaml", "--baseline", dir_ / "own-image", "--candidate",
                    dir_ / "bundle", "--repeats", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;  // both sides boot a FAST=y image: a pass
  json j = json::parse(r.out);
  EXPECT_EQ(values(j, "baseline_values"), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(builds(dir_), 1) << "the image side built nothing, the bundle's kernel was in the cache";
}

TEST_F(GateKconfig, ABundleWithKconfigValuesTheRecipeCannotBuildIsBadInput) {
  write(dir_ / "plain.yaml", "name: plain\nparameters:\n"
                             "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n" +
                                 std::string(kProbe) + "budget: {trials: 1}\n");
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"gate", "--recipe", dir_ / "plain.yaml", "--candidate", dir_ / "bundle", "--repeats", "3"},
        std::vector<std::string>{"verify", dir_ / "bundle", "--recipe", dir_ / "plain.yaml", "--repeats", "3"}}) {
    auto r = run_cli(argv);
    EXPECT_EQ(r.code, 2) << argv[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("Kconfig symbols that are not kconfig parameters"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("FAST, LEVEL"), std::string::npos) << r.err;
  }
  EXPECT_EQ(builds(dir_), 1);
}
