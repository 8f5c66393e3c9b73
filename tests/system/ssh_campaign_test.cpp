// A campaign through the real CLI on the ssh target: a dropbear VM
// (ssh_host.hpp) as the host, a boot parameter (kexec with a new command line)
// and a sysctl tuned, read back over SSH and seen by the workload.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "../integration/cli.hpp"
#include "ssh_host.hpp"

using namespace std::chrono_literals;
using kt_ssh_test::TestHost;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(SshCampaign, KexecsAppliesAndMeasuresThroughTheCli) {
  fs::path dir = fs::path(KERNTUNE_BINARY_DIR) / "ssh-campaign-test";
  fs::remove_all(dir);
  auto host = TestHost::create(dir / "host");
  ASSERT_TRUE(host.has_value()) << host.error().format();
  auto started = host->start();
  ASSERT_TRUE(started.has_value()) << started.error().format() << host->console();
  struct Stop {
    TestHost& h;
    ~Stop() { h.stop(); }
  } stop{*host};
  std::string kh = (dir / "known_hosts").string();
  ASSERT_TRUE(kerntune::util::write_file(kh, host->known_hosts_line()).has_value());

  json recovery = host->restart_argv();
  kt_test::write((dir / "probe.yaml").string(),
                 "name: probe\n"
                 "command: [sh, -c, 'echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness); "
                 "echo KERNTUNE_METRIC marker $(grep -c nowatchdog /proc/cmdline)']\n"
                 "repeats: 1\nwarmup: 0\ntimeout: 60s\n"
                 "metrics:\n"
                 "  - {name: swappiness, kerntune_metric: true}\n"
                 "  - {name: marker, kerntune_metric: true}\n");
  kt_test::write((dir / "recipe.yaml").string(),
                 "name: ssh-campaign\nseed: 5\n"
                 "parameters:\n"
                 "  - {name: nowatchdog, domain: cmdline, type: bool, default: false}\n"
                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                 "target:\n"
                 "  kind: ssh\n"
                 "  hosts:\n"
                 "    - {name: vm, address: 127.0.0.1, port: " + std::to_string(host->port) +
                     ", key: " + json(host->key).dump() + ", known_hosts: " + json(kh).dump() +
                     ", recovery: " + recovery.dump() + "}\n"
                 "  kernel: " + json(host->kernel).dump() + "\n"
                 "  initramfs: " + json(host->initramfs).dump() + "\n"
                 "  boot_timeout: 240s\n"
                 "workload: probe.yaml\n"
                 "repeats: 1\nwarmup: 0\n"
                 "objectives:\n  - {metric: swappiness, direction: maximize}\n"
                 "budget: {trials: 3}\n"
                 "optimizer: {kind: random}\n");
  std::string db = (dir / "kt.db").string();
  auto r = kt_test::run_cli({"tune", (dir / "recipe.yaml").string(), "--db", db, "--progress", "lines"},
                            dir.string(), 20min);
  ASSERT_EQ(r.code, 0) << r.out << r.err << host->console();
  auto t = kt_test::run_cli({"trials", "--db", db, "--json"});
  ASSERT_EQ(t.code, 0) << t.err;
  json trials = json::parse(t.out);
  ASSERT_EQ(trials.size(), 3u) << t.out;
  for (const auto& trial : trials) {
    SCOPED_TRACE(trial.dump());
    ASSERT_EQ(trial["status"], "ok");
    EXPECT_EQ(trial["worker"], "ssh-vm");
    bool marker = trial["params"]["nowatchdog"].get<bool>();
    int swappiness = trial["params"]["vm.swappiness"].get<int>();
    std::string cmdline = trial["effective"]["cmdline"];
    EXPECT_EQ(cmdline, std::string("console=ttyS0 panic=-1 quiet") + (marker ? " nowatchdog" : ""));
    EXPECT_EQ(trial["effective"]["vm.swappiness"], swappiness);  // typed: what the kernel reads back
    EXPECT_EQ(trial["metrics"]["swappiness"].get<double>(), swappiness);
    EXPECT_EQ(trial["metrics"]["marker"].get<double>(), marker ? 1.0 : 0.0);
  }
}

