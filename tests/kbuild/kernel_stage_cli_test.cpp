// Label integration: Kconfig campaigns through the real `kerntune tune` on a
// small stand-in kernel tree (a real Kconfig file parsed by kerntune, and a
// Makefile whose tinyconfig/olddefconfig/bzImage targets write real files and
// fail like a compiler when BREAKS_BUILD=y), with the command target. What the
// campaign stores per trial (proposed and effective values, the build log and
// .config artifacts, build timings, build failures as failed trials), the
// build cache across campaigns, the kernel_source metadata (a dirty git tree
// recorded and warned about), and bad input refused with exit code 2 before a
// campaign exists. The real tree, real builds and QEMU boots:
// tests/system/kconfig_campaign_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../integration/cli.hpp"
#include "kerntune/store/store.hpp"

namespace fs = std::filesystem;
using kt_test::run_cli;
using kt_test::TempDir;
using kt_test::write;
using nlohmann::json;

namespace {

const char* kKconfig = R"K(mainmenu "Stand-in kernel $(KERNELVERSION)"
config BASE
	bool "base"
	default y
config FAST
	bool "fast path"
config BREAKS_BUILD
	bool "a symbol whose build fails"
	depends on BASE
config MISSING
	bool
config NEEDS_MISSING
	bool "needs MISSING"
	depends on MISSING
config LEVEL
	int "level"
	range 1 10
	default 3
)K";

// Recipe lines need tabs; O= is the out-of-tree folder kerntune passes.
const char* kMakefile =
    "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -standin\n"
    ".PHONY: tinyconfig olddefconfig bzImage\n"
    "tinyconfig:\n\tmkdir -p $(O)\n\tprintf 'CONFIG_BASE=y\\nCONFIG_LEVEL=3\\n' > $(O)/.config\n"
    // the stand-in's dependency resolution: NEEDS_MISSING cannot stay on
    "olddefconfig:\n\tsed -i 's/^CONFIG_NEEDS_MISSING=y/# CONFIG_NEEDS_MISSING is not set/' $(O)/.config\n"
    "bzImage:\n"
    "\t@if grep -q '^CONFIG_BREAKS_BUILD=y' $(O)/.config; then "
    "echo 'kernel/standin.c:1:1: error: BREAKS_BUILD cannot build'; exit 2; fi\n"
    "\tmkdir -p $(O)/arch/x86/boot\n\tcp $(O)/.config $(O)/arch/x86/boot/bzImage\n";

void make_tree(const fs::path& d) {
  fs::create_directories(d / "scripts" / "kconfig");
  write((d / "Kconfig").string(), kKconfig);
  write((d / "Makefile").string(), kMakefile);
}

std::string recipe(const std::string& source_lines, const std::string& params, int trials = 6) {
  return "name: standin\nseed: 11\nkernel_source:\n" + source_lines +
         "  base: tinyconfig\n  cache_dir: cache\n  jobs: 1\n  build_timeout: 60s\n"
         "parameters:\n" +
         params +
         "target: {kind: command, argv: [sh, -c, 'echo KERNTUNE_METRIC y 1'], timeout: 20s}\n"
         "objectives: [{metric: y, direction: minimize}]\n"
         "budget: {trials: " +
         std::to_string(trials) + "}\noptimizer: {kind: random}\n";
}

const char* kParams =
    "  - {name: FAST, domain: kconfig, type: bool, default: false}\n"
    "  - {name: LEVEL, domain: kconfig, type: int, range: [1, 10], default: 3}\n"
    "  - {name: NEEDS_MISSING, domain: kconfig, type: bool, default: true}\n"
    "  - {name: BREAKS_BUILD, domain: kconfig, type: bool, default: false}\n";

