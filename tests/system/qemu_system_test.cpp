// System tests of the qemu target: real QEMU boots of the Debian 6.1 kernel
// that scripts/fetch-kernel unpacks into .cache/kernel, with the initramfs and
// guest agent kerntune builds. Each case boots its own VM(s).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <filesystem>
#include <iostream>

#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/workloads/workload.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;
using targets::TrialOutcome;
using targets::TrialRequest;

namespace {

// Runnable tasks per core over the last minute, at least 1.
double contention() {
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) return 1.0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return std::max(1.0, load[0] / static_cast<double>(cores > 0 ? cores : 1));
}

std::unique_ptr<targets::QemuTarget> make_target(
    targets::QemuOptions::BetweenTrials between = targets::QemuOptions::BetweenTrials::restore,
    const std::string& memory = "512M") {
  auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  if (!kernel || !fs::exists(*kernel)) {
    ADD_FAILURE() << "no kernel image: run scripts/fetch-kernel (system tests need a real kernel)";
    return nullptr;
  }
  if (!util::which("qemu-system-x86_64")) {
    ADD_FAILURE() << "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    return nullptr;
  }
  targets::QemuOptions o;
  o.kernel = *kernel;
  o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/qemu-system-work";
  o.boot_timeout = 120s;  // a loaded 2-core TCG host can take a while
  o.between_trials = between;
  o.memory = memory;
  if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
  EXPECT_EQ(o.validate(), "");
  return std::make_unique<targets::QemuTarget>(o);
}

// A workload whose argv runs in the guest and reports KERNTUNE_METRIC lines.
workloads::Workload probe(std::vector<std::string> command, std::vector<std::string> metrics,
                          std::chrono::milliseconds timeout = 60s) {
  workloads::Workload w;
  w.name = "probe";
  w.file = "(test)";
  w.command = std::move(command);
  w.repeats = 1;
  w.warmup = 0;
  w.timeout = timeout;
  for (auto& m : metrics) {
    workloads::MetricSpec s;
    s.name = m;
    s.source = workloads::MetricSpec::Source::kerntune_metric;
    w.metrics.push_back(s);
  }
  return w;
}

workloads::Workload shell_probe(const std::string& script, std::vector<std::string> metrics) {
  return probe({"sh", "-c", script}, std::move(metrics));
}

TrialOutcome trial(targets::QemuTarget& t, TrialRequest r) {
  auto out = t.run_trial(r);
  EXPECT_TRUE(out.has_value()) << out.error().format();
  return out ? *out : TrialOutcome::failure("test", "run_trial returned an Error");
}

std::string why(const TrialOutcome& o) {
  std::string s = o.failure_stage + ": " + o.failure_reason;
  for (const auto& a : o.artifacts)
    if (a.name == "console.log") s += "\n--- console ---\n" + a.content.substr(a.content.size() > 3000 ? a.content.size() - 3000 : 0);
  return s;
}

double sample(const TrialOutcome& o, const std::string& metric) {
  auto it = o.samples.find(metric);
  if (it == o.samples.end() || it->second.empty()) {
    ADD_FAILURE() << "no samples for " << metric;
    return -1;
  }
  return it->second.front();
}

}  // namespace

