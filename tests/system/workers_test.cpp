// `workers: 2` with the qemu target: two real VMs (TCG here), each its own
// work folder and console. The campaign completes with exactly the budget's
// trials, two of them overlapping in time (the stored start/end times prove
// it), both workers used, and every trial measured in the VM that applied its
// own values (the guest reports the swappiness the trial proposed).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "../integration/cli.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/targets/qemu_target.hpp"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::optional<std::string> kernel() {
  auto k = kerntune::targets::default_kernel({KERNTUNE_SOURCE_DIR});
  if (!k || !std::filesystem::exists(*k)) return std::nullopt;
  return k;
}

int max_overlap(const std::vector<kerntune::store::TrialRecord>& trials) {
  std::vector<std::pair<double, int>> events;
  for (const auto& t : trials) {
    events.emplace_back(t.started_at, +1);
    events.emplace_back(t.finished_at, -1);
  }
  std::sort(events.begin(), events.end(),
            [](auto a, auto b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
  int now = 0, best = 0;
  for (auto [when, d] : events) best = std::max(best, now += d);
  return best;
}

}  // namespace

TEST(WorkersSystem, TwoQemuWorkersOverlapAndMeetTheBudget) {
  auto k = kernel();
  ASSERT_TRUE(k) << "no kernel image: run scripts/fetch-kernel (system tests need a real kernel)";
  ASSERT_TRUE(kerntune::util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";
  kt_test::TempDir dir;
  // The guest reports the value it runs with; a few seconds per trial so that
  // the two workers' trials overlap.
  kt_test::write(dir / "probe.yaml", R"Y(name: probe
command: [sh, -c, "sleep 3; echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness); echo KERNTUNE_METRIC autogroup $(cat /proc/sys/kernel/sched_autogroup_enabled)"]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: swappiness, kerntune_metric: true}
  - {name: autogroup, kerntune_metric: true}
)Y");
  kt_test::write(dir / "r.yaml", "name: qemu-workers\nseed: 2\n"
                                 "parameters:\n"
                                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                                 "  - {name: kernel.sched_autogroup_enabled, domain: sysctl, type: bool, default: true}\n"
                                 "target: {kind: qemu, kernel: " + *k + ", memory: 256M, cpus: 1, boot_timeout: 180s}\n"
                                 "workload: probe.yaml\n"
                                 "objectives: [{metric: swappiness, direction: maximize}]\n"
                                 "budget: {trials: 5}\n"
                                 "optimizer: {kind: sobol}\n"
                                 "workers: 2\n");
  auto r = kt_test::run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines", "--work-dir", dir / "work"},
                            dir.path.string(), 14min);
  ASSERT_EQ(r.code, 0) << r.err;

  auto st = kerntune::store::Store::open(dir / "kt.db", {.create = false, .read_only = true});
  ASSERT_TRUE(st) << st.error().message;
  auto c = st->find_campaign("qemu-workers");
  ASSERT_TRUE(c && *c);
  auto trials = st->trials((*c)->id);
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), 5u);  // exactly the budget
  std::set<std::string> workers;
  std::set<int> seqs;
  for (const auto& t : *trials) {
    ASSERT_EQ(t.status, "ok") << t.seq << ": " << t.failure_stage << ": " << t.failure_reason;
    seqs.insert(t.seq);
    workers.insert(t.worker.substr(0, t.worker.find(':')));
    json p = json::parse(t.params_json);
    // Measured in the VM that applied this trial's own values.
    double reported = -1;
    for (const auto& m : t.measurements)
      if (m.metric == "swappiness") reported = m.value;
    EXPECT_EQ(reported, p["vm.swappiness"].get<int>()) << "trial " << t.seq << " on " << t.worker;
    EXPECT_GT(t.finished_at, t.started_at);
  }
  EXPECT_EQ(seqs.size(), 5u);
  EXPECT_EQ(workers, (std::set<std::string>{"w0", "w1"}));
  EXPECT_EQ(max_overlap(*trials), 2) << "no two trials ran at the same time";
  // Each worker kept its own folder (VM work dir, initramfs, console).
  EXPECT_TRUE(std::filesystem::is_directory(dir / "work/worker-0/qemu"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "work/worker-1/qemu"));
}
