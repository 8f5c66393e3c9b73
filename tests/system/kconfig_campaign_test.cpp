// Label kconfig (default run; `scripts/test --no-kernel-builds` skips it): a Kconfig campaign
// end to end through the real `kerntune tune`. recipes/kconfig-tiny.yaml's
// kernel (tinyconfig + what the QEMU serial console, the initramfs and the
// guest agent need) is built from Debian's linux-source-6.1 (nice -n 19,
// make -j2, ccache), booted in QEMU (TCG here) and measured, for a baseline and
// one proposal that resolve to different .config files. A proposal that
// conflicts with a dependency (TCP_CONG_BBR=y without NET) is resolved by the
// real olddefconfig and the trials store both values. Run again as another
// campaign over the same build cache: no kernel is built.
//
// Cost: the first build is cold in a clean clone (~13 min on 2 idle cores,
// far less through a warm ccache); the proposal rebuilds a few files; the
// build cache (under the build folder, emptied at the start) starts empty.
// Needs scripts/fetch-linux-source and scripts/fetch-kernel (for the default
// kernel's initramfs tools): a missing tree fails loudly.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "../kbuild/test_tree.hpp"
#include "../integration/cli.hpp"
#include "kerntune/store/store.hpp"

namespace fs = std::filesystem;
using kt_test::run_cli;
using kt_test::TempDir;
using nlohmann::json;

namespace {

// A probe that shows the booted kernel is the one built for the trial:
// printk's `time` parameter is the PRINTK_TIME the trial built (Debian's
// kernel has it on), and a busybox loop gives a measurable objective.
const char* kProbe = R"Y(name: kconfig-probe
description: PRINTK_TIME as the running kernel reports it, and a shell loop rate.
command:
  - sh
  - -c
  - |
    t=$(cat /sys/module/printk/parameters/time) || exit 3
    [ "$t" = Y ] && echo "KERNTUNE_METRIC printk_time 1" || echo "KERNTUNE_METRIC printk_time 0"
    read -r a _ < /proc/uptime
    i=0
    while [ $i -lt 20000 ]; do i=$((i + 1)); done
    read -r b _ < /proc/uptime
    awk -v a="$a" -v b="$b" 'BEGIN { d = b - a; if (d < 0.01) d = 0.01; printf "KERNTUNE_METRIC loops_per_second %.1f\n", 20000 / d }'
repeats: 2
warmup: 0
timeout: 120s
metrics:
  - {name: printk_time, kerntune_metric: true}
  - {name: loops_per_second, kerntune_metric: true, direction: maximize}
)Y";

std::string cache_dir() { return std::string(KERNTUNE_BINARY_DIR) + "/kconfig-campaign-cache"; }

/// recipes/kconfig-tiny.yaml with the test's tree, cache, workload and budget,
/// plus a parameter whose default conflicts with a dependency.
std::string make_recipe(const TempDir& dir) {
  YAML::Node r = YAML::LoadFile(std::string(KERNTUNE_SOURCE_DIR) + "/recipes/kconfig-tiny.yaml");
  r["name"] = "kconfig-ci";
  r["kernel_source"]["path"] = kerntune::kbuild::test::linux_source();
  r["kernel_source"]["cache_dir"] = cache_dir();
  r["kernel_source"]["build_timeout"] = "50m";
  YAML::Node bbr;
  bbr["name"] = "TCP_CONG_BBR";
  bbr["domain"] = "kconfig";
  bbr["type"] = "tristate";
  bbr["default"] = "y";  // needs NET, which tinyconfig lacks: olddefconfig says n
  r["parameters"].push_back(bbr);
  r["workload"] = dir / "probe.yaml";
  r["repeats"] = 2;
  r["warmup"] = 0;
  r["objectives"] = YAML::Load("[{metric: loops_per_second, direction: maximize}]");
  r["budget"]["trials"] = 2;
  r["target"]["boot_timeout"] = "180s";
  YAML::Emitter out;
  out << r;
  return out.c_str();
}