TEST(QemuSystem, SysctlAndSysfsAreAppliedReadBackRestoredAndTheVmIsReused) {
  auto t = make_target(targets::QemuOptions::BetweenTrials::reuse);
  ASSERT_TRUE(t);
  // thp: 0 always, 1 madvise, 2 never (with 512 MB the kernel starts with never).
  auto w = shell_probe(
      "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness);"
      "case \"$(cat /sys/kernel/mm/transparent_hugepage/enabled)\" in"
      " *'[always]'*) n=0;; *'[madvise]'*) n=1;; *) n=2;; esac;"
      "echo KERNTUNE_METRIC thp $n;"
      "echo KERNTUNE_METRIC preempt_full $(grep -c '(full)' /sys/kernel/debug/sched/preempt)",
      {"swappiness", "thp", "preempt_full"});
  TrialRequest before;
  before.workload = &w;
  auto out0 = trial(*t, before);
  ASSERT_TRUE(out0.ok) << why(out0);
  EXPECT_GT(out0.timings["boot"], 0);
  double thp_boot = sample(out0, "thp");
  std::string thp_value = thp_boot == 0 ? "never" : "always";  // anything but the boot value

  TrialRequest a;
  a.sysctls = {{"vm.swappiness", "23"}, {"kernel.sched_autogroup_enabled", "0"}};
  // A debugfs knob with a "(value)" list, given as an absolute path.
  a.sysfs = {{"kernel/mm/transparent_hugepage/enabled", thp_value}, {"/sys/kernel/debug/sched/preempt", "full"}};
  a.workload = &w;
  auto out = trial(*t, a);
  ASSERT_TRUE(out.ok) << why(out);
  EXPECT_EQ(out.effective["vm.swappiness"], "23");
  EXPECT_EQ(out.effective["kernel.sched_autogroup_enabled"], "0");
  EXPECT_EQ(out.effective["kernel/mm/transparent_hugepage/enabled"], thp_value);
  EXPECT_EQ(sample(out, "swappiness"), 23);  // seen by a program in the guest
  EXPECT_EQ(sample(out, "thp"), thp_value == "never" ? 2 : 0);
  EXPECT_EQ(out.effective["/sys/kernel/debug/sched/preempt"], "full");
  EXPECT_EQ(sample(out, "preempt_full"), 1);
  EXPECT_EQ(out.timings["boot"], 0);  // same kernel and cmdline: the VM was reused
  for (const char* stage : {"apply", "workload", "restore", "total"}) EXPECT_TRUE(out.timings.contains(stage)) << stage;
  // Guest-wide metrics beside the workload's own.
  double mem_min = sample(out, "sys.mem_available_min_kb");
  EXPECT_GT(mem_min, 100 * 1024);
  EXPECT_LT(mem_min, 512 * 1024);
  EXPECT_GT(sample(out, "sys.slab_kb"), 0);
  EXPECT_GT(sample(out, "sys.cached_kb"), 0);
  EXPECT_GT(sample(out, "sys.pgfault"), 0);
  EXPECT_GT(sample(out, "sys.ctxt"), 0);
  EXPECT_EQ(out.units["sys.mem_available_min_kb"], "kB");

  // The knobs are back at their boot values, still in the same VM.
  TrialRequest b;
  b.workload = &w;
  auto out2 = trial(*t, b);
  ASSERT_TRUE(out2.ok) << why(out2);
  EXPECT_EQ(t->boot_count(), 1);
  EXPECT_EQ(sample(out2, "swappiness"), sample(out0, "swappiness"));
  EXPECT_EQ(sample(out2, "thp"), thp_boot);
  EXPECT_EQ(sample(out0, "preempt_full"), 0);  // Debian 6.1 boots with voluntary
  EXPECT_EQ(sample(out2, "preempt_full"), 0);
  t->shutdown();
}

