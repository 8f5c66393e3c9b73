// System test of the workload cgroup (docs/objectives.md): one real boot of
// Debian's 6.1 kernel with a swap disk. The guest agent starts every run in
// /sys/fs/cgroup/kerntune, so memory a run leaves charged (a tmpfs file it
// wrote) shows up in sys.workload_mem_*; with the cgroup's memory.high set
// below that, the kernel pushes the pages to the swap disk and the swap
// counters say so.
#include <gtest/gtest.h>

#include <filesystem>

#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/workloads/workload.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;

namespace {

// Writes 32 MiB of incompressible data into tmpfs (charged to the writer's
// cgroup) and reports whether it ran in the kerntune cgroup.
workloads::Workload writer() {
  workloads::Workload w;
  w.name = "cgroup-writer";
  w.file = "(test)";
  w.modules = {"virtio_pci", "virtio_blk"};
  w.setup = {{"mkswap", "/dev/vda"}, {"swapon", "/dev/vda"}};
  w.command = {"sh", "-c",
               "rm -f /dev/shm/kt-held; head -c 33554432 /dev/urandom > /dev/shm/kt-held;"
               "echo KERNTUNE_METRIC in_cgroup $(grep -c '^0::/kerntune$' /proc/self/cgroup)"};
  w.repeats = 1;
  w.warmup = 0;
  w.timeout = 120s;
  workloads::MetricSpec m;
  m.name = "in_cgroup";
  m.source = workloads::MetricSpec::Source::kerntune_metric;
  w.metrics.push_back(m);
  return w;
}

double sample(const targets::TrialOutcome& o, const std::string& metric) {
  auto it = o.samples.find(metric);
  if (it == o.samples.end() || it->second.empty()) {
    ADD_FAILURE() << "no samples for " << metric;
    return -1;
  }
  return it->second.front();
}

std::string why(const targets::TrialOutcome& o) {
  std::string s = o.failure_stage + ": " + o.failure_reason;
  for (const auto& a : o.artifacts) s += "\n--- " + a.name + " ---\n" + a.content.substr(a.content.size() > 3000 ? a.content.size() - 3000 : 0);
  return s;
}

}  // namespace

TEST(WorkloadCgroupSystem, MemoryHeldIsTheWorkloadsAndMemoryHighPushesItToTheSwapDisk) {
  auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(kernel && fs::exists(*kernel)) << "no kernel image: run scripts/fetch-kernel";
  ASSERT_TRUE(util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";
  targets::QemuOptions o;
  o.kernel = *kernel;
  o.memory = "256M";
  o.swap_disk = "128M";
  o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/workload-cgroup-system-work";
  o.boot_timeout = 120s;
  if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
  ASSERT_EQ(o.validate(), "");
  targets::QemuTarget t(o);
  auto w = writer();

  targets::TrialRequest free_run;
  free_run.workload = &w;
  auto a = t.run_trial(free_run);
  ASSERT_TRUE(a) << a.error().format();
  ASSERT_TRUE(a->ok) << why(*a);
  EXPECT_EQ(sample(*a, "in_cgroup"), 1);
  // The 32 MiB file stays charged to the cgroup after the writer exits.
  EXPECT_GE(sample(*a, "sys.workload_mem_peak_kb"), 32768);
  EXPECT_LT(sample(*a, "sys.workload_mem_peak_kb"), 64 * 1024);
  EXPECT_GT(sample(*a, "sys.workload_mem_mean_kb"), 0);
  EXPECT_LE(sample(*a, "sys.workload_mem_mean_kb"), sample(*a, "sys.workload_mem_peak_kb"));
  EXPECT_GE(sample(*a, "sys.workload_mem_peak_since_boot_kb"), sample(*a, "sys.workload_mem_peak_kb"));
  EXPECT_EQ(sample(*a, "sys.swap_out_pages"), 0);
  EXPECT_GT(sample(*a, "sys.workload_cpu_s"), 0);
  EXPECT_EQ(a->units["sys.workload_mem_mean_kb"], "kB");

  targets::TrialRequest limited;
  limited.workload = &w;
  limited.sysfs = {{"fs/cgroup/kerntune/memory.high", "16777216"}};
  auto b = t.run_trial(limited);
  ASSERT_TRUE(b) << b.error().format();
  ASSERT_TRUE(b->ok) << why(*b);
  EXPECT_EQ(b->effective["fs/cgroup/kerntune/memory.high"], "16777216");
  EXPECT_EQ(sample(*b, "in_cgroup"), 1);
  // Above 16 MiB the cgroup reclaims its own pages: the tmpfs file goes to swap.
  EXPECT_LT(sample(*b, "sys.workload_mem_peak_kb"), 28 * 1024);
  EXPECT_GT(sample(*b, "sys.swap_out_pages"), 2048);
  EXPECT_GT(sample(*b, "sys.workload_swap_kb"), 8 * 1024);
  t.shutdown();
}
