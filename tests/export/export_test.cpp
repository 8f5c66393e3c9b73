// kerntune export / verify on a real campaign: every file, its format, the
// manifest's checksums, tampering, archives and git commits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <regex>

#include "../report/json_schema.hpp"
#include "bundle_fixture.hpp"

namespace fs = std::filesystem;
using namespace kt_test;
using nlohmann::json;

namespace {

class Export : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_campaign(*dir_);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string db() { return *dir_ / "kt.db"; }
  static TempDir* dir_;
  TempDir out_;
};
TempDir* Export::dir_ = nullptr;

std::string read(const std::string& p) { return kerntune::util::read_file(p).value_or("<missing>"); }

kerntune::util::RunResult run(std::vector<std::string> argv, const std::string& cwd = "") {
  kerntune::util::RunOptions o;
  o.argv = std::move(argv);
  o.cwd = cwd;
  o.timeout = std::chrono::seconds(60);
  auto r = kerntune::util::run(o);
  EXPECT_TRUE(r.has_value());
  return r.value_or(kerntune::util::RunResult{});
}

TEST_F(Export, BestTrialBundleHasEveryFileAndValidChecksums) {
  std::string b = out_ / "bundle";
  auto r = run_cli({"export", "--db", db(), "--out", b});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"manifest.json", "sysctl.d/90-kerntune.conf", "sysfs.d/90-kerntune.conf",
                        "cmdline", "grub/90-kerntune.cfg", "rollback/sysctl.d/90-kerntune.conf",
                        "rollback/sysfs.d/90-kerntune.conf", "rollback/cmdline"})
    EXPECT_TRUE(fs::is_regular_file(fs::path(b) / f)) << f;
  json m = json::parse(read(b + "/manifest.json"));
  std::string name = m["name"];
  EXPECT_TRUE(fs::is_regular_file(fs::path(b) / ("tuned/kerntune-" + name + "/tuned.conf")));
  // Every file but the manifest is listed with its real sha256.
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(b)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), b).generic_string();
    if (rel == "manifest.json") continue;
    ++files;
    ASSERT_TRUE(m["files"].contains(rel)) << rel;
    EXPECT_EQ(m["files"][rel], kerntune::util::sha256_hex(read(e.path().string()))) << rel;
  }
  EXPECT_EQ(m["files"].size(), static_cast<std::size_t>(files));
  // Provenance and evidence.
  EXPECT_EQ(m["campaign"]["name"], "bundles");
  EXPECT_EQ(m["campaign"]["recipe_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["objective"]["metric"], "runtime");
  EXPECT_FALSE(m["export_host"]["uname"].get<std::string>().empty());
  EXPECT_TRUE(m["metrics"]["baseline"]["runtime"]["median"].is_number());
  EXPECT_TRUE(m["metrics"]["trial"]["runtime"]["median"].is_number());
  ASSERT_TRUE(m["improvement"].is_object());
  // The campaign confirmed its best (3 interleaved pairs): a paired interval.
  ASSERT_TRUE(m["improvement"]["ci95"].is_array()) << m["improvement"].dump();
  EXPECT_LE(m["improvement"]["ci95"][0].get<double>(), m["improvement"]["ratio"].get<double>());
  EXPECT_GE(m["improvement"]["ci95"][1].get<double>(), m["improvement"]["ratio"].get<double>());
  EXPECT_GE(m["trials"]["confirm_trial_ids"].size(), 2u);
  EXPECT_EQ(m["parameters"].size(), 6u);
  EXPECT_FALSE(fs::exists(fs::path(b) / "kernel.fragment"));  // no kconfig parameter in this space
  // The exported trial is the best one `kerntune best` names, with the same
  // improvement and interval (one shared definition, results/recommend.hpp).
  auto best = run_cli({"best", "--db", db(), "--json"});
  ASSERT_EQ(best.code, 0) << best.err;
  json bj = json::parse(best.out);
  EXPECT_EQ(m["trials"]["seq"], bj["seq"]);
  ASSERT_TRUE(bj["improvement"].is_object()) << best.out;
  EXPECT_DOUBLE_EQ(m["improvement"]["ratio"].get<double>(), bj["improvement"]["ratio"].get<double>());
  EXPECT_DOUBLE_EQ(m["improvement"]["ci95"][0].get<double>(), bj["improvement"]["ci95"][0].get<double>());
  EXPECT_DOUBLE_EQ(m["improvement"]["ci95"][1].get<double>(), bj["improvement"]["ci95"][1].get<double>());
  EXPECT_EQ(m["improvement"]["method"], bj["improvement"]["method"]);
  EXPECT_TRUE(m["improvement"]["confirmed"].get<bool>());
  EXPECT_EQ(m["improvement"]["rounds"], bj["improvement"]["rounds"]);
  EXPECT_NE(m["improvement"]["method"].get<std::string>().find("independent confirmation rounds"), std::string::npos);
  EXPECT_EQ(run_cli({"verify", b}).code, 0);
  // manifest.json (and export --json, which prints it) follow the shipped schema.
  SchemaValidator schemas(source_dir() + "/docs/schemas");
  auto errors = schemas.validate(m, "bundle-manifest.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front();
  auto printed = run_cli({"export", "--db", db(), "--trial", "0", "--out", out_ / "printed", "--json"});
  ASSERT_EQ(printed.code, 0) << printed.err;
  json pm = json::parse(printed.out);
  errors = schemas.validate(pm, "bundle-manifest.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front() << "\n" << printed.out.substr(0, 800);
  EXPECT_TRUE(pm["improvement"].is_null());  // the baseline against itself: no improvement
  pm.erase("files");
  EXPECT_FALSE(schemas.validate(pm, "bundle-manifest.schema.json").empty());
  // verify --json: only JSON on stdout, the verified manifest inside.
  auto vj = run_cli({"verify", b, "--json"});
  ASSERT_EQ(vj.code, 0) << vj.err;
  json v = json::parse(vj.out);
  errors = schemas.validate(v, "verify.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front() << "\n" << vj.out.substr(0, 800);
  EXPECT_EQ(v["manifest"], m);
  EXPECT_TRUE(v["measurement"].is_null());
}

TEST_F(Export, FileFormatsMatchTheTrialsValues) {
  // Trial 0 is the baseline: every value is the default.
  std::string b = out_ / "base";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", "0", "--out", b}).code, 0);
  std::string sysctl = read(b + "/sysctl.d/90-kerntune.conf");
  EXPECT_NE(sysctl.find("\nvm.swappiness = 10\n"), std::string::npos) << sysctl;
  EXPECT_NE(sysctl.find("\nkernel.sched_autogroup_enabled = 1\n"), std::string::npos) << sysctl;
  // Every non-comment line is `key = value` (sysctl -p syntax).
  std::regex line_re(R"(^[a-z0-9_.]+ = \S+$)");
  for (const auto& line : kerntune::util::split(sysctl, '\n')) {
    if (!line.empty() && line[0] != '#') {
      EXPECT_TRUE(std::regex_match(line, line_re)) << line;
    }
  }
  EXPECT_NE(read(b + "/sysfs.d/90-kerntune.conf").find("kernel/mm/transparent_hugepage/enabled = always\n"), std::string::npos);
  EXPECT_EQ(read(b + "/cmdline"), "preempt=voluntary\n");  // nosmt=false is left out
  EXPECT_NE(read(b + "/grub/90-kerntune.cfg").find("GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} preempt=voluntary\""),
            std::string::npos);
  // A proposal: its sysctl file carries its own values, rollback the defaults.
  json trials = trials_json(*dir_);
  const json* pick = nullptr;
  for (const auto& t : trials)
    if (t["kind"] == "proposal" && t["params"]["vm.swappiness"] != 10) { pick = &t; break; }
  ASSERT_NE(pick, nullptr);
  std::string p = out_ / "proposal";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", std::to_string((*pick)["seq"].get<int>()), "--out", p}).code, 0);
  EXPECT_NE(read(p + "/sysctl.d/90-kerntune.conf").find(fmt::format("\nvm.swappiness = {}\n", (*pick)["params"]["vm.swappiness"].get<int>())),
            std::string::npos);
  EXPECT_NE(read(p + "/rollback/sysctl.d/90-kerntune.conf").find("\nvm.swappiness = 10\n"), std::string::npos);
  std::string words = (*pick)["params"]["preempt"].get<std::string>();
  EXPECT_NE(read(p + "/cmdline").find("preempt=" + words), std::string::npos);
  EXPECT_EQ(read(p + "/cmdline").find("nosmt") != std::string::npos, (*pick)["params"]["nosmt"].get<bool>());
}

TEST_F(Export, TunedProfileParsesAsIniWithTheExpectedSections) {
  std::string b = out_ / "b";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", "0", "--out", b, "--name", "lab"}).code, 0);
  auto r = run({"python3", "-c",
                "import configparser,sys\n"
                "c=configparser.ConfigParser(interpolation=None)\nc.optionxform=str\n"
                "c.read_file(open(sys.argv[1]))\n"
                "print(','.join(c.sections()))\n"
                "print(c['sysctl']['vm.swappiness'])\nprint(c['bootloader']['cmdline'])\n"
                "print(c['sysfs']['/sys/kernel/mm/transparent_hugepage/enabled'])\nprint(c['main']['summary'])\n",
                b + "/tuned/kerntune-lab/tuned.conf"});
  ASSERT_TRUE(r.ok()) << r.err;
  auto lines = kerntune::util::split(r.out, '\n');
  ASSERT_GE(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "main,sysctl,sysfs,bootloader");
  EXPECT_EQ(lines[1], "10");
  EXPECT_EQ(lines[2], "preempt=voluntary");
  EXPECT_EQ(lines[3], "always");
  EXPECT_NE(lines[4].find("campaign bundles, trial 0"), std::string::npos) << lines[4];
}

TEST_F(Export, ADotDotBundleNameStaysOneFolderInsideTheOutput) {
  // `--name ..` once made the scratch bundle folder the output's parent.
  std::string b = out_ / "b";
  auto r = run_cli({"export", "--db", db(), "--trial", "0", "--out", b, "--name", ".."});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(b + "/tuned/kerntune---/tuned.conf"));
  EXPECT_TRUE(fs::is_regular_file(b + "/manifest.json"));
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(out_.path)) beside.push_back(e.path().filename().string());
  EXPECT_EQ(beside, std::vector<std::string>{"b"});
  EXPECT_EQ(run_cli({"verify", b}).code, 0);
}

TEST_F(Export, ANameLongerThanAFolderNameIsRefusedBeforeAnythingIsWritten) {
  // The fuzzer's find: a 600-character name made "tuned/kerntune-<name>" longer
  // than NAME_MAX, and export failed half-way with "File name too long".
  std::string b = out_ / "b";
  auto r = run_cli({"export", "--db", db(), "--trial", "0", "--out", b, "--name", std::string(201, 'n')});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("1 to 200 characters"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(b));
  EXPECT_TRUE(fs::is_empty(out_.path));
  r = run_cli({"export", "--db", db(), "--trial", "0", "--out", b, "--name", std::string(200, 'n')});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(b + "/tuned/kerntune-" + std::string(200, 'n') + "/tuned.conf"));
  EXPECT_EQ(run_cli({"verify", b}).code, 0);
}

TEST_F(Export, TamperedOrUnlistedFileOrMissingManifestIsRefusedWithExit2) {
  std::string b = out_ / "b";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--out", b}).code, 0);
  ASSERT_EQ(run_cli({"verify", b}).code, 0);
  std::string conf = b + "/sysctl.d/90-kerntune.conf";
  std::string original = read(conf);
  write(conf, original + "vm.overcommit_memory = 1\n");
  auto r = run_cli({"verify", b});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  write(conf, original);
  EXPECT_EQ(run_cli({"verify", b}).code, 0);
  write(b + "/extra.sh", "#!/bin/sh\n");
  EXPECT_EQ(run_cli({"verify", b}).code, 2);
  fs::remove(b + "/extra.sh");
  fs::remove(b + "/cmdline");
  EXPECT_EQ(run_cli({"verify", b}).code, 2);
  write(b + "/cmdline", read(b + "/manifest.json").empty() ? "" : "x");
  fs::remove(b + "/manifest.json");
  r = run_cli({"verify", b});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no manifest.json"), std::string::npos) << r.err;
}

TEST_F(Export, TarGzBundleUnpacksAndVerifies) {
  std::string t = out_ / "bundle.tar.gz";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--out", t, "--name", "arch"}).code, 0);
  auto r = run({"tar", "-tzf", t});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("arch/manifest.json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arch/tuned/kerntune-arch/tuned.conf"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli({"verify", t}).code, 0);
  // An existing archive is replaced only with --force.
  auto again = run_cli({"export", "--db", db(), "--trial", "0", "--out", t, "--name", "arch"});
  EXPECT_EQ(again.code, 2) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", "0", "--out", t, "--name", "arch", "--force"}).code, 0);
  auto shown = run({"tar", "-xzOf", t, "arch/manifest.json"});
  ASSERT_TRUE(shown.ok()) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["trials"]["seq"], 0);
  EXPECT_EQ(run_cli({"verify", t}).code, 0);
  // No scratch folder is left beside the output.
  for (const auto& e : fs::directory_iterator(out_.path))
    EXPECT_EQ(e.path().filename().string().find(".kerntune-export-"), std::string::npos) << e.path();
}