// between_trials: restore starts every trial of a boot from the snapshot
// taken right after it booted: a file, the memory it held and a knob the
// previous trial wrote are gone, and the guest's free memory is what the
// first trial of the boot saw. A reused VM keeps all three.
TEST(QemuSystem, ARestoredTrialStartsFromTheBootedVmAndAReusedOneFromThePreviousTrial) {
  using B = targets::QemuOptions::BetweenTrials;
  // Before anything: is the previous trial's file there, free memory, the
  // knob; then leave 24 MiB in the initramfs' RAM-backed root.
  auto w = shell_probe(
      "if [ -e /kt-left ]; then echo KERNTUNE_METRIC left 1; else echo KERNTUNE_METRIC left 0; fi;"
      "echo KERNTUNE_METRIC memfree $(awk '/^MemFree:/{print $2}' /proc/meminfo);"
      "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness);"
      "dd if=/dev/zero of=/kt-left bs=1M count=24 2>/dev/null",
      {"left", "memfree", "swappiness"});
  std::map<B, std::vector<TrialOutcome>> runs;
  for (B mode : {B::restore, B::reuse}) {
    auto t = make_target(mode, "256M");
    ASSERT_TRUE(t);
    TrialRequest first;
    first.workload = &w;
    first.sysctls = {{"vm.swappiness", "23"}};
    TrialRequest second;
    second.workload = &w;
    runs[mode].push_back(trial(*t, first));
    runs[mode].push_back(trial(*t, second));
    for (auto& o : runs[mode]) ASSERT_TRUE(o.ok) << targets::to_string(mode) << ": " << why(o);
    EXPECT_EQ(t->boot_count(), 1) << targets::to_string(mode);  // neither mode boots again
    if (mode == B::restore) {  // a confirmation run (an independent replicate) boots afresh
      TrialRequest replicate = second;
      replicate.independent = true;
      auto o = trial(*t, replicate);
      ASSERT_TRUE(o.ok) << why(o);
      EXPECT_EQ(t->boot_count(), 2);
      EXPECT_GT(o.timings.at("boot"), 0);
      EXPECT_EQ(sample(o, "left"), 0);
    }
    t->shutdown();
  }
  const auto& r = runs[B::restore];
  EXPECT_GT(r[0].timings.at("boot"), 0);
  EXPECT_GT(r[0].timings.at("snapshot_save"), 0);
  EXPECT_EQ(r[1].timings.at("boot"), 0);
  EXPECT_GT(r[1].timings.at("snapshot_load"), 0);
  EXPECT_LT(r[1].timings.at("snapshot_load"), r[0].timings.at("boot"));
  EXPECT_EQ(sample(r[0], "left"), 0);
  EXPECT_EQ(sample(r[1], "left"), 0);              // the file is gone
  EXPECT_EQ(sample(r[0], "swappiness"), 23);
  EXPECT_EQ(sample(r[1], "swappiness"), 60);      // the boot's value, not written back: loaded
  EXPECT_NEAR(sample(r[1], "memfree"), sample(r[0], "memfree"), 4 * 1024);  // kB: as the boot left it
  const auto& u = runs[B::reuse];
  EXPECT_FALSE(u[1].timings.contains("snapshot_load"));
  EXPECT_EQ(sample(u[1], "left"), 1);             // the previous trial's file is still there
  EXPECT_EQ(sample(u[1], "swappiness"), 60);      // written back by the restore stage
  EXPECT_LT(sample(u[1], "memfree"), sample(u[0], "memfree") - 16 * 1024);  // and the memory it holds
  std::cout << "restored trial: snapshot load " << r[1].timings.at("snapshot_load") << " s, save "
            << r[0].timings.at("snapshot_save") << " s, boot " << r[0].timings.at("boot") << " s\n";
}

TEST(QemuSystem, BootParameterAppearsInTheGuestCmdlineAndAChangeReboots) {
  auto t = make_target();
  ASSERT_TRUE(t);
  TrialRequest a;
  a.boot.cmdline = "kerntune.marker=4711 mitigations=off";
  auto out = trial(*t, a);
  ASSERT_TRUE(out.ok) << why(out);
  std::string cmdline = out.effective["cmdline"];
  EXPECT_NE(cmdline.find("kerntune.marker=4711"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("mitigations=off"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("console=ttyS0"), std::string::npos) << cmdline;
  TrialRequest b;
  b.boot.cmdline = "kerntune.marker=4712";
  auto out2 = trial(*t, b);
  ASSERT_TRUE(out2.ok) << why(out2);
  EXPECT_EQ(t->boot_count(), 2);
  std::string cmdline2 = out2.effective["cmdline"];
  EXPECT_NE(cmdline2.find("kerntune.marker=4712"), std::string::npos) << cmdline2;
  EXPECT_EQ(cmdline2.find("mitigations=off"), std::string::npos) << cmdline2;
  t->shutdown();
}

TEST(QemuSystem, HostileSysctlValueIsAppliedLiterallyOrRefusedNeverExecuted) {
  auto t = make_target();
  ASSERT_TRUE(t);
  auto check = shell_probe(
      "if [ -e /tmp/pwned ] || [ -e /tmp/pwned2 ]; then p=1; else p=0; fi; echo KERNTUNE_METRIC pwned $p",
      {"pwned"});
  // kernel.hostname takes any bytes up to its first newline (64 at most).
  std::string hostile = "a'\"b;$(touch /tmp/pwned)`touch /tmp/pwned2`\nreboot -f";
  TrialRequest a;
  a.sysctls = {{"kernel.hostname", hostile}};
  a.workload = &check;
  auto out = trial(*t, a);
  if (out.ok) {
    EXPECT_EQ(out.effective["kernel.hostname"], "a'\"b;$(touch /tmp/pwned)`touch /tmp/pwned2`");
    EXPECT_EQ(sample(out, "pwned"), 0);
  } else {
    EXPECT_EQ(out.failure_stage, "apply") << why(out);
  }
  // Either way, in the same boot, nothing ran.
  TrialRequest b;
  b.workload = &check;
  auto out2 = trial(*t, b);
  ASSERT_TRUE(out2.ok) << why(out2);
  EXPECT_EQ(t->boot_count(), 1);
  EXPECT_EQ(sample(out2, "pwned"), 0);
  t->shutdown();
}

TEST(QemuSystem, HangingWorkloadIsKilledAtItsTimeoutAndTheNextTrialWorks) {
  auto t = make_target();
  ASSERT_TRUE(t);
  auto hang = probe({"sleep", "1000"}, {"never"}, 3s);
  TrialRequest a;
  a.workload = &hang;
  auto t0 = std::chrono::steady_clock::now();
  auto out = trial(*t, a);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure_stage, "timeout") << why(out);
  EXPECT_NE(out.failure_reason.find("3 s"), std::string::npos) << out.failure_reason;
  EXPECT_LT(took - out.timings["boot"], 30.0 * contention());
  bool console = false;
  for (const auto& art : out.artifacts) console = console || (art.name == "console.log" && !art.content.empty());
  EXPECT_TRUE(console);

  auto ok = shell_probe("echo KERNTUNE_METRIC answer 42", {"answer"});
  TrialRequest b;
  b.workload = &ok;
  auto out2 = trial(*t, b);
  ASSERT_TRUE(out2.ok) << why(out2);
  EXPECT_EQ(sample(out2, "answer"), 42);
  EXPECT_EQ(t->boot_count(), 2);  // the hung VM was killed; a fresh one booted
  t->shutdown();
}

TEST(QemuSystem, KernelPanicAtBootIsABootFailureWithin30Seconds) {
  auto t = make_target();
  ASSERT_TRUE(t);
  TrialRequest a;
  a.boot.cmdline = "rdinit=/nonexistent";
  auto t0 = std::chrono::steady_clock::now();
  auto out = trial(*t, a);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure_stage, "boot") << why(out);
  EXPECT_NE(out.failure_reason.find("Kernel panic"), std::string::npos) << out.failure_reason;
  // Detected from the console, not by the boot timeout: 30 s on an idle
  // 2-core host. A TCG guest only gets its share of a loaded host's CPUs, so
  // the bound stretches with the load average per core (printed on failure).
  EXPECT_LT(took, 30.0 * contention()) << "load factor " << contention();
  std::string console;
  for (const auto& art : out.artifacts)
    if (art.name == "console.log") console = art.content;
  EXPECT_NE(console.find("Kernel panic - not syncing"), std::string::npos);
}

