// `kerntune init` through the real binary: one recipe per target kind, each
// loaded back by the recipe loader `tune` uses (and its target built); the
// command-target recipe run for 2 trials; --from-host against this machine's
// /proc; refusal to overwrite; bad choices; hostile values that must stay
// values. read_host_values is also run on a planted /proc and /sys.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/campaign/starter.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/text.hpp"

using kt_test::run_cli;
using nlohmann::json;
namespace fs = std::filesystem;
namespace campaign = kerntune::campaign;

namespace {

std::string slurp(const std::string& path) {
  auto t = kerntune::util::read_file(path);
  return t ? *t : std::string();
}

/// The recipe loaded as `tune` loads it, its workload resolved and its target built.
campaign::Recipe load_checked(const std::string& path) {
  auto r = campaign::load_recipe(path);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().format()) << "\n" << slurp(path);
  if (!r) return {};
  if (!r->workload.empty()) {
    auto w = campaign::load_recipe_workload(*r);
    EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().format());
  }
  kt_test::TempDir work;
  kerntune::targets::TargetContext ctx;
  ctx.recipe_file = r->file;
  ctx.recipe_dir = r->dir;
  ctx.work_dir = work.path.string();
  ctx.required_metrics = r->metric_names();
  auto t = kerntune::targets::make_target(r->target, ctx);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().format());
  return *r;
}

/// `space check` on each search-space file the recipe names (the spaces it was built from).
void space_check_files(const std::string& recipe_path) {
  auto doc = YAML::LoadFile(recipe_path);
  for (const auto& item : doc["search_spaces"]) {
    fs::path f = item["file"].Scalar();
    if (f.is_relative()) f = fs::path(recipe_path).parent_path() / f;
    auto r = run_cli({"space", "check", f.string()});
    EXPECT_EQ(r.code, 0) << f << ": " << r.err;
  }
}

// A program for the command target: y from the generic parameters it gets.
const char* kBox = R"(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
print("KERNTUNE_METRIC y %.6f" % ((p["x"] - 2.5) ** 2 + len(p)))
)";

}  // namespace

