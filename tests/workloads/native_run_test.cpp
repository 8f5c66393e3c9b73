// Runs every shipped workload for real on this host (setup once, the command
// once, stdout+stderr merged, as a target does) and extracts all its metrics:
// the regexes must keep matching what the installed tools print today.
// Needs the Debian packages scripts/setup installs (rt-tests sysbench
// stress-ng redis-server redis-tools fio iperf3) and root for `ip link`.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <signal.h>

#include <cmath>
#include <filesystem>

#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kw = kerntune::workloads;
namespace ku = kerntune::util;

namespace {

const std::string kSource = KERNTUNE_SOURCE_DIR;

// Daemons started by setup steps write these pid files (see the workload files).
void stop_daemon(const std::string& pidfile) {
  auto text = ku::read_file(pidfile);
  if (!text) return;
  int pid = std::atoi(ku::trim(*text).c_str());
  if (pid > 1) {
    ::kill(pid, SIGTERM);
    // Wait until it is gone: the next workload may start the same daemon on
    // the same port (redis-benchmark, then redis-latency), and a server still
    // shutting down would hold the port.
    for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::filesystem::remove(pidfile);
}

ku::Result<ku::RunResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ku::RunOptions o;
  o.argv = argv;
  o.timeout = timeout;
  o.merge_stderr = true;
  return ku::run(o);
}

}  // namespace

TEST(NativeRun, EveryShippedWorkloadProducesAllItsMetricsHere) {
  for (const auto& name : kw::available_workloads({kSource + "/recipes/workloads"})) {
    SCOPED_TRACE(name);
    // Guest-only: its setup makes the qemu target's swap disk (/dev/vda) swap,
    // which must never run on a host. Its real run is the quick start's and
    // workload_cgroup_system_tests' (real boots); its metrics are checked on a
    // captured output in shipped_workloads_test.
    if (name == "redis-memory") continue;
    auto w = kw::load_workload(name, {kSource + "/recipes"});
    ASSERT_TRUE(w) << w.error().format();
    for (const auto& bin : w->binaries)
      ASSERT_TRUE(ku::which(bin)) << bin << " is not installed (scripts/setup installs the workload packages)";
    for (const auto& step : w->setup) {
      auto r = run(step, w->timeout);
      ASSERT_TRUE(r) << r.error().format();
      ASSERT_TRUE(r->ok()) << step[0] << ": " << r->describe() << "\n" << r->out;
    }
    auto r = run(w->command, w->timeout);
    stop_daemon("/tmp/kerntune-redis.pid");
    stop_daemon("/tmp/kerntune-iperf3.pid");
    ASSERT_TRUE(r) << r.error().format();
    ASSERT_TRUE(r->ok()) << r->describe() << "\n" << r->out;
    auto values = kw::extract_metrics(*w, r->out);
    ASSERT_TRUE(values) << values.error().message;
    ASSERT_EQ(values->size(), w->metrics.size());
    for (const auto& [metric, v] : *values) {
      EXPECT_TRUE(std::isfinite(v)) << metric;
      EXPECT_GT(v, 0) << metric << " in:\n" << r->out;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all("/tmp/kerntune-fio", ec);
}