TEST(QemuSystem, MissingSysctlFailsAtApplyMissingMetricAtParseCrashAtWorkload) {
  auto t = make_target();
  ASSERT_TRUE(t);
  auto ok = shell_probe("echo KERNTUNE_METRIC answer 42", {"answer"});
  TrialRequest a;
  a.sysctls = {{"vm.swappiness", "11"}, {"vm.kerntune_no_such_knob", "1"}};
  a.workload = &ok;
  auto out = trial(*t, a);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure_stage, "apply");
  EXPECT_NE(out.failure_reason.find("vm.kerntune_no_such_knob"), std::string::npos) << out.failure_reason;

  // The VM stays (apply failures restore what was written): swappiness is back to 60.
  auto silent = shell_probe("echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)",
                            {"swappiness", "throughput"});
  TrialRequest b;
  b.workload = &silent;
  auto out2 = trial(*t, b);
  EXPECT_FALSE(out2.ok);
  EXPECT_EQ(out2.failure_stage, "parse") << why(out2);
  EXPECT_NE(out2.failure_reason.find("throughput"), std::string::npos) << out2.failure_reason;
  EXPECT_EQ(t->boot_count(), 1);

  auto crash = shell_probe("echo about to fail; exit 7", {"answer"});
  TrialRequest c;
  c.workload = &crash;
  auto out3 = trial(*t, c);
  EXPECT_FALSE(out3.ok);
  EXPECT_EQ(out3.failure_stage, "workload");
  EXPECT_NE(out3.failure_reason.find("exit code 7"), std::string::npos) << out3.failure_reason;
  EXPECT_NE(out3.failure_reason.find("about to fail"), std::string::npos) << out3.failure_reason;

  auto verify = shell_probe("echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)", {"swappiness"});
  TrialRequest d;
  d.workload = &verify;
  auto out4 = trial(*t, d);
  ASSERT_TRUE(out4.ok) << why(out4);
  EXPECT_EQ(sample(out4, "swappiness"), 60);
  EXPECT_EQ(t->boot_count(), 2);
  t->shutdown();
}

