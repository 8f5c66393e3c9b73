// A campaign through the real CLI on the ssh target: a dropbear VM
// (ssh_host.hpp) as the host, a boot parameter (kexec with a new command line)
// and a sysctl tuned, read back over SSH and seen by the workload.
#include <gtest/gtest.h>

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
                 "echo KERNTUNE_METRIC marker $(grep -c kt_marker /proc/cmdline)']\n"
                 "repeats: 1\nwarmup: 0\ntimeout: 60s\n"
                 "metrics:\n"
                 "  - {name: swappiness, kerntune_metric: true}\n"
                 "  - {name: marker, kerntune_metric: true}\n");
  kt_test::write((dir / "recipe.yaml").string(),
                 "name: ssh-campaign\nseed: 5\n"
                 "parameters:\n"
                 "  - {name: kt_marker, domain: cmdline, type: bool, default: false}\n"
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
    bool marker = trial["params"]["kt_marker"].get<bool>();
    int swappiness = trial["params"]["vm.swappiness"].get<int>();
    std::string cmdline = trial["effective"]["cmdline"];
    EXPECT_EQ(cmdline, std::string("console=ttyS0 panic=-1 quiet") + (marker ? " kt_marker" : ""));
    EXPECT_EQ(trial["effective"]["vm.swappiness"], std::to_string(swappiness));
    EXPECT_EQ(trial["metrics"]["swappiness"].get<double>(), swappiness);
    EXPECT_EQ(trial["metrics"]["marker"].get<double>(), marker ? 1.0 : 0.0);
  }
}
