// The libvirt target through the real CLI: a small `kerntune tune` over two
// sysctls on transient libvirt domains (libvirtd started by
// scripts/libvirt-start, idempotent), Debian's 6.1 kernel from
// scripts/fetch-kernel. Every trial runs in a guest booted by libvirt and
// measures what it was given; the campaign leaves no domain behind, and a
// domain left by a kerntune that was killed is destroyed by the next one.
// Then the failures: a guest that does not answer in time fails the trial at
// boot and its domain is gone at once; a connection that does not work is an
// io error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "../integration/cli.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kProbe = R"Y(name: probe
command: [sh, -c, "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness); echo KERNTUNE_METRIC dirty $(cat /proc/sys/vm/dirty_ratio)"]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: swappiness, kerntune_metric: true}
  - {name: dirty, kerntune_metric: true}
)Y";

std::string start_libvirt() {
  auto r = kerntune::util::run({.argv = {std::string(KERNTUNE_SOURCE_DIR) + "/scripts/libvirt-start"},
                                .timeout = 120s,
                                .merge_stderr = true});
  if (!r) return r.error().message;
  return r->ok() ? "" : r->out;
}

std::vector<std::string> domains() {
  auto r = kerntune::util::run({.argv = {"virsh", "-q", "-c", "qemu:///system", "list", "--name"}, .timeout = 60s});
  std::vector<std::string> out;
  if (!r || !r->ok()) return {"(virsh list failed)"};
  for (auto& l : kerntune::util::split(r->out, '\n'))
    if (!kerntune::util::trim(l).empty()) out.push_back(kerntune::util::trim(l));
  return out;
}

}  // namespace

TEST(LibvirtCampaign, ATuneCampaignRunsEveryTrialInALibvirtDomainAndLeavesNoneBehind) {
  auto k = kerntune::targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(k && std::filesystem::exists(*k)) << "no kernel image: run scripts/fetch-kernel";
  ASSERT_EQ(start_libvirt(), "");
  kt_test::TempDir dir;
  // A domain a killed kerntune left behind: prefix kttest, a PID that cannot run.
  std::string stale = "kttest-999999999-0";
  kt_test::write(dir / "stale.xml",
                 "<domain type='qemu'><name>" + stale +
                     "</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os>"
                     "<devices><controller type='usb' model='none'/><memballoon model='none'/></devices></domain>\n");
  auto created = kerntune::util::run(
      {.argv = {"virsh", "-q", "-c", "qemu:///system", "create", dir / "stale.xml"}, .timeout = 60s,
       .merge_stderr = true});
  ASSERT_TRUE(created && created->ok()) << (created ? created->out : created.error().message);

  kt_test::write(dir / "probe.yaml", kProbe);
  kt_test::write(dir / "r.yaml",
                 "name: virt\nseed: 3\nparameters:\n"
                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 200], default: 60}\n"
                 "  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [5, 60], default: 20}\n"
                 "target: {kind: libvirt, kernel: " + *k + ", memory: 256M, boot_timeout: 180s,\n"
                 "         name_prefix: kttest}\n"
                 "workload: probe.yaml\n"
                 "optimizer: {kind: random}\n"
                 "objectives: [{metric: swappiness, direction: minimize}]\n"
                 "budget: {trials: 3}\n");
  auto r = kt_test::run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines", "--work-dir",
                             dir / "work"},
                            dir.path.string(), 10min);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("destroying domain " + stale), std::string::npos) << r.err;

  auto st = kerntune::store::Store::open(dir / "kt.db", {.create = false, .read_only = true});
  ASSERT_TRUE(st.has_value());
  auto c = st->find_campaign("virt");
  ASSERT_TRUE(c && *c);
  auto trials = st->trials((*c)->id).value();
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "ok") << t.failure_stage << ": " << t.failure_reason;
    EXPECT_TRUE(kerntune::util::starts_with(t.worker, "libvirt-")) << t.worker;
    // The guest ran with the values the trial proposed.
    json p = json::parse(t.params_json);
    std::map<std::string, double> m;
    for (const auto& x : t.measurements) m[x.metric] = x.value;
    EXPECT_EQ(m["swappiness"], p["vm.swappiness"].get<double>()) << t.params_json;
    EXPECT_EQ(m["dirty"], p["vm.dirty_ratio"].get<double>()) << t.params_json;
  }
  // Sysctls only: one boot, reused by the later trials (the session's boot key).
  EXPECT_GT(trials[0].timings.at("boot"), 0);
  EXPECT_EQ(trials[2].timings.at("boot"), 0);
  for (const auto& d : domains()) EXPECT_FALSE(kerntune::util::starts_with(d, "kttest-")) << d << " was left running";
}