TEST(QemuSystem, RealWorkloadWithSharedLibrariesAndModulesRunsInTheGuest) {
  auto t = make_target();
  ASSERT_TRUE(t);
  workloads::Workload w;
  w.name = "hackbench-small";
  w.file = "(test)";
  w.binaries = {"hackbench"};
  // A module with a dependency (xfrm_user needs xfrm_algo): /init loads both;
  // the setup command fails the trial if either is absent.
  w.modules = {"xfrm_user"};
  w.setup = {{"sh", "-c", "grep -q '^xfrm_algo ' /proc/modules && grep -q '^xfrm_user ' /proc/modules"}};
  w.command = {"hackbench", "-g", "2", "-l", "20"};
  w.repeats = 2;
  w.warmup = 1;
  w.timeout = 60s;
  workloads::MetricSpec m;
  m.name = "time";
  m.regex = "^Time: (?<value>[0-9]+\\.[0-9]+)";
  m.unit = "s";
  w.metrics = {m};
  TrialRequest r;
  r.workload = &w;
  r.repeats = 0;  // the workload's own repeats and warm-up
  auto out = trial(*t, r);
  ASSERT_TRUE(out.ok) << why(out);
  ASSERT_EQ(out.samples["time"].size(), 2u);
  EXPECT_GT(out.samples["time"][0], 0);
  EXPECT_EQ(out.units["time"], "s");
  EXPECT_EQ(out.samples["sys.ctxt"].size(), 2u);
  EXPECT_TRUE(out.timings.contains("setup"));

  // The same workload again in the same VM: no boot, no setup; kerntune's own
  // share of the trial (not boot, not workload) is small.
  TrialRequest again = r;
  again.seq = 2;
  again.sysctls = {{"vm.swappiness", "30"}, {"kernel.sched_autogroup_enabled", "0"}};
  auto out2 = trial(*t, again);
  ASSERT_TRUE(out2.ok) << why(out2);
  EXPECT_EQ(t->boot_count(), 1);
  EXPECT_EQ(out2.timings["boot"], 0);
  double overhead = out2.timings["total"] - out2.timings["workload"];
  std::cout << "reused-VM trial: total " << out2.timings["total"] << " s, workload " << out2.timings["workload"]
            << " s, overhead " << overhead << " s (" << 100.0 * overhead / out2.timings["total"] << "%)\n"
            << "boot trial: total " << out.timings["total"] << " s, boot " << out.timings["boot"] << " s\n";
  EXPECT_LT(overhead, 0.25 * out2.timings["total"]);
  t->shutdown();
}

// `baseline: target`: the trial writes nothing and reports the guest's own
// values of the listed knobs (the values in the request are ignored); then a
// normal trial in the same VM applies and a third reads the boot values again.
TEST(QemuSystem, ReadCurrentReportsTheGuestsOwnValuesAndWritesNothing) {
  auto t = make_target();
  ASSERT_TRUE(t);
  auto w = shell_probe("echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness);"
                       "echo KERNTUNE_METRIC min_free $(cat /proc/sys/vm/min_free_kbytes)",
                       {"swappiness", "min_free"});
  TrialRequest read;
  read.sysctls = {{"vm.swappiness", "30"}, {"vm.min_free_kbytes", "2048"}};
  read.sysfs = {{"kernel/mm/transparent_hugepage/enabled", "never"}};
  read.workload = &w;
  read.read_current = true;
  auto out = trial(*t, read);
  ASSERT_TRUE(out.ok) << why(out);
  EXPECT_EQ(out.effective["vm.swappiness"], "60");  // Debian 6.1's own (tests/data/guest-defaults-6.1.txt)
  EXPECT_EQ(sample(out, "swappiness"), 60);        // nothing was written
  std::string min_free = out.effective["vm.min_free_kbytes"];
  EXPECT_EQ(sample(out, "min_free"), std::stod(min_free));
  std::string thp = out.effective["kernel/mm/transparent_hugepage/enabled"];
  EXPECT_TRUE(thp == "always" || thp == "madvise" || thp == "never") << thp;  // the active entry, not the list

  TrialRequest apply = read;
  apply.read_current = false;
  auto applied = trial(*t, apply);
  ASSERT_TRUE(applied.ok) << why(applied);
  EXPECT_EQ(sample(applied, "swappiness"), 30);
  auto again = trial(*t, read);
  ASSERT_TRUE(again.ok) << why(again);
  EXPECT_EQ(again.effective["vm.swappiness"], "60") << "the applied trial was not restored";
}
