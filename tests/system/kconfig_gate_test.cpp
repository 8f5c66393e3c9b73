// Label kconfig (default run; `scripts/test --no-kernel-builds` skips it):
// `kerntune gate` and `verify` on a bundle with a Kconfig fragment build
// that kernel from Debian's linux-source-6.1 through the kernel stage and its
// build cache, boot it in QEMU (TCG here) for that side, and measure it.
//
// A campaign of one trial (recipes/kconfig-tiny.yaml, PRINTK_TIME=y) is
// exported; the gate's recipe has PRINTK_TIME=n by default. The probe reports
// `kernel_marker` = 1 + (printk's `time` parameter as the running kernel has
// it), so each side shows which kernel booted for it: 1 for the defaults'
// kernel (built by the gate), 2 for the bundle's (from the cache the campaign
// filled). verify re-measures with every kernel from the cache. A plain gate
// (Debian's kernel on both sides, no kernel_source) runs beside it with the
// same repeats: the test prints the ratios of the gate's wall times.
//
// Cost: the build folder and ccache are the kconfig campaign test's
// (BINARY_DIR/kconfig-campaign-cache; its entries are emptied at the start,
// the O= folder kept), so in a warm tree each narrow symbol flip rebuilds a
// few files; cold, the first build is ~13 min on 2 cores.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../integration/cli.hpp"
#include "../kbuild/test_tree.hpp"
#include "kerntune/targets/qemu_target.hpp"

namespace fs = std::filesystem;
using kt_test::run_cli;
using kt_test::TempDir;
using nlohmann::json;

namespace {

const char* kProbe = R"Y(name: kernel-marker
description: 1 + printk's time parameter of the running kernel (PRINTK_TIME).
command:
  - sh
  - -c
  - |
    t=$(cat /sys/module/printk/parameters/time) || exit 3
    [ "$t" = Y ] && echo "KERNTUNE_METRIC kernel_marker 2" || echo "KERNTUNE_METRIC kernel_marker 1"
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: kernel_marker, kerntune_metric: true}
)Y";

std::string cache_dir() { return std::string(KERNTUNE_BINARY_DIR) + "/kconfig-campaign-cache"; }

/// recipes/kconfig-tiny.yaml with the test's tree, cache and probe; PRINTK_TIME's default as given.
std::string kconfig_recipe(const TempDir& dir, const std::string& name, bool printk_time) {
  YAML::Node r = YAML::LoadFile(std::string(KERNTUNE_SOURCE_DIR) + "/recipes/kconfig-tiny.yaml");
  r["name"] = name;
  r["kernel_source"]["path"] = kerntune::kbuild::test::linux_source();
  r["kernel_source"]["cache_dir"] = cache_dir();
  r["kernel_source"]["build_timeout"] = "50m";
  for (auto p : r["parameters"])
    if (p["name"].Scalar() == "PRINTK_TIME") p["default"] = printk_time;
  r["workload"] = dir / "probe.yaml";
  r["repeats"] = 1;
  r["warmup"] = 0;
  r["objectives"] = YAML::Load("[{metric: kernel_marker, direction: minimize}]");
  r["budget"]["trials"] = 1;
  r["noise"]["confirm_top"] = 0;
  r["target"]["boot_timeout"] = "180s";
  YAML::Emitter out;
  out << r;
  return out.c_str();
}

/// The same target and probe on Debian's kernel: no kernel_source, no Kconfig.
std::string plain_recipe(const TempDir& dir) {
  return "name: plain\nparameters:\n"
         "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
         "target: {kind: qemu, memory: 256M, cpus: 1, boot_timeout: 180s}\n"
         "workload: " + dir / "probe.yaml" + "\nrepeats: 1\nwarmup: 0\n"
         "objectives: [{metric: kernel_marker, direction: minimize}]\nbudget: {trials: 1}\n";
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(KconfigGate, GateAndVerifyBuildAndBootTheBundlesKernel) {
  auto debian = kerntune::targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(debian && fs::exists(*debian)) << "no kernel image: run scripts/fetch-kernel";
  for (const char* sub : {"entries", "logs", "bases"}) fs::remove_all(fs::path(cache_dir()) / sub);
  TempDir dir;
  kt_test::write(dir / "probe.yaml", kProbe);
  kt_test::write(dir / "tune.yaml", kconfig_recipe(dir, "printk-time", true));
  kt_test::write(dir / "gate.yaml", kconfig_recipe(dir, "gate", false));
  kt_test::write(dir / "plain.yaml", plain_recipe(dir));
  const std::string src = kt_test::source_dir();

  // The bundle: a one-trial campaign with PRINTK_TIME=y (its kernel lands in the build cache).
  auto r = run_cli({"tune", dir / "tune.yaml", "--db", dir / "k.db", "--progress", "lines"}, src, std::chrono::minutes(55));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  r = run_cli({"export", "--db", dir / "k.db", "--trial", "0", "--out", dir / "bundle"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto fragment = kerntune::util::read_file(dir / "bundle/kernel.fragment");
  ASSERT_TRUE(fragment);
  ASSERT_NE(fragment->find("CONFIG_PRINTK_TIME=y"), std::string::npos) << *fragment;

  // The gate builds the defaults' kernel (PRINTK_TIME=n), takes the bundle's from the cache, boots each for its side.
  r = run_cli({"gate", "--recipe", dir / "gate.yaml", "--candidate", dir / "bundle", "--repeats", "3", "--json"}, src,
              std::chrono::minutes(55));
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  json cold = json::parse(r.out);
  EXPECT_EQ(cold["decision"], "regression");
  EXPECT_EQ(cold["baseline_values"], json({1, 1, 1})) << "the defaults' side booted a PRINTK_TIME=y kernel";
  EXPECT_EQ(cold["candidate_values"], json({2, 2, 2})) << "the bundle's side did not boot its PRINTK_TIME=y kernel";
  EXPECT_EQ(count(r.err, "booted the kernel built for its Kconfig values (built in"), 1u) << r.err;
  EXPECT_EQ(count(r.err, "booted the kernel built for its Kconfig values (from the build cache)"), 5u) << r.err;

  // verify: the same two kernels, both from the cache now.
  r = run_cli({"verify", dir / "bundle", "--recipe", dir / "gate.yaml", "--repeats", "3", "--json"}, src,
              std::chrono::minutes(20));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json warm = json::parse(r.out)["measurement"];
  EXPECT_EQ(warm["candidate_values"], json({2, 2, 2}));
  EXPECT_EQ(warm["baseline_values"], json({1, 1, 1}));
  EXPECT_EQ(count(r.err, "(built in"), 0u) << r.err;
  EXPECT_EQ(count(r.err, "(from the build cache)"), 6u) << r.err;

  // A plain gate of the same size: Debian's kernel on both sides (printk time on: 2 and 2).
  r = run_cli({"gate", "--recipe", dir / "plain.yaml", "--candidate", *debian, "--repeats", "3", "--json"}, src,
              std::chrono::minutes(20));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json plain = json::parse(r.out);
  EXPECT_EQ(plain["baseline_values"], json({2, 2, 2}));
  const double p = plain["seconds"].get<double>();
  std::cout << "[ timing ] gate wall time over a plain gate (3 pairs, TCG): with one kernel build "
            << cold["seconds"].get<double>() / p << ", all kernels from the cache (verify) "
            << warm["seconds"].get<double>() / p << "\n";
}