namespace {

std::unique_ptr<kerntune::targets::Target> libvirt_target(const kt_test::TempDir& dir, const std::string& keys,
                                                          const std::string& prefix = "ktfail") {
  auto k = kerntune::targets::default_kernel({KERNTUNE_SOURCE_DIR});
  if (!k) return nullptr;
  std::string file = dir / "r.yaml";
  auto node = kerntune::util::load_yaml_string(
      "target: {kind: libvirt, kernel: '" + *k + "', accel: tcg, name_prefix: " + prefix + ", " + keys + "}\n", file);
  if (!node) return nullptr;
  auto t = kerntune::targets::make_target((*node)["target"], {file, dir.path.string(), dir / "work"});
  EXPECT_TRUE(t.has_value()) << t.error().format();
  return t ? std::move(*t) : nullptr;
}

}  // namespace

TEST(LibvirtFailures, AGuestThatDoesNotAnswerInTimeFailsAtBootAndItsDomainIsDestroyed) {
  ASSERT_EQ(start_libvirt(), "");
  kt_test::TempDir dir;
  auto t = libvirt_target(dir, "boot_timeout: 1s");
  ASSERT_TRUE(t);
  kerntune::targets::TrialRequest r;
  r.sysctls = {{"vm.swappiness", "10"}};
  auto out = t->run_trial(r);
  ASSERT_TRUE(out.has_value()) << out.error().format();
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->failure_stage, "boot");
  EXPECT_NE(out->failure_reason.find("was not ready within 1 s"), std::string::npos) << out->failure_reason;
  // Destroyed at once, not at shutdown.
  for (const auto& d : domains()) EXPECT_FALSE(kerntune::util::starts_with(d, "ktfail-")) << d << " is still running";
  t->shutdown();
}

TEST(LibvirtFailures, AConnectionThatDoesNotWorkIsAnIoError) {
  kt_test::TempDir dir;
  auto t = libvirt_target(dir, "uri: 'qemu:///system?socket=/nonexistent/libvirt-sock'");
  ASSERT_TRUE(t);
  kerntune::targets::TrialRequest r;
  auto out = t->run_trial(r);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().kind, kerntune::util::Error::Kind::io);
  EXPECT_NE(out.error().message.find("virsh create on qemu:///system?socket=/nonexistent/libvirt-sock failed"),
            std::string::npos)
      << out.error().message;
}

TEST(LibvirtFailures, ADomainDestroyedMidWorkloadFailsThatTrialOnlyAndTheNextOneBootsAgain) {
  ASSERT_EQ(start_libvirt(), "");
  kt_test::TempDir dir;
  auto t = libvirt_target(dir, "boot_timeout: 180s", "ktkill");
  ASSERT_TRUE(t);
  kerntune::workloads::Workload w;
  w.name = "sleeper";
  w.file = "(test)";
  w.command = {"sh", "-c", "sleep 60; echo KERNTUNE_METRIC x 1"};
  w.timeout = 120s;
  kerntune::workloads::MetricSpec m;
  m.name = "x";
  m.source = kerntune::workloads::MetricSpec::Source::kerntune_metric;
  w.metrics.push_back(m);
  kerntune::workloads::Workload quick = w;
  quick.command = {"sh", "-c", "echo KERNTUNE_METRIC x 1"};
  kerntune::targets::TrialRequest r;
  r.workload = &quick;
  auto booted = t->run_trial(r);  // boots the domain the next trial reuses
  ASSERT_TRUE(booted.has_value() && booted->ok) << (booted ? booted->failure_reason : booted.error().format());
  r.workload = &w;
  // Someone else (an operator, libvirt itself) destroys the domain while the workload runs.
  std::thread killer([] {
    std::this_thread::sleep_for(4s);
    for (const auto& d : domains())
      if (kerntune::util::starts_with(d, "ktkill-"))
        (void)kerntune::util::run({.argv = {"virsh", "-q", "-c", "qemu:///system", "destroy", d}, .timeout = 60s});
  });
  auto out = t->run_trial(r);
  killer.join();
  ASSERT_TRUE(out.has_value()) << out.error().format();
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->failure_stage, "workload") << out->failure_reason;
  EXPECT_NE(out->failure_reason.find("QEMU ended while running workload 'sleeper'"), std::string::npos)
      << out->failure_reason;
  r.workload = &quick;
  auto next = t->run_trial(r);
  ASSERT_TRUE(next.has_value()) << next.error().format();
  EXPECT_TRUE(next->ok) << next->failure_stage << ": " << next->failure_reason;
  EXPECT_GT(next->timings.at("boot"), 0);  // a new domain
  t->shutdown();
  for (const auto& d : domains()) EXPECT_FALSE(kerntune::util::starts_with(d, "ktkill-")) << d << " is still running";
}