json trials(const TempDir& dir, const std::string& campaign) {
  auto r = run_cli({"trials", "--db", dir / "k.db", "--campaign", campaign, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

json metadata(const TempDir& dir, const std::string& campaign) {
  auto st = kerntune::store::Store::open(dir / "k.db");
  EXPECT_TRUE(st);
  auto c = st->find_campaign(campaign);
  EXPECT_TRUE(c && *c);
  return json::parse((*c)->metadata_json);
}

int run_git(const fs::path& repo, std::vector<std::string> args, std::string* out = nullptr) {
  kerntune::util::RunOptions o;
  o.argv = {"git", "-C", repo.string(), "-c", "user.name=kt", "-c", "user.email=kt@example.org"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  auto r = kerntune::util::run(o);
  if (r && out) *out = kerntune::util::trim(r->out);
  return r ? r->exit_code : -1;
}

}  // namespace

TEST(KernelStageCli, EachTrialBuildsItsKernelAndStoresProposedAndEffective) {
  TempDir dir;
  make_tree(dir.path / "tree");
  write(dir / "r.yaml", recipe("  path: tree\n", kParams));
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(r.code, 0) << r.err;
  json ts = trials(dir, "standin");
  ASSERT_EQ(ts.size(), 6u) << ts.dump(1);
  EXPECT_EQ(ts[0]["params"]["NEEDS_MISSING"], true) << "the baseline proposes the default";
  int failed = 0, ok = 0, conflicts = 0;
  for (const auto& t : ts) {
    SCOPED_TRACE(t.dump());
    // The proposal is stored as proposed; what the tree kept is `effective`,
    // and a value that did not stick is flagged.
    EXPECT_EQ(t["effective"]["NEEDS_MISSING"], false);
    if (t["params"]["NEEDS_MISSING"] == true) {
      ++conflicts;
      ASSERT_TRUE(t["effective"].contains("kconfig_not_stuck"));
      EXPECT_EQ(t["effective"]["kconfig_not_stuck"], json::array({"NEEDS_MISSING: proposed true, effective false"}));
    } else {
      EXPECT_FALSE(t["effective"].contains("kconfig_not_stuck"));
    }
    EXPECT_EQ(t["effective"]["LEVEL"], t["params"]["LEVEL"]);
    EXPECT_TRUE(t["timings"].contains("build"));
    EXPECT_TRUE(t["timings"].contains("cache_hit"));
    if (t["params"]["BREAKS_BUILD"] == true) {
      ++failed;
      EXPECT_EQ(t["status"], "failed");
      EXPECT_EQ(t["failure"]["stage"], "build");
      EXPECT_NE(t["failure"]["reason"].get<std::string>().find("BREAKS_BUILD cannot build"), std::string::npos);
    } else {
      ++ok;
      EXPECT_EQ(t["status"], "ok");
    }
  }
  EXPECT_GT(failed, 0) << "seed 11 should propose BREAKS_BUILD=y at least once";
  EXPECT_GT(ok, 1);
  EXPECT_GT(conflicts, 0);

  // Artifacts: the resolved .config and the build log of a trial that built.
  auto st = kerntune::store::Store::open(dir / "k.db");
  ASSERT_TRUE(st);
  auto camp = st->find_campaign("standin");
  ASSERT_TRUE(camp && *camp);
  auto rows = st->trials((*camp)->id);
  ASSERT_TRUE(rows);
  auto arts = st->trial_artifacts(rows->front().id);
  ASSERT_TRUE(arts);
  std::map<std::string, std::string> by_name;
  for (const auto& a : *arts) by_name[a.name] = a.content;
  ASSERT_TRUE(by_name.contains("kernel.config"));
  EXPECT_NE(by_name["kernel.config"].find("# CONFIG_NEEDS_MISSING is not set"), std::string::npos);
  EXPECT_NE(by_name["kernel.config"].find("CONFIG_LEVEL=3"), std::string::npos);
  ASSERT_TRUE(by_name.contains("build.log"));
  EXPECT_NE(by_name["build.log"].find("arch/x86/boot"), std::string::npos);

  json meta = metadata(dir, "standin");
  ASSERT_TRUE(meta.contains("kernel_source")) << meta.dump();
  EXPECT_EQ(meta["kernel_source"]["identity"], "path:" + (dir.path / "tree").string());
  EXPECT_EQ(meta["kernel_source"]["dirty"], false);

  // Another campaign over the same cache: the same proposals (same seed) come
  // from the build cache; only the failing builds run make again.
  r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--name", "again", "--progress", "quiet"},
              dir.path.string());
  ASSERT_EQ(r.code, 0) << r.err;
  json again = trials(dir, "again");
  ASSERT_EQ(again.size(), ts.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    SCOPED_TRACE(again[i].dump());
    EXPECT_EQ(again[i]["params"], ts[i]["params"]);
    if (again[i]["status"] == "ok") {
      EXPECT_EQ(again[i]["timings"]["cache_hit"], 1.0);
      EXPECT_EQ(again[i]["timings"]["kernel_builds"], 0.0);
    }
  }
}

TEST(KernelStageCli, DirtyGitTreeIsRecordedAndWarnedAbout) {
  TempDir dir;
  fs::path tree = dir.path / "tree";
  make_tree(tree);
  ASSERT_EQ(run_git(tree, {"init", "-q"}), 0);
  ASSERT_EQ(run_git(tree, {"add", "Kconfig", "Makefile"}), 0);
  ASSERT_EQ(run_git(tree, {"commit", "-q", "-m", "stand-in"}), 0);
  std::string head;
  ASSERT_EQ(run_git(tree, {"rev-parse", "HEAD"}, &head), 0);
  ASSERT_EQ(head.size(), 40u) << head;
  write((tree / "Makefile").string(), std::string(kMakefile) + "# a local change\n");
  write(dir / "r.yaml", recipe("  path: tree\n", "  - {name: FAST, domain: kconfig, type: bool, default: false}\n", 1));
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("dirty"), std::string::npos) << r.err;
  json ks = metadata(dir, "standin")["kernel_source"];
  EXPECT_EQ(ks["dirty"], true) << ks.dump();
  EXPECT_EQ(ks["commit"], head);
  // The identity holds a hash of the change, so another edit of the same commit misses the cache.
  EXPECT_EQ(ks["identity"].get<std::string>().rfind("git:" + head + "+dirty:", 0), 0u) << ks.dump();
}

TEST(KernelStageCli, BadInputExitsTwoBeforeACampaignExists) {
  TempDir dir;
  make_tree(dir.path / "tree");
  fs::create_directories(dir.path / "not-a-tree");
  fs::path repo = dir.path / "repo";
  make_tree(repo);
  ASSERT_EQ(run_git(repo, {"init", "-q"}), 0);
  ASSERT_EQ(run_git(repo, {"add", "Kconfig", "Makefile"}), 0);
  ASSERT_EQ(run_git(repo, {"commit", "-q", "-m", "stand-in"}), 0);
  const std::string fast = "  - {name: FAST, domain: kconfig, type: bool, default: false}\n";
  struct Case {
    std::string name, text, message;
  };
  std::vector<Case> cases = {
      {"not a kernel tree", recipe("  path: not-a-tree\n", fast), "is not a Linux kernel tree"},
      {"unknown symbol", recipe("  path: tree\n", "  - {name: FSAT, domain: kconfig, type: bool, default: false}\n"),
       "unknown Kconfig symbol 'FSAT'"},
      {"wrong type", recipe("  path: tree\n", "  - {name: LEVEL, domain: kconfig, type: bool, default: false}\n"),
       "Kconfig symbol LEVEL is int: value 'false' is not an integer"},
      {"wrong type in a range",
       recipe("  path: tree\n", "  - {name: FAST, domain: kconfig, type: int, range: [1, 4], default: 1}\n"),
       "Kconfig symbol FAST is bool"},
      {"missing git ref", recipe("  git: repo\n  ref: v9.9\n", fast), "git ref 'v9.9' does not exist"},
      {"kconfig without kernel_source",
       "name: standin\nparameters:\n" + fast +
           "target: {kind: command, argv: [sh, -c, 'echo KERNTUNE_METRIC y 1']}\n"
           "objectives: [{metric: y, direction: minimize}]\nbudget: {trials: 1}\n",
       "add 'kernel_source:'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    write(dir / "r.yaml", c.text);
    auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("r.yaml"), std::string::npos) << "the error names the recipe: " << r.err;
    auto st = kerntune::store::Store::open(dir / "k.db");
    ASSERT_TRUE(st);
    auto camps = st->campaigns();
    ASSERT_TRUE(camps);
    EXPECT_TRUE(camps->empty()) << "a refused recipe leaves no campaign";
  }
}
