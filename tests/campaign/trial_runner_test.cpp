// campaign::TrialRunner, the one place tune, gate and verify turn an
// assignment into a run, in-process with the real `command` target (a shell
// program) and the real kernel stage on a stand-in kernel tree (make writes
// a .config and an "image" that is a copy of it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "../integration/cli.hpp"
#include "../kbuild/standin_tree.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/campaign/slurm_executor.hpp"
#include "kerntune/campaign/trial_runner.hpp"

namespace fs = std::filesystem;
namespace campaign = kerntune::campaign;
using kt_test::TempDir;
using kt_test::write;
using nlohmann::json;

namespace {

// Reports what it was handed: a parameter, whether it got a kernel image and
// that image's FAST line, and whether it ran as the baseline read.
const char* kProgram = "target: {kind: command, timeout: 20s, argv: [sh, probe.sh]}\n";
const char* kProbe =
    "s=$(python3 -c 'import json,os; print(json.load(open(os.environ[\"KERNTUNE_PARAMS\"])).get(\"vm.swappiness\", -1))')\n"
    "echo \"KERNTUNE_METRIC swappiness $s\"\n"
    "if [ -n \"$KERNTUNE_KERNEL_IMAGE\" ] && grep -q '^CONFIG_FAST=y' \"$KERNTUNE_KERNEL_IMAGE\"; then f=1; else f=0; fi\n"
    "echo \"KERNTUNE_METRIC fast $f\"\n"
    "[ \"$KERNTUNE_BASELINE\" = target ] && b=1 || b=0\n"
    "echo \"KERNTUNE_METRIC as_is $b\"\n"
    "echo \"KERNTUNE_METRIC has_kernel $([ -n \"$KERNTUNE_KERNEL_IMAGE\" ] && echo 1 || echo 0)\"\n";

std::string recipe_text(const std::string& extra_params = "", const std::string& kernel_source = "") {
  return "name: runner\nseed: 1\n" + kernel_source +
         "parameters:\n  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
         "  - {name: mitigations, domain: cmdline, type: choice, values: [auto, \"off\"], default: auto}\n" +
         extra_params + kProgram +
         "objectives: [{metric: swappiness, direction: minimize}]\nbudget: {trials: 1}\n";
}

campaign::Recipe load(const TempDir& dir, const std::string& text, const std::string& name = "r.yaml") {
  write(dir / "probe.sh", kProbe);
  write(dir / name, text);
  auto r = campaign::load_recipe(dir / name);
  EXPECT_TRUE(r) << (r ? "" : r.error().format());
  if (!r) throw std::runtime_error("bad test recipe");
  return std::move(*r);
}

campaign::TrialRunner make_runner(const campaign::Recipe& r, const std::string& work, int workers = 1) {
  fs::create_directories(work);
  auto runner = campaign::TrialRunner::create(r, {work, workers, r.metric_names(), {}});
  EXPECT_TRUE(runner) << (runner ? "" : runner.error().format());
  if (!runner) throw std::runtime_error("no runner");
  return std::move(*runner);
}

/// One trial of `assignment` on worker 0's target, which is shut down after.
kerntune::util::Result<kerntune::targets::TrialOutcome> run_once(campaign::TrialRunner& runner,
                                                                 kerntune::space::Assignment assignment) {
  KT_TRY(auto target, runner.make_target(0));
  campaign::TrialSpec spec;
  spec.assignment = std::move(assignment);
  auto out = runner.run(*target, spec);
  target->shutdown();
  return out;
}

double metric(const kerntune::targets::TrialOutcome& o, const std::string& m) {
  auto it = o.samples.find(m);
  return it == o.samples.end() || it->second.empty() ? -99 : it->second.front();
}

}  // namespace

