// System tests of the ssh target against real SSH hosts: QEMU VMs (TCG) that
// run dropbear (ssh_host.hpp, scripts/ssh-test-host). kexec into a new
// command line, sysctls applied/read back/restored over SSH, a workload
// measured; a kexec that never comes back is recovered by the recovery
// command (the VM is restarted) and recorded as a boot failure; a host lost
// mid-trial leaves the pool and the next trial runs on another host.
#include <gtest/gtest.h>

#include <iostream>

#include "targets/ssh_target.hpp"
#include "kerntune/workloads/workload.hpp"
#include "ssh_host.hpp"

using namespace std::chrono_literals;
using namespace kerntune;
using kt_ssh_test::TestHost;
using targets::TrialOutcome;
using targets::TrialRequest;
namespace fs = std::filesystem;

namespace {

workloads::Workload probe(const std::string& script, std::vector<std::string> metrics) {
  workloads::Workload w;
  w.name = "probe";
  w.file = "(test)";
  w.command = {"sh", "-c", script};
  w.repeats = 2;
  w.warmup = 0;
  w.timeout = 60s;
  for (auto& m : metrics) {
    workloads::MetricSpec s;
    s.name = m;
    s.source = workloads::MetricSpec::Source::kerntune_metric;
    w.metrics.push_back(s);
  }
  return w;
}

// Starts a test host in `dir` and returns it with its inventory entry.
struct Started {
  TestHost host;
  targets::SshHost entry;
};

std::optional<Started> start_host(const fs::path& dir, const std::string& name) {
  fs::remove_all(dir);
  auto h = TestHost::create(dir);
  EXPECT_TRUE(h.has_value()) << h.error().format();
  if (!h) return std::nullopt;
  auto s = h->start();
  EXPECT_TRUE(s.has_value()) << s.error().format() << h->console();
  if (!s) return std::nullopt;
  targets::SshHost e;
  e.name = name;
  e.address = "127.0.0.1";
  e.port = h->port;
  e.key = h->key;
  e.known_hosts = (dir / "known_hosts").string();
  EXPECT_TRUE(util::write_file(e.known_hosts, h->known_hosts_line()).has_value());
  e.recovery = h->restart_argv();
  return Started{*h, e};
}

TrialOutcome trial(targets::SshTarget& t, const TrialRequest& r) {
  auto out = t.run_trial(r);
  EXPECT_TRUE(out.has_value()) << out.error().format();
  return out ? *out : TrialOutcome::failure("test", "run_trial returned an Error");
}

std::string artifact(const TrialOutcome& o, const std::string& name) {
  for (const auto& a : o.artifacts)
    if (a.name == name) return a.content;
  return {};
}

TEST(SshTarget, KexecSysctlsWorkloadAndRecoveryFromABootThatNeverReturns) {
  fs::path dir = fs::path(KERNTUNE_BINARY_DIR) / "ssh-system-kexec";
  auto s = start_host(dir, "vm");
  ASSERT_TRUE(s);
  struct Stop {
    TestHost& h;
    ~Stop() { h.stop(); }
  } stop{s->host};

  targets::SshOptions o;
  o.hosts = {s->entry};
  o.boot_timeout = 180s;       // kexec to SSH took ~60 s at load 22 on 2 cores
  o.command_timeout = 60s;
  o.work_dir = (dir / "work").string();
  targets::SshTarget target(o);

  auto w = probe("echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness); "
                 "grep -qw nowatchdog /proc/cmdline && echo KERNTUNE_METRIC marked 1 || echo KERNTUNE_METRIC marked 0",
                 {"swappiness", "marked"});

  // 1. kexec into the same kernel with a new command line; a sysctl; the workload sees both.
  TrialRequest r;
  r.seq = 1;
  r.boot.kernel = s->host.kernel;
  r.boot.initramfs = s->host.initramfs;
  r.boot.cmdline = "nowatchdog";  // a real 6.1 flag: an unknown word fails the trial at boot
  r.sysctls = {{"vm.swappiness", "33"}};
  r.workload = &w;
  r.repeats = 2;
  auto t1 = trial(target, r);
  ASSERT_TRUE(t1.ok) << t1.failure_stage << ": " << t1.failure_reason << "\n" << artifact(t1, "ssh.log")
                     << s->host.console();
  EXPECT_EQ(target.boot_count(), 1);
  EXPECT_EQ(t1.effective["cmdline"], "console=ttyS0 panic=-1 quiet nowatchdog");  // base: the host's own line
  EXPECT_EQ(t1.effective["vm.swappiness"], "33");
  EXPECT_EQ(t1.effective["kernel_release"], targets::bzimage_release(s->host.kernel).value_or("?"));
  EXPECT_EQ(t1.samples["swappiness"], (std::vector<double>{33, 33}));
  EXPECT_EQ(t1.samples["marked"], (std::vector<double>{1, 1}));
  EXPECT_EQ(t1.worker, "ssh-vm");
  std::cout << "kexec trial: boot " << t1.timings["boot"] << " s, deploy " << t1.timings["deploy"] << " s\n";

  // 2. Same boot: no kexec; swappiness was restored to its boot value (60) after trial 1.
  TrialRequest r2 = r;
  r2.seq = 2;
  r2.sysctls = {{"vm.dirty_ratio", "15"}};
  auto t2 = trial(target, r2);
  ASSERT_TRUE(t2.ok) << t2.failure_reason;
  EXPECT_EQ(target.boot_count(), 1);
  EXPECT_EQ(t2.timings["boot"], 0);
  EXPECT_EQ(t2.samples["swappiness"], (std::vector<double>{60, 60}));
  EXPECT_EQ(t2.effective["vm.dirty_ratio"], "15");

  // 3. A kernel that panics (no init): the host never returns → recovery (VM restarted) → boot failure.
  TrialRequest r3 = r;
  r3.seq = 3;
  r3.boot.cmdline = "rdinit=/nonexistent";
  auto t3 = trial(target, r3);
  EXPECT_FALSE(t3.ok);
  EXPECT_EQ(t3.failure_stage, "boot");
  EXPECT_NE(t3.failure_reason.find("did not come back"), std::string::npos) << t3.failure_reason;
  EXPECT_NE(t3.failure_reason.find("recovered"), std::string::npos) << t3.failure_reason;
  EXPECT_NE(artifact(t3, "ssh.log").find("== recovery `"), std::string::npos) << artifact(t3, "ssh.log");
  EXPECT_EQ(target.pool(), std::vector<std::string>{"vm"});
  EXPECT_NE(artifact(t3, "ssh.log").find("--command-line=console=ttyS0 panic=-1 quiet rdinit=/nonexistent`: exit 0"),
            std::string::npos)
      << artifact(t3, "ssh.log");  // kexec loaded that line

  // 4. The campaign goes on: the recovered host runs its own kernel and takes the next trial.
  TrialRequest r4;
  r4.seq = 4;
  r4.sysctls = {{"vm.swappiness", "21"}};
  r4.workload = &w;
  r4.repeats = 2;
  auto t4 = trial(target, r4);
  ASSERT_TRUE(t4.ok) << t4.failure_reason;
  EXPECT_EQ(t4.effective["cmdline"], "console=ttyS0 panic=-1 quiet");
  EXPECT_EQ(t4.samples["swappiness"], (std::vector<double>{21, 21}));
  EXPECT_EQ(t4.samples["marked"], (std::vector<double>{0, 0}));
  target.shutdown();
}

TEST(SshTarget, HostLostMidTrialLeavesThePoolAndTheNextTrialRunsOnAnother) {
  fs::path base = fs::path(KERNTUNE_BINARY_DIR) / "ssh-system-pool";
  auto a = start_host(base / "a", "a");
  ASSERT_TRUE(a);
  struct Stop {
    TestHost& h;
    ~Stop() { h.stop(); }
  } stop_a{a->host};
  auto b = start_host(base / "b", "b");
  ASSERT_TRUE(b);
  struct Stop stop_b{b->host};

  targets::SshOptions o;
  a->entry.recovery.clear();  // no recovery: a lost host stays out
  b->entry.recovery.clear();
  o.hosts = {a->entry, b->entry};
  o.command_timeout = 60s;
  targets::SshTarget target(o);
  EXPECT_EQ(target.pool(), (std::vector<std::string>{"a", "b"}));

  // The workload powers the host off in the middle of the trial (QEMU exits).
  auto w = probe("echo o > /proc/sysrq-trigger; sleep 30; echo KERNTUNE_METRIC x 1", {"x"});
  TrialRequest r;
  r.seq = 1;
  r.sysctls = {{"vm.swappiness", "40"}};
  r.workload = &w;
  r.repeats = 2;
  auto t1 = trial(target, r);
  EXPECT_FALSE(t1.ok);
  EXPECT_EQ(t1.failure_stage, "workload");
  EXPECT_EQ(t1.worker, "ssh-a");
  EXPECT_NE(t1.failure_reason.find("host a stopped answering"), std::string::npos) << t1.failure_reason;
  EXPECT_EQ(target.pool(), std::vector<std::string>{"b"});

  auto ok = probe("echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)", {"swappiness"});
  r.seq = 2;
  r.workload = &ok;
  auto t2 = trial(target, r);
  ASSERT_TRUE(t2.ok) << t2.failure_reason;
  EXPECT_EQ(t2.worker, "ssh-b");
  EXPECT_EQ(t2.samples["swappiness"], (std::vector<double>{40, 40}));

  // With no target host left, the campaign must stop: an Error, not an outcome.
  b->host.stop();
  // (The first trial may still find b's old session open and fail as "lost"; the next cannot.)
  r.seq = 3;
  auto t3 = target.run_trial(r);
  if (t3) {
    EXPECT_FALSE(t3->ok);
    r.seq = 4;
    t3 = target.run_trial(r);
  }
  EXPECT_FALSE(t3.has_value());
  if (!t3) {
    EXPECT_NE(t3.error().message.find("no ssh target host is left"), std::string::npos) << t3.error().message;
    EXPECT_EQ(t3.error().kind, util::Error::Kind::io) << "an empty pool is infrastructure, not bad input";
  }
}

}  // namespace