TEST_F(Export, NonEmptyOutputFolderIsRefusedAndForceReplacesOnlyABundle) {
  // A folder holding anything but a bundle: refused, with or without --force, and left alone.
  std::string full = out_ / "full";
  fs::create_directories(full);
  write(full + "/x", "x");
  auto r = run_cli({"export", "--db", db(), "--out", full});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"export", "--db", db(), "--out", full, "--force"}).code, 2);
  EXPECT_EQ(read(full + "/x"), "x");
  EXPECT_FALSE(fs::exists(full + "/manifest.json"));
  // An empty folder is fine.
  std::string empty = out_ / "empty";
  fs::create_directories(empty);
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", "0", "--out", empty}).code, 0);
  EXPECT_EQ(run_cli({"verify", empty}).code, 0);
  // A folder with a bundle: refused without --force, replaced whole with it.
  r = run_cli({"export", "--db", db(), "--out", empty});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  write(empty + "/stale", "left by hand");
  ASSERT_EQ(run_cli({"export", "--db", db(), "--out", empty, "--force"}).code, 0);
  EXPECT_FALSE(fs::exists(empty + "/stale"));
  EXPECT_NE(json::parse(read(empty + "/manifest.json"))["trials"]["seq"], 0);
  EXPECT_EQ(run_cli({"verify", empty}).code, 0);
  // A failed export (no such trial) leaves no folder behind.
  EXPECT_EQ(run_cli({"export", "--db", db(), "--trial", "999", "--out", out_ / "never"}).code, 2);
  EXPECT_FALSE(fs::exists(out_ / "never"));
}