TEST(Init, QemuRecipeLoadsWithTheWorkloadAndSpaces) {
  kt_test::TempDir d;
  // A kernel image for the qemu target's load-time check (it is not booted here).
  kt_test::write(d / "vmlinuz", "not booted");
  ::setenv("KERNTUNE_KERNEL", (d / "vmlinuz").c_str(), 1);
  auto r = run_cli({"init", "--target", "qemu", "--workload", "redis-memory", "--space", "zswap.yaml", "--space",
                    "sysctl-vm.yaml", "--only", "vm.swappiness", "--metric", "sys.workload_mem_mean_kb", "--direction",
                    "minimize", "--limit", "get_rps >= 95% baseline", "--trials", "8", "-o", d / "q.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = load_checked(d / "q.yaml");
  EXPECT_EQ(rec.target["kind"].Scalar(), "qemu");
  EXPECT_EQ(rec.target["swap_disk"].Scalar(), "256M");  // redis-memory swaps to /dev/vda
  EXPECT_EQ(rec.workload, kt_test::source_dir() + "/recipes/workloads/redis-memory.yaml");
  EXPECT_EQ(rec.budget_trials, 8);
  ASSERT_EQ(rec.objectives.size(), 2u);
  EXPECT_EQ(rec.objectives[0].metric, "sys.workload_mem_mean_kb");
  EXPECT_FALSE(rec.objectives[0].maximize);
  EXPECT_TRUE(rec.objectives[1].limit_relative);
  EXPECT_DOUBLE_EQ(rec.objectives[1].limit, 0.95);
  EXPECT_TRUE(rec.space.find("vm.swappiness"));
  EXPECT_FALSE(rec.space.find("vm.page-cluster"));  // not kept by --only
  EXPECT_TRUE(rec.space.find("zswap.enabled"));
  space_check_files(d / "q.yaml");
  // Commented: what the workload measures is said in the file.
  EXPECT_NE(slurp(d / "q.yaml").find("# redis-memory: redis-server"), std::string::npos);
  ::unsetenv("KERNTUNE_KERNEL");
}

TEST(Init, LibvirtRecipeLoadsAndMakesItsTarget) {
  kt_test::TempDir d;
  kt_test::write(d / "vmlinuz", "not booted");
  ::setenv("KERNTUNE_KERNEL", (d / "vmlinuz").c_str(), 1);
  auto r = run_cli({"init", "--target", "libvirt", "--workload", "hackbench", "--trials", "5", "-o", d / "l.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = load_checked(d / "l.yaml");
  EXPECT_EQ(rec.target["kind"].Scalar(), "libvirt");
  EXPECT_EQ(rec.target["uri"].Scalar(), "qemu:///system");
  EXPECT_EQ(rec.workload, kt_test::source_dir() + "/recipes/workloads/hackbench.yaml");
  EXPECT_NE(slurp(d / "l.yaml").find("docs/libvirt-target.md"), std::string::npos);
  ::unsetenv("KERNTUNE_KERNEL");
}

TEST(Init, WithoutChoicesTakesTheDocumentedDefaults) {
  kt_test::TempDir d;
  auto r = run_cli({"init"}, d.path.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = campaign::load_recipe(d / "recipe.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  EXPECT_EQ(rec->target["kind"].Scalar(), "qemu");
  EXPECT_EQ(fs::path(rec->workload).stem(), "hackbench");
  EXPECT_EQ(rec->objectives.at(0).metric, "time");
  EXPECT_EQ(rec->budget_trials, 20);
  EXPECT_TRUE(rec->space.find("kernel.sched_autogroup_enabled"));  // sysctl-sched.yaml
}

TEST(Init, SshRecipeWithFromTarget) {
  kt_test::TempDir d;
  auto r = run_cli({"init", "--target", "ssh", "--host", "kt@lab-box.example:2222", "--workload", "sysbench-cpu",
                    "--space", "cmdline.yaml", "--only", "mitigations", "--space", "sysctl-sched.yaml",
                    "--from-target", "-o", d / "lab.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = load_checked(d / "lab.yaml");
  EXPECT_EQ(rec.target["kind"].Scalar(), "ssh");
  EXPECT_EQ(rec.target["hosts"][0]["address"].Scalar(), "lab-box.example");
  EXPECT_EQ(rec.target["hosts"][0]["user"].Scalar(), "kt");
  EXPECT_EQ(rec.target["hosts"][0]["port"].as<int>(), 2222);
  EXPECT_TRUE(rec.baseline_from_target);
  EXPECT_EQ(rec.objectives.at(0).metric, "events_per_second");
  EXPECT_TRUE(rec.objectives.at(0).maximize);  // the workload's hint
  EXPECT_TRUE(rec.space.find("mitigations"));
  EXPECT_FALSE(rec.space.find("preempt"));
  space_check_files(d / "lab.yaml");

  // --from-target is an ssh host's: refused for another kind, with the reason.
  auto q = run_cli({"init", "--target", "qemu", "--from-target", "-o", d / "x.yaml"});
  EXPECT_EQ(q.code, 2);
  EXPECT_NE(q.err.find("only for --target ssh"), std::string::npos) << q.err;
  EXPECT_FALSE(fs::exists(d / "x.yaml"));
}

TEST(Init, CommandRecipeRunsTwoTrials) {
  kt_test::TempDir d;
  kt_test::write(d / "box.py", kBox);
  auto r = run_cli({"init", "--target", "command", "--space", "example-generic.yaml", "--metric", "y", "--trials", "2",
                    "-o", d / "c.yaml", "--", "python3", "box.py"},
                   d.path.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = load_checked(d / "c.yaml");
  EXPECT_EQ(rec.target["kind"].Scalar(), "command");
  EXPECT_EQ(rec.target["argv"][1].Scalar(), "box.py");
  EXPECT_TRUE(rec.workload.empty());
  space_check_files(d / "c.yaml");

  auto t = run_cli({"tune", d / "c.yaml", "--db", d / "c.db", "--progress", "quiet"}, d.path.string());
  ASSERT_EQ(t.code, 0) << t.err;
  auto l = run_cli({"trials", "--db", d / "c.db", "--json"});
  ASSERT_EQ(l.code, 0) << l.err;
  auto trials = json::parse(l.out);
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& tr : trials) {
    EXPECT_EQ(tr["status"], "ok") << tr.dump();
    EXPECT_TRUE(tr["metrics"].contains("y"));
  }
}

TEST(Init, FromHostWritesThisMachinesValuesAsTheBaseline) {
  kt_test::TempDir d;
  auto r = run_cli({"init", "--space", "sysctl-vm.yaml", "--only", "vm.swappiness", "--only", "vm.overcommit_memory",
                    "--space", "cmdline.yaml", "--only", "mitigations", "--from-host", "-o", d / "h.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = campaign::load_recipe(d / "h.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  space_check_files(d / "h.yaml");
  auto defaults = rec->space.defaults();
  auto shipped = kerntune::space::Space::load_file(kt_test::source_dir() + "/search-spaces/sysctl-vm.yaml");
  ASSERT_TRUE(shipped);
  // vm.swappiness is an int in [0, 200], vm.overcommit_memory a choice of "0", "1", "2".
  for (const char* name : {"vm.swappiness", "vm.overcommit_memory"}) {
    std::string proc = std::string("/proc/sys/vm/") + (name + 3);
    const std::string host = kerntune::util::trim(slurp(proc));
    ASSERT_FALSE(host.empty()) << proc;
    const auto* p = shipped->find(name);
    ASSERT_TRUE(p);
    const bool holds = p->type == kerntune::space::Type::integer
                           ? std::stoll(host) >= p->lo && std::stoll(host) <= p->hi
                           : std::find(p->values.begin(), p->values.end(), host) != p->values.end();
    if (holds) {
      EXPECT_EQ(kerntune::space::to_string(defaults.at(name)), host) << name << " as " << proc << " holds it";
    } else {  // outside the shipped range: left at the default, and the file says why
      EXPECT_EQ(defaults.at(name), p->default_value);
      EXPECT_NE(slurp(d / "h.yaml").find(std::string("left at its default: ") + name), std::string::npos);
    }
  }
  // The boot parameter: this machine's mitigations= when it sets one the space holds, else the default.
  // Words after "--" are init's, not the kernel's.
  std::string expect = "auto";
  for (auto& w : kerntune::util::split(kerntune::util::trim(slurp("/proc/cmdline")), ' ')) {
    if (w == "--") break;
    if (kerntune::util::starts_with(w, "mitigations=")) expect = w.substr(12);
  }
  if (expect != "auto" && expect != "off" && expect != "auto,nosmt") {
    EXPECT_NE(slurp(d / "h.yaml").find("left at its default: mitigations"), std::string::npos) << slurp(d / "h.yaml");
    expect = "auto";
  }
  EXPECT_EQ(std::get<std::string>(defaults.at("mitigations")), expect);
  EXPECT_NE(slurp(d / "h.yaml").find("# The baseline (trial 0)"), std::string::npos);
}

TEST(Init, ReadHostValuesOnAPlantedRoot) {
  kt_test::TempDir root;
  fs::create_directories(root.path / "proc/sys/vm");
  fs::create_directories(root.path / "sys/kernel/mm/transparent_hugepage");
  fs::create_directories(root.path / "sys/kernel/mm/lru_gen");
  kt_test::write(root / "proc/sys/vm/swappiness", "250\n");     // outside [0, 200]
  kt_test::write(root / "proc/sys/vm/page-cluster", "2\n");
  kt_test::write(root / "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  kt_test::write(root / "sys/kernel/mm/lru_gen/enabled", "0x0007\"\n  evil: true\n");  // no such choice
  kt_test::write(root / "proc/cmdline", "BOOT_IMAGE=/vmlinuz ro mitigations=off preempt=full\"x nosmt -- nohz_full_x mitigations=auto\n");
  std::string text = "parameters:\n"
                     "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 200], default: 60}\n"
                     "  - {name: vm.page-cluster, domain: sysctl, type: int, range: [0, 6], default: 3}\n"
                     "  - {name: kernel/mm/transparent_hugepage/enabled, domain: sysfs, type: choice, "
                     "values: [always, madvise, never], default: always}\n"
                     "  - {name: kernel/mm/lru_gen/enabled, domain: sysfs, type: choice, values: [\"0x0000\", \"0x0007\"], "
                     "default: \"0x0007\"}\n"
                     "  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [1, 90], default: 20}\n"
                     "  - {name: mitigations, domain: cmdline, type: choice, values: [auto, \"off\"], default: auto}\n"
                     "  - {name: preempt, domain: cmdline, type: choice, values: [none, voluntary, full], default: voluntary}\n"
                     "  - {name: nosmt, domain: cmdline, type: bool, default: false}\n"
                     "  - {name: nohz_full_x, domain: cmdline, type: bool, default: false}\n"
                     "  - {name: audit, domain: cmdline, type: choice, values: [\"0\", \"1\"], default: \"1\"}\n"
                     "  - {name: x, domain: generic, type: int, range: [0, 9], default: 1}\n";
  auto space = kerntune::space::Space::load_string(text, "t.yaml");
  ASSERT_TRUE(space) << space.error().format();
  auto host = campaign::read_host_values(*space, root.path.string());
  using V = kerntune::space::Value;
  EXPECT_EQ(host.values.at("vm.page-cluster"), V(2LL));
  EXPECT_EQ(host.values.at("kernel/mm/transparent_hugepage/enabled"), V(std::string("madvise")));
  EXPECT_EQ(host.values.at("mitigations"), V(std::string("off")));
  EXPECT_EQ(host.values.at("nosmt"), V(true));
  EXPECT_EQ(host.values.at("nohz_full_x"), V(false));  // absent (only after "--", init's): false
  EXPECT_EQ(host.values.at("audit"), V(std::string("1")));  // absent: the kernel's default
  EXPECT_FALSE(host.values.contains("x"));                   // generic: nothing to read
  for (const char* refused : {"vm.swappiness", "kernel/mm/lru_gen/enabled", "vm.dirty_ratio", "preempt"}) {
    EXPECT_FALSE(host.values.contains(refused)) << refused;
    bool noted = false;
    for (const auto& n : host.notes) noted = noted || kerntune::util::starts_with(n, std::string(refused) + " (");
    EXPECT_TRUE(noted) << refused;
  }
}

TEST(Init, RefusesToOverwriteWithoutForce) {
  kt_test::TempDir d;
  kt_test::write(d / "mine.yaml", "# my own recipe\n");
  auto r = run_cli({"init", "-o", d / "mine.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(d / "mine.yaml"), "# my own recipe\n");
  // Nor through a symlink, even a dangling one.
  fs::create_symlink(d / "elsewhere.yaml", d / "link.yaml");
  EXPECT_EQ(run_cli({"init", "-o", d / "link.yaml"}).code, 2);
  EXPECT_FALSE(fs::exists(d / "elsewhere.yaml"));

  auto f = run_cli({"init", "-o", d / "mine.yaml", "--force"});
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_TRUE(campaign::load_recipe(d / "mine.yaml").has_value());
  for (const auto& e : fs::directory_iterator(d.path))  // no temporary file left beside it
    EXPECT_EQ(e.path().filename().string().find(".init-"), std::string::npos) << e.path();
}

TEST(Init, BadChoicesAreRefusedWithAClearMessage) {
  kt_test::TempDir d;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--target", "kvm"}, "unknown target 'kvm'"},
      {{"--workload", "hackbenhc"}, "unknown workload 'hackbenhc' (did you mean 'hackbench'?)"},
      {{"--space", "sysctl-vn.yaml"}, "unknown search space 'sysctl-vn.yaml' (did you mean 'sysctl-vm.yaml'?)"},
      {{"--space", "sysctl-vm.yaml", "--only", "vm.swapiness"}, "did you mean 'vm.swappiness'?"},
      {{"--metric", "latency"}, "workload 'hackbench' has no metric 'latency'"},
      {{"--direction", "minimise"}, "did you mean 'minimize'?"},
      {{"--trials", "0"}, "at least 1 trial"},
      {{"--target", "ssh"}, "the ssh target needs a host"},
      {{"--target", "command"}, "the command target needs the program to run"},
      {{"--target", "command", "--workload", "hackbench", "--", "true"}, "only for qemu and ssh"},
      {{"--limit", "time <= lots"}, "'limit' must look like"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"init", "-o", d / "bad.yaml"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << c.args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d / "bad.yaml")) << r.err;
  }
}

TEST(Init, HostileValuesStayValues) {
  kt_test::TempDir d;
  // A host name that would be a second key, or an ssh option: refused by the ssh target's own check.
  for (const char* host : {"box\n  kind- command", "-oProxyCommand=touch /tmp/x", "a b", "box'\"\\"}) {
    auto r = run_cli({"init", "--target", "ssh", std::string("--host=") + host, "-o", d / "s.yaml"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("is not a host name or address"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d / "s.yaml"));
  }
  auto colon = run_cli({"init", "--target", "ssh", "--host=box\n  kind: command", "-o", d / "s.yaml"});
  EXPECT_EQ(colon.code, 2) << colon.err;
  EXPECT_NE(colon.err.find("the port must be a number"), std::string::npos) << colon.err;
  EXPECT_FALSE(fs::exists(d / "s.yaml"));
  // A name and argv full of YAML and shell syntax come back byte for byte.
  const std::string name = "x\" #: {y: [1]} & *a !!str 'q' $(id)";
  const std::vector<std::string> argv = {"sh", "-c", "echo \"$1\"; rm -rf /nonexistent # \n  kind: qemu", "--", "- x: y"};
  std::vector<std::string> args = {"init", "--target", "command", "--name", name, "-o", d / "c.yaml", "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rec = campaign::load_recipe(d / "c.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  EXPECT_EQ(rec->name, name);
  ASSERT_EQ(rec->target["argv"].size(), argv.size());
  for (std::size_t i = 0; i < argv.size(); ++i) EXPECT_EQ(rec->target["argv"][i].Scalar(), argv[i]);
  EXPECT_EQ(rec->target["kind"].Scalar(), "command");
  // A name the store refuses (a newline) is refused before anything is written.
  auto n = run_cli({"init", "--name", "a\nb", "-o", d / "n.yaml"});
  EXPECT_EQ(n.code, 2);
  EXPECT_FALSE(fs::exists(d / "n.yaml"));
}

TEST(Init, RecipeBesideTheShippedFilesNamesThemAsTheQuickStartDoes) {
  kt_test::TempDir d;
  fs::create_directories(d.path / "proj/recipes");
  fs::copy(kt_test::source_dir() + "/search-spaces", d.path / "proj/search-spaces", fs::copy_options::recursive);
  fs::copy(kt_test::source_dir() + "/recipes/workloads", d.path / "proj/recipes/workloads", fs::copy_options::recursive);
  auto r = run_cli({"init", "--shipped", d / "proj", "--space", "sysctl-net.yaml", "--workload", "iperf3", "-o",
                    d / "proj/recipes/net.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = YAML::LoadFile(d / "proj/recipes/net.yaml");
  EXPECT_EQ(doc["search_spaces"][0]["file"].Scalar(), "sysctl-net.yaml");
  EXPECT_EQ(doc["workload"].Scalar(), "iperf3");
  auto rec = campaign::load_recipe(d / "proj/recipes/net.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  EXPECT_EQ(fs::path(rec->space.parameters().front().file).parent_path(), fs::weakly_canonical(d.path / "proj/search-spaces"));
}

TEST(Init, ListShowsTheChoices) {
  auto r = run_cli({"init", "--list"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"qemu", "ssh", "command", "hackbench", "metrics: time (min, s)", "redis-memory",
                        "sysctl-vm.yaml", "vm.swappiness", "cmdline: mitigations"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(Init, FromHostOverridesADefaultThisMachineDoesNotRun) {
  // A copy of the shipped files whose vm.swappiness default is not what this machine runs.
  kt_test::TempDir d;
  fs::create_directories(d.path / "proj/recipes");
  fs::copy(kt_test::source_dir() + "/search-spaces", d.path / "proj/search-spaces", fs::copy_options::recursive);
  fs::copy(kt_test::source_dir() + "/recipes/workloads", d.path / "proj/recipes/workloads", fs::copy_options::recursive);
  const long long host = std::stoll(kerntune::util::trim(slurp("/proc/sys/vm/swappiness")));
  ASSERT_TRUE(host >= 0 && host <= 200);
  const long long other = host == 100 ? 101 : 100;
  const std::string vm = d / "proj/search-spaces/sysctl-vm.yaml";
  std::string text = slurp(vm);
  auto at = text.find("default: 60", text.find("name: vm.swappiness"));
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "default: " + std::to_string(other));
  kt_test::write(vm, text);

  auto r = run_cli({"init", "--shipped", d / "proj", "--space", "sysctl-vm.yaml", "--only", "vm.swappiness",
                    "--from-host", "-o", d / "proj/recipes/h.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = YAML::LoadFile(d / "proj/recipes/h.yaml");
  EXPECT_EQ(doc["override"]["vm.swappiness"]["default"].as<long long>(), host);
  auto rec = campaign::load_recipe(d / "proj/recipes/h.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  EXPECT_EQ(std::get<long long>(rec->space.defaults().at("vm.swappiness")), host);
  EXPECT_NE(r.err.find("1 differ from the defaults"), std::string::npos) << r.err;
  EXPECT_NE(slurp(d / "proj/recipes/h.yaml").find("# The baseline (trial 0) is what this machine"), std::string::npos);
}

TEST(Init, PromptsOnATerminalForWhatIsNotGiven) {
  // script(1) gives kerntune a terminal as stdin; the answers are typed into it.
  if (!fs::exists("/usr/bin/script")) GTEST_SKIP() << "script(1) (util-linux) is not installed";
  kt_test::TempDir d;
  kt_test::write(d / "box.py", kBox);
  kerntune::util::RunOptions o;
  o.argv = {"/usr/bin/script", "-qec", kt_test::kerntune_bin() + " init -o p.yaml --direction minimize", "/dev/null"};
  o.cwd = d.path.string();
  o.timeout = std::chrono::seconds(60);
  // target, program, search spaces (Enter: the default), metric, budget.
  o.stdin_data = "command\npython3 box.py\n\ny\n3\n";
  auto r = kerntune::util::run(o);
  ASSERT_TRUE(r) << r.error().format();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_NE(r->out.find("target: qemu, libvirt, ssh or command [qemu]"), std::string::npos) << r->out;
  auto rec = campaign::load_recipe(d / "p.yaml");
  ASSERT_TRUE(rec) << rec.error().format();
  EXPECT_EQ(rec->target["kind"].Scalar(), "command");
  EXPECT_EQ(rec->target["argv"][1].Scalar(), "box.py");
  EXPECT_TRUE(rec->space.find("x"));  // example-generic.yaml, the default for command
  EXPECT_EQ(rec->objectives.at(0).metric, "y");
  EXPECT_EQ(rec->budget_trials, 3);
}
