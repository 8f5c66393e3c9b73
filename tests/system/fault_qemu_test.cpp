// Fault injection at the qemu target (issue 9, docs/hardening.md): the QEMU
// process is SIGKILLed in the middle of a trial's workload. That trial comes
// back as a failed outcome (not an Error that would stop the campaign), and
// the next trial boots a fresh VM and succeeds. A real TCG boot of the kernel
// fetched by scripts/fetch-kernel.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/workloads/workload.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;

namespace {

workloads::Workload probe(const std::string& script) {
  workloads::Workload w;
  w.name = "probe";
  w.file = "(test)";
  w.command = {"sh", "-c", script};
  w.repeats = 1;
  w.warmup = 0;
  w.timeout = 120s;
  workloads::MetricSpec s;
  s.name = "v";
  s.source = workloads::MetricSpec::Source::kerntune_metric;
  w.metrics.push_back(s);
  return w;
}

// Pids of qemu-system processes whose command line mentions `marker`.
std::vector<int> qemu_pids(const std::string& marker) {
  std::vector<int> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find("qemu-system") != std::string::npos && cmd.find(marker) != std::string::npos)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

}  // namespace

TEST(FaultQemu, SigkillOfQemuMidTrialFailsThatTrialOnlyAndTheNextOneBootsAgain) {
  auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(kernel && fs::exists(*kernel)) << "no kernel image: run scripts/fetch-kernel";
  ASSERT_TRUE(util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";
  targets::QemuOptions o;
  o.kernel = *kernel;
  o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/qemu-fault-work";
  o.boot_timeout = 180s;
  if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
  ASSERT_EQ(o.validate(), "");
  targets::QemuTarget target(o);

  auto quick = probe("echo KERNTUNE_METRIC v 1");
  targets::TrialRequest r1;
  r1.workload = &quick;
  auto first = target.run_trial(r1);
  ASSERT_TRUE(first.has_value()) << first.error().format();
  ASSERT_TRUE(first->ok) << first->failure_stage << ": " << first->failure_reason;
  ASSERT_FALSE(qemu_pids(o.work_dir).empty()) << "cannot find the VM's QEMU process";

  // The second trial's workload announces itself, then sleeps: kill QEMU then.
  auto slow = probe("echo started; sleep 60; echo KERNTUNE_METRIC v 2");
  targets::TrialRequest r2;
  r2.seq = 1;
  r2.workload = &slow;
  auto pending = std::async(std::launch::async, [&] { return target.run_trial(r2); });
  std::this_thread::sleep_for(5s);  // the workload is running by now (the VM is reused)
  ASSERT_EQ(pending.wait_for(0s), std::future_status::timeout) << "the trial ended before the kill";
  auto pids = qemu_pids(o.work_dir);
  ASSERT_FALSE(pids.empty());
  for (int pid : pids) ::kill(pid, SIGKILL);
  ASSERT_EQ(pending.wait_for(120s), std::future_status::ready) << "the trial did not notice QEMU died";
  auto second = pending.get();
  ASSERT_TRUE(second.has_value()) << "a dead VM must be a failed trial, not an Error: " << second.error().format();
  EXPECT_FALSE(second->ok);
  EXPECT_FALSE(second->failure_stage.empty());
  EXPECT_FALSE(second->failure_reason.empty());

  // The campaign goes on: the next trial boots a new VM.
  targets::TrialRequest r3;
  r3.seq = 2;
  r3.workload = &quick;
  auto third = target.run_trial(r3);
  ASSERT_TRUE(third.has_value()) << third.error().format();
  EXPECT_TRUE(third->ok) << third->failure_stage << ": " << third->failure_reason;
  EXPECT_GT(third->timings["boot"], 0) << "no new boot after the VM was killed";
  target.shutdown();
  EXPECT_TRUE(qemu_pids(o.work_dir).empty()) << "shutdown left a QEMU running";
}