TEST_F(Export, GitCommitsOneFolderPerBundleReadableByGitLog) {
  std::string repo = out_ / "tunings";
  ASSERT_EQ(run_cli({"export", "--db", db(), "--out", out_ / "a", "--git", repo, "--name", "best"}).code, 0);
  ASSERT_EQ(run_cli({"export", "--db", db(), "--trial", "0", "--out", out_ / "b", "--git", repo, "--name", "defaults"}).code, 0);
  auto log = run({"git", "-C", repo, "log", "--format=%s"});
  ASSERT_TRUE(log.ok()) << log.err;
  auto subjects = kerntune::util::split(kerntune::util::trim(log.out), '\n');
  ASSERT_EQ(subjects.size(), 2u) << log.out;
  EXPECT_EQ(subjects[0].rfind("kerntune: defaults: runtime", 0), 0u) << subjects[0];
  EXPECT_EQ(subjects[1].rfind("kerntune: best: runtime", 0), 0u) << subjects[1];
  EXPECT_NE(subjects[1].find("vs baseline"), std::string::npos);
  auto files = run({"git", "-C", repo, "ls-files"});
  EXPECT_NE(files.out.find("best/manifest.json"), std::string::npos) << files.out;
  EXPECT_NE(files.out.find("defaults/sysctl.d/90-kerntune.conf"), std::string::npos) << files.out;
  auto status = run({"git", "-C", repo, "status", "--porcelain"});
  EXPECT_EQ(status.out, "");
  // The committed folder is itself a verifiable bundle.
  EXPECT_EQ(run_cli({"verify", repo + "/best"}).code, 0);
}

TEST_F(Export, BadRequestsAreExit2) {
  EXPECT_EQ(run_cli({"export", "--db", out_ / "none.db", "--out", out_ / "x"}).code, 2);
  EXPECT_EQ(run_cli({"export", "--db", db(), "--trial", "999", "--out", out_ / "y"}).code, 2);
  EXPECT_EQ(run_cli({"export", "--db", db(), "--objective", "nope", "--out", out_ / "z"}).code, 2);
  EXPECT_EQ(run_cli({"verify", out_ / "no-such-bundle"}).code, 2);
}

}  // namespace