TEST(TrialRunner, RequestRealizesTheAssignmentWithTheRecipesRepeatsAndWarmup) {
  TempDir dir;
  write(dir / "w.yaml", "name: w\ncommand: [true]\nrepeats: 4\nwarmup: 2\nmetrics:\n  - {name: swappiness, kerntune_metric: true}\n");
  campaign::Recipe r = load(dir, recipe_text() + "workload: w.yaml\n");
  auto runner = make_runner(r, dir / "work");
  ASSERT_NE(runner.workload(), nullptr);
  campaign::TrialSpec spec;
  spec.seq = 7;
  spec.assignment = r.space.defaults();
  spec.assignment["vm.swappiness"] = 10LL;
  spec.assignment["mitigations"] = std::string("off");
  auto req = runner.request(spec);
  EXPECT_EQ(req.seq, 7);
  EXPECT_EQ(req.params["vm.swappiness"], 10);
  ASSERT_EQ(req.sysctls.size(), 1u);
  EXPECT_EQ(req.sysctls[0], (std::pair<std::string, std::string>{"vm.swappiness", "10"}));
  EXPECT_EQ(req.boot.cmdline, "mitigations=off");
  EXPECT_EQ(req.workload, runner.workload());
  // The workload's repeats and warm-up, unless the recipe's or the spec's say otherwise.
  EXPECT_EQ(req.repeats, 4);
  EXPECT_EQ(req.warmup, 2);
  EXPECT_FALSE(req.read_current);
  EXPECT_TRUE(req.boot.kernel.empty());
  spec.repeats = 1;
  spec.warmup = 0;
  spec.read_current = true;
  spec.kernel = "/boot/vmlinuz-x";
  req = runner.request(spec);
  EXPECT_EQ(req.repeats, 1);
  EXPECT_EQ(req.warmup, 0);
  EXPECT_TRUE(req.read_current);
  EXPECT_EQ(req.boot.kernel, "/boot/vmlinuz-x");

  campaign::Recipe r2 = load(dir, recipe_text() + "workload: w.yaml\nrepeats: 3\nwarmup: 0\n", "r2.yaml");
  auto runner2 = make_runner(r2, dir / "work2");
  spec = {};
  spec.assignment = r2.space.defaults();
  req = runner2.request(spec);
  EXPECT_EQ(req.repeats, 3);
  EXPECT_EQ(req.warmup, 0);
}

TEST(TrialRunner, RunsAnAssignmentOnTheCommandTargetInEachWorkersFolder) {
  TempDir dir;
  campaign::Recipe r = load(dir, recipe_text());
  auto runner = make_runner(r, dir / "work", 2);
  for (int w = 0; w < 2; ++w) {
    auto target = runner.make_target(w);
    ASSERT_TRUE(target) << target.error().format();
    EXPECT_TRUE(fs::is_directory(dir / ("work/worker-" + std::to_string(w))));
    EXPECT_EQ((*target)->kind(), "command");
    campaign::TrialSpec spec;
    spec.seq = w;
    spec.assignment = r.space.defaults();
    spec.assignment["vm.swappiness"] = static_cast<long long>(20 + w);
    spec.read_current = w == 1;
    auto out = runner.run(**target, spec);
    ASSERT_TRUE(out) << out.error().format();
    ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
    EXPECT_EQ(metric(*out, "swappiness"), 20 + w);
    EXPECT_EQ(metric(*out, "as_is"), w == 1 ? 1 : 0);
    EXPECT_EQ(metric(*out, "has_kernel"), 0);  // no kernel_source, no spec kernel
    (*target)->shutdown();
  }
}

