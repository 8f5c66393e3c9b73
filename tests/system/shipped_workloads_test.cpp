// System test of the shipped workloads (recipes/workloads/*.yaml) in a real
// guest booted by the qemu target: each runs once (its setup first) and every
// metric it declares is extracted from the guest's output. One boot serves
// all: every workload is given the union of all their binaries, so they share
// one initramfs and the VM is reused (setup runs once per workload per boot).
// Registered from tests/workloads/CMakeLists.txt (label system).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/workloads/workload.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;

TEST(ShippedWorkloadsSystem, EveryShippedWorkloadRunsInTheGuestAndYieldsItsMetrics) {
  const std::string src = KERNTUNE_SOURCE_DIR;
  auto kernel = targets::default_kernel({src});
  ASSERT_TRUE(kernel && fs::exists(*kernel)) << "no kernel image: run scripts/fetch-kernel";
  ASSERT_TRUE(util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";

  std::vector<workloads::Workload> all;
  std::set<std::string> binaries;
  for (const auto& name : workloads::available_workloads({src + "/recipes/workloads"})) {
    auto w = workloads::load_workload(name, {src + "/recipes"});
    ASSERT_TRUE(w) << w.error().format();
    binaries.insert(w->binaries.begin(), w->binaries.end());
    all.push_back(std::move(*w));
  }
  ASSERT_GE(all.size(), 5u);

  targets::QemuOptions o;
  o.kernel = *kernel;
  o.memory = "1024M";
  o.cpus = 1;
  o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/shipped-workloads-system-work";
  o.boot_timeout = 180s;
  if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
  ASSERT_EQ(o.validate(), "");
  targets::QemuTarget t(o);

  int seq = 0;
  for (auto& w : all) {
    SCOPED_TRACE(w.name);
    // redis-memory needs the qemu target's swap disk (its setup makes /dev/vda
    // swap), which gives each boot a fresh disk: it cannot share this one VM.
    // Its in-guest run is the quick start's (recipes/quickstart.yaml).
    if (w.name == "redis-memory") continue;
    w.binaries.assign(binaries.begin(), binaries.end());
    targets::TrialRequest r;
    r.seq = ++seq;
    r.workload = &w;
    r.repeats = 1;
    r.warmup = 0;
    auto out = t.run_trial(r);
    ASSERT_TRUE(out) << out.error().format();
    std::string log;
    for (const auto& a : out->artifacts)
      if (a.name == "workload.log") log = a.content.substr(a.content.size() > 3000 ? a.content.size() - 3000 : 0);
    ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason << "\n" << log;
    std::string report = w.name + ": workload " + std::to_string(out->timings["workload"]) + " s";
    for (const auto& m : w.metrics) {
      auto it = out->samples.find(m.name);
      if (it != out->samples.end() && !it->second.empty())
        report += ", " + m.name + " " + std::to_string(it->second[0]) + " " + m.unit;
      ASSERT_NE(it, out->samples.end()) << m.name;
      ASSERT_EQ(it->second.size(), 1u) << m.name;
      EXPECT_TRUE(std::isfinite(it->second[0]) && it->second[0] > 0) << m.name << " = " << it->second[0];
    }
    std::printf("%s\n", report.c_str());  // figures for docs/workloads.md
  }
  EXPECT_EQ(t.boot_count(), 1);
  t.shutdown();
}