json trials(const TempDir& dir, const std::string& campaign) {
  auto r = run_cli({"trials", "--db", dir / "k.db", "--campaign", campaign, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

}  // namespace

TEST(KconfigCampaign, BuildsBootsAndMeasuresEachTrialThenHitsTheBuildCache) {
  std::string tree = kerntune::kbuild::test::linux_source();
  // A clean clone starts with an empty cache; here too, except the
  // persistent O= folder under work/ (an interrupted run resumes there).
  for (const char* sub : {"entries", "logs", "bases"}) fs::remove_all(fs::path(cache_dir()) / sub);
  TempDir dir;
  kt_test::write(dir / "probe.yaml", kProbe);
  kt_test::write(dir / "r.yaml", make_recipe(dir));
  const auto budget = std::chrono::minutes(55);
  // From the source folder: the qemu target finds its default kernel (.cache/kernel,
  // scripts/fetch-kernel) there; each trial boots the kernel built for it instead.

  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "lines", "--work-dir", dir / "work"},
                   kt_test::source_dir(), budget);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json first = trials(dir, "kconfig-ci");
  ASSERT_EQ(first.size(), 2u) << first.dump(1);

  std::set<std::string> configs;
  auto st = kerntune::store::Store::open(dir / "k.db");
  ASSERT_TRUE(st);
  auto camp = st->find_campaign("kconfig-ci");
  ASSERT_TRUE(camp && *camp);
  auto rows = st->trials((*camp)->id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  for (std::size_t i = 0; i < first.size(); ++i) {
    const json& t = first[i];
    SCOPED_TRACE(t.dump());
    ASSERT_EQ(t["status"], "ok");
    // It booted the kernel built for it, not Debian's: printk time follows PRINTK_TIME.
    bool printk_time = t["effective"]["PRINTK_TIME"].get<bool>();
    ASSERT_FALSE(t["samples"]["printk_time"].empty());
    EXPECT_EQ(t["samples"]["printk_time"][0].get<double>(), printk_time ? 1.0 : 0.0);
    EXPECT_GT(t["metrics"]["loops_per_second"].get<double>(), 0.0);
    EXPECT_EQ(t["timings"]["cache_hit"], 0.0);
    EXPECT_EQ(t["timings"]["kernel_builds"], 1.0);
    EXPECT_GT(t["timings"]["boot"].get<double>(), 0.0);
    // Proposed and effective: the dependency conflict resolved by olddefconfig.
    // The baseline proposes the default y; the optimizer's proposal may say y, m or n.
    const std::string bbr = t["params"]["TCP_CONG_BBR"].get<std::string>();
    if (t["kind"] == "baseline") {
      EXPECT_EQ(bbr, "y");
    }
    EXPECT_EQ(t["effective"]["TCP_CONG_BBR"], "n");
    if (bbr != "n") {
      ASSERT_TRUE(t["effective"].contains("kconfig_not_stuck"));
      EXPECT_EQ(t["effective"]["kconfig_not_stuck"][0], "TCP_CONG_BBR: proposed " + bbr + ", effective n");
    }
    EXPECT_EQ(t["effective"]["LOG_BUF_SHIFT"], t["params"]["LOG_BUF_SHIFT"]);

    auto arts = st->trial_artifacts((*rows)[i].id);
    ASSERT_TRUE(arts);
    std::map<std::string, std::string> by_name;
    for (const auto& a : *arts) by_name[a.name] = a.content;
    ASSERT_TRUE(by_name.contains("kernel.config"));
    ASSERT_TRUE(by_name.contains("build.log"));
    const std::string& cfg = by_name["kernel.config"];
    EXPECT_NE(cfg.find(printk_time ? "CONFIG_PRINTK_TIME=y" : "# CONFIG_PRINTK_TIME is not set"), std::string::npos);
    EXPECT_NE(cfg.find("CONFIG_LOG_BUF_SHIFT=" + std::to_string(t["params"]["LOG_BUF_SHIFT"].get<int>())),
              std::string::npos);
    EXPECT_EQ(cfg.find("CONFIG_TCP_CONG_BBR="), std::string::npos);
    configs.insert(cfg);
  }
  EXPECT_EQ(configs.size(), 2u) << "the baseline and the proposal resolve to different .config files";

  json meta = json::parse((*camp)->metadata_json);
  ASSERT_TRUE(meta.contains("kernel_source")) << meta.dump();
  auto sha = kerntune::util::read_file(tree + "/.kerntune-tarball-sha256");
  ASSERT_TRUE(sha);
  EXPECT_EQ(meta["kernel_source"]["tarball_sha256"], kerntune::util::trim(*sha));
  EXPECT_EQ(meta["kernel_source"]["dirty"], false);

  // The export bundle carries the trial's full .config.
  auto ex = run_cli({"export", "--db", dir / "k.db", "--campaign", "kconfig-ci", "--trial", "1", "--out", dir / "bundle"});
  ASSERT_EQ(ex.code, 0) << ex.err;
  auto exported = kerntune::util::read_file(dir / "bundle/kernel.config");
  ASSERT_TRUE(exported) << "bundle has no kernel.config";
  EXPECT_TRUE(configs.contains(*exported));

  // Again as another campaign over the same cache: the same proposals, no build.
  r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--name", "kconfig-ci-again", "--progress", "lines"},
              kt_test::source_dir(), std::chrono::minutes(20));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json again = trials(dir, "kconfig-ci-again");
  ASSERT_EQ(again.size(), first.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    SCOPED_TRACE(again[i].dump());
    EXPECT_EQ(again[i]["status"], "ok");
    EXPECT_EQ(again[i]["params"], first[i]["params"]);
    EXPECT_EQ(again[i]["timings"]["cache_hit"], 1.0);
    EXPECT_EQ(again[i]["timings"]["kernel_builds"], 0.0);
    EXPECT_EQ(again[i]["samples"]["printk_time"], first[i]["samples"]["printk_time"]);
  }
}