TEST(TrialRunner, TheCommandReportsTheStagesItSpentTimeInAndTheWorkloadKeepsTheRest) {
  // A script that reboots a lab machine says how long the boot took
  // (KERNTUNE_STAGE, docs/command-target.md); the cost model reads it.
  TempDir dir;
  std::string text = recipe_text();
  text.replace(text.find("argv: [sh, probe.sh]"), 20, "argv: [sh, stages.sh]");
  campaign::Recipe r = load(dir, text);
  write(dir / "stages.sh",
        "sleep 0.3\necho 'KERNTUNE_STAGE boot 0.25'\necho 'KERNTUNE_STAGE boot 0.05'\n"
        "echo 'KERNTUNE_STAGE nonsense 5'\necho 'KERNTUNE_STAGE build -1'\necho 'KERNTUNE_STAGE setup 1e9'\n"
        "echo 'KERNTUNE_METRIC swappiness 1'\n");
  auto runner = make_runner(r, dir / "work");
  auto out = run_once(runner, r.space.defaults());
  ASSERT_TRUE(out) << out.error().format();
  ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
  EXPECT_DOUBLE_EQ(out->timings.at("boot"), 0.30);  // two lines add up
  EXPECT_FALSE(out->timings.contains("nonsense"));
  EXPECT_FALSE(out->timings.contains("build"));     // negative: ignored
  // Capped at the run's own wall time: setup takes what boot left of it.
  ASSERT_TRUE(out->timings.contains("setup"));
  EXPECT_GE(out->timings.at("workload"), 0.0);
  EXPECT_LT(out->timings.at("workload"), 1e-9);
  EXPECT_GT(out->timings.at("setup"), 0.0);
}

TEST(TrialRunner, BuildsTheKernelOfTheAssignmentsKconfigValuesThroughTheCache) {
  TempDir dir;
  kt_test::make_standin_tree(dir.path / "tree");
  campaign::Recipe r = load(dir, recipe_text("  - {name: FAST, domain: kconfig, type: bool, default: false}\n",
                                             kt_test::standin_kernel_source(dir / "tree", dir / "cache")));
  auto runner = make_runner(r, dir / "work");
  auto target = runner.make_target(0);
  ASSERT_TRUE(target) << target.error().format();
  auto builds = [&] {
    auto log = kerntune::util::read_file(dir / "tree/builds.log");
    return log ? std::count(log->begin(), log->end(), '\n') : 0;
  };
  campaign::TrialSpec spec;
  spec.assignment = r.space.defaults();
  for (bool fast : {false, true, true}) {
    spec.assignment["FAST"] = fast;
    ++spec.seq;
    auto out = runner.run(**target, spec);
    ASSERT_TRUE(out) << out.error().format();
    ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
    EXPECT_EQ(metric(*out, "has_kernel"), 1);
    EXPECT_EQ(metric(*out, "fast"), fast ? 1 : 0) << "the program saw the image built for FAST=" << fast;
    EXPECT_EQ(out->effective["FAST"], fast);
    EXPECT_EQ(out->timings.at("cache_hit"), spec.seq == 3 ? 1.0 : 0.0);
  }
  EXPECT_EQ(builds(), 2) << "FAST=n and FAST=y built once each; the repeat came from the cache";

  // A spec naming its own image boots it as given: nothing is built.
  write(dir / "own-image", "CONFIG_FAST=y\n");
  spec.assignment["FAST"] = false;
  spec.kernel = dir / "own-image";
  auto out = runner.run(**target, spec);
  ASSERT_TRUE(out && out->ok);
  EXPECT_EQ(metric(*out, "fast"), 1);
  EXPECT_FALSE(out->timings.contains("build"));
  EXPECT_EQ(builds(), 2);
  (*target)->shutdown();
}

TEST(TrialRunner, BadTargetAndKconfigWithoutKernelSourceAreLocatedBadInput) {
  TempDir dir;
  campaign::Recipe r = load(dir, recipe_text("  - {name: FAST, domain: kconfig, type: bool, default: false}\n"));
  fs::create_directories(dir / "work");
  // Refused when the runner is made (its kernel stage), before any target or campaign exists.
  auto runner = campaign::TrialRunner::create(r, {dir / "work", 1, r.metric_names(), {}});
  ASSERT_FALSE(runner);
  EXPECT_EQ(runner.error().kind, kerntune::util::Error::Kind::invalid_input);
  EXPECT_NE(runner.error().message.find("kernel_source"), std::string::npos) << runner.error().message;
  EXPECT_EQ(runner.error().file, dir / "r.yaml");
}