// workers: 2 over a pool of two hosts: each worker owns one host, so both
// hosts run trials and no host ever runs two at once (two kexecs on one
// machine); the stored start/end times and worker/host of each trial prove it.
TEST(SshCampaign, TwoWorkersOverTwoHostsNeverShareAHost) {
  fs::path dir = fs::path(KERNTUNE_BINARY_DIR) / "ssh-pool-test";
  fs::remove_all(dir);
  std::vector<TestHost> hosts;
  for (const char* name : {"a", "b"}) {
    auto h = TestHost::create(dir / name);
    ASSERT_TRUE(h.has_value()) << h.error().format();
    hosts.push_back(std::move(*h));
  }
  struct Stop {
    std::vector<TestHost>& hs;
    ~Stop() {
      for (auto& h : hs) h.stop();
    }
  } stop{hosts};
  std::string known;
  for (auto& h : hosts) {
    auto started = h.start();
    ASSERT_TRUE(started.has_value()) << started.error().format() << h.console();
    known += h.known_hosts_line();
  }
  std::string kh = (dir / "known_hosts").string();
  ASSERT_TRUE(kerntune::util::write_file(kh, known).has_value());
  kt_test::write((dir / "probe.yaml").string(),
                 "name: probe\n"
                 "command: [sh, -c, 'sleep 2; echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)']\n"
                 "repeats: 1\nwarmup: 0\ntimeout: 60s\n"
                 "metrics:\n  - {name: swappiness, kerntune_metric: true}\n");
  std::string pool;
  const char* names[] = {"a", "b"};
  for (std::size_t i = 0; i < hosts.size(); ++i)
    pool += std::string("    - {name: ") + names[i] + ", address: 127.0.0.1, port: " + std::to_string(hosts[i].port) +
            ", key: " + json(hosts[i].key).dump() + ", known_hosts: " + json(kh).dump() + "}\n";
  kt_test::write((dir / "recipe.yaml").string(),
                 "name: ssh-pool\nseed: 5\n"
                 "parameters:\n"
                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                 "target:\n  kind: ssh\n  hosts:\n" + pool +
                 "workload: probe.yaml\n"
                 "objectives:\n  - {metric: swappiness, direction: maximize}\n"
                 "budget: {trials: 7}\n"
                 "workers: 2\n"
                 "optimizer: {kind: random}\n");
  std::string db = (dir / "kt.db").string();
  auto r = kt_test::run_cli({"tune", (dir / "recipe.yaml").string(), "--db", db, "--progress", "lines"},
                            dir.string(), 20min);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto t = kt_test::run_cli({"trials", "--db", db, "--json"});
  ASSERT_EQ(t.code, 0) << t.err;
  json trials = json::parse(t.out);
  ASSERT_EQ(trials.size(), 7u) << t.out;
  std::map<std::string, std::vector<std::pair<double, double>>> by_host;
  for (const auto& trial : trials) {
    SCOPED_TRACE(trial.dump());
    ASSERT_EQ(trial["status"], "ok");
    std::string worker = trial["worker"];  // "w<i>:ssh-<host>"
    auto colon = worker.find(':');
    ASSERT_NE(colon, std::string::npos);
    std::string host = worker.substr(colon + 1);
    by_host[host].push_back({trial["started_at"].get<double>(), trial["finished_at"].get<double>()});
    // Worker i owns host i: the binding is fixed.
    EXPECT_EQ(worker, host == "ssh-a" ? "w0:ssh-a" : "w1:ssh-b");
    EXPECT_EQ(trial["metrics"]["swappiness"].get<double>(), trial["params"]["vm.swappiness"].get<double>());
  }
  ASSERT_EQ(by_host.size(), 2u) << "both hosts must have run trials: " << t.out;
  for (auto& [host, spans] : by_host) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i)
      EXPECT_LE(spans[i - 1].second, spans[i].first) << host << " ran two trials at once";
  }
  // The two hosts did work side by side (the point of two workers).
  bool overlapped = false;
  for (const auto& a : by_host["ssh-a"])
    for (const auto& b : by_host["ssh-b"]) overlapped = overlapped || (a.first < b.second && b.first < a.second);
  EXPECT_TRUE(overlapped) << t.out;
}