// `kernel_source:` is parsed once, with the recipe: a fragment that does not
// exist is refused by load_recipe, located at the fragment, and a good one is
// there as typed configuration (paths resolved against the recipe's folder).
TEST(TrialRunner, KernelSourceIsParsedWithTheRecipe) {
  TempDir dir;
  kt_test::make_standin_tree(dir.path / "tree");
  std::string source = kt_test::standin_kernel_source(dir / "tree", dir / "cache");
  campaign::Recipe r = load(dir, recipe_text("  - {name: FAST, domain: kconfig, type: bool, default: false}\n", source));
  ASSERT_TRUE(r.kernel_build.has_value());
  EXPECT_EQ(fs::path(r.kernel_build->cache_dir), dir / "cache");
  campaign::Recipe plain = load(dir, recipe_text(), "plain.yaml");
  EXPECT_FALSE(plain.kernel_build.has_value());

  std::string bad = source;
  bad.insert(bad.find('\n') + 1, "  fragments: [no-such.config]\n");
  write(dir / "bad.yaml", recipe_text("", bad));
  auto loaded = campaign::load_recipe(dir / "bad.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, kerntune::util::Error::Kind::invalid_input);
  EXPECT_NE(loaded.error().message.find("no-such.config"), std::string::npos) << loaded.error().message;
  EXPECT_EQ(loaded.error().file, dir / "bad.yaml");
  EXPECT_EQ(loaded.error().line, 4) << loaded.error().format();
}

// What a Slurm job is told of a run (the executor's one-trial recipe): the
// run's repeats, warm-up and `baseline: target`; with a kernel image (built
// on the coordinator, or a gate side's) the job boots it and builds nothing.
TEST(TrialRunner, SlurmJobRecipeCarriesTheRunsRepeatsWarmupAndKernel) {
  TempDir dir;
  kt_test::make_standin_tree(dir.path / "tree");
  write(dir / "vmlinuz", "not a kernel, but a file");
  std::string text = recipe_text("  - {name: FAST, domain: kconfig, type: bool, default: false}\n",
                                 kt_test::standin_kernel_source(dir / "tree", dir / "cache"));
  text.replace(text.find(kProgram), std::string(kProgram).size(),
               "target: {kind: qemu, kernel: vmlinuz, memory: 256M}\nrepeats: 5\nwarmup: 2\n");
  campaign::Recipe r = load(dir, text);
  json params = {{"vm.swappiness", 7}, {"mitigations", "auto"}, {"FAST", true}};

  auto plain = campaign::one_trial_recipe(r, {params, 0, -1, false, ""}, "t");
  ASSERT_TRUE(plain) << plain.error().format();
  YAML::Node p = YAML::Load(*plain);
  EXPECT_EQ(p["repeats"].as<int>(), 5);  // the recipe's
  EXPECT_EQ(p["warmup"].as<int>(), 2);
  EXPECT_FALSE(p["baseline"]);
  EXPECT_TRUE(p["kernel_source"]);       // the job builds its own kernel
  EXPECT_EQ(p["parameters"].size(), 3u);
  EXPECT_EQ(p["target"]["kernel"].as<std::string>(), dir / "vmlinuz");

  auto run = campaign::one_trial_recipe(r, {params, 1, 0, true, "/shared/job/bzImage"}, "t");
  ASSERT_TRUE(run) << run.error().format();
  YAML::Node j = YAML::Load(*run);
  EXPECT_EQ(j["repeats"].as<int>(), 1);
  EXPECT_EQ(j["warmup"].as<int>(), 0);
  EXPECT_EQ(j["baseline"].as<std::string>(), "target");
  EXPECT_FALSE(j["kernel_source"]);
  EXPECT_EQ(j["target"]["kernel"].as<std::string>(), "/shared/job/bzImage");
  ASSERT_EQ(j["parameters"].size(), 2u);  // FAST is built into the image
  for (const auto& q : j["parameters"]) EXPECT_NE(q["name"].as<std::string>(), "FAST");
}

// An inline script longer than a file name may be (an argv word that is not
// a file): the command target runs it instead of throwing from a file check.
TEST(TrialRunner, ALongInlineScriptIsAnArgumentNotAFileName) {
  TempDir dir;
  std::string script = "echo KERNTUNE_METRIC swappiness 5 # " + std::string(300, 'x');
  campaign::Recipe r = load(dir, "name: long\nparameters:\n"
                                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                                 "target: {kind: command, timeout: 20s, argv: [sh, -c, \"" + script + "\"]}\n"
                                 "objectives: [{metric: swappiness, direction: minimize}]\nbudget: {trials: 1}\n");
  auto runner = make_runner(r, dir / "work");
  auto out = run_once(runner, r.space.defaults());
  ASSERT_TRUE(out && out->ok);
  EXPECT_EQ(metric(*out, "swappiness"), 5);
  auto job = campaign::one_trial_recipe(r, {}, "t");
  ASSERT_TRUE(job) << job.error().format();
  EXPECT_EQ(YAML::Load(*job)["target"]["argv"][2].as<std::string>(), script);
}

// executor: slurm on a machine without sbatch: the recipe is fine, the
// machine is not, so the failure is io (exit 1), not invalid input.
TEST(TrialRunner, SlurmExecutorWithoutSbatchIsAnInfrastructureFailure) {
  TempDir dir;
  campaign::Recipe r = load(dir, recipe_text() + "executor: slurm\n");
  auto runner = make_runner(r, dir / "work");
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ASSERT_EQ(::setenv("PATH", (dir / "empty-path").c_str(), 1), 0);
  auto target = runner.make_target(0);
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(target);
  EXPECT_EQ(target.error().kind, kerntune::util::Error::Kind::io) << target.error().format();
  EXPECT_NE(target.error().message.find("needs 'sbatch' in PATH"), std::string::npos) << target.error().message;
}

// The recipe's `target:` is parsed once, at load: a fault in it is a located
// load error, and the runner makes its targets from the typed spec without
// reading the mapping again (a changed mapping after load changes nothing;
// the program file's path was resolved then, against the recipe's folder).
TEST(TrialRunner, TheTargetIsParsedWithTheRecipeAndMadeFromItsSpec) {
  TempDir dir;
  std::string bad = recipe_text();
  bad.replace(bad.find(kProgram), std::string(kProgram).size(), "target: {kind: command, timeout: 20s, argv: [./nope.sh]}\n");
  write(dir / "bad.yaml", bad);
  auto refused = campaign::load_recipe(dir / "bad.yaml");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, kerntune::util::Error::Kind::invalid_input);
  const int target_line = 1 + static_cast<int>(std::count(bad.begin(), bad.begin() + bad.find("[./nope.sh]"), '\n'));
  EXPECT_EQ(refused.error().line, target_line) << refused.error().format();
  EXPECT_NE(refused.error().message.find("does not exist"), std::string::npos) << refused.error().message;

  campaign::Recipe r = load(dir, recipe_text());
  EXPECT_EQ(r.target_spec.kind(), "command");
  ASSERT_TRUE(r.target_spec.portable());
  EXPECT_EQ(r.target_spec.portable()["argv"][1].as<std::string>(), (dir.path / "probe.sh").string());
  r.target["argv"] = std::vector<std::string>{"false"};  // the mapping as written, changed after load
  auto runner = make_runner(r, dir / "work");
  auto assignment = r.space.defaults();
  assignment["vm.swappiness"] = 33LL;
  auto out = run_once(runner, std::move(assignment));
  ASSERT_TRUE(out) << out.error().format();
  ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
  EXPECT_EQ(metric(*out, "swappiness"), 33);
}
