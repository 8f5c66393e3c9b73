// What the kernel took, through the real CLI on real QEMU boots of Debian's
// 6.1 kernel (one boot per case):
//  * sysctl values the kernel clamps or refuses: fs.pipe-max-size=100000 reads
//    back 131072 (rounded up to a power-of-two number of pages) and
//    vm.swappiness=250 is refused with EINVAL (6.1's maximum is 200). The
//    trial stores typed effective values and the adjustments, `trials` and
//    `show trial` say so, and the guest measured with the effective values.
//  * a boot parameter the kernel does not know: the trial fails at `boot`
//    naming it, while an unknown word of the target's base command line
//    (one meant for init) is not blamed.
#include <gtest/gtest.h>

#include "../integration/cli.hpp"
#include "../report/json_schema.hpp"
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

// The guest reports what it runs with.
const char* kProbe = R"Y(name: probe
command: [sh, -c, "echo KERNTUNE_METRIC pipe $(cat /proc/sys/fs/pipe-max-size); echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)"]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: pipe, kerntune_metric: true}
  - {name: swappiness, kerntune_metric: true}
)Y";

// A one-trial campaign (the baseline: the defaults below) on the qemu target.
std::string recipe(const std::string& name, const std::string& parameters, const std::string& kernel) {
  return "name: " + name + "\nseed: 1\nparameters:\n" + parameters +
         "target: {kind: qemu, kernel: " + kernel + ", memory: 256M, cpus: 1, boot_timeout: 180s,\n"
         "         cmdline_base: \"console=ttyS0 panic=-1 quiet kt_for_init=1\"}\n"
         "workload: probe.yaml\n"
         "objectives: [{metric: pipe, direction: maximize}]\n"
         "budget: {trials: 1}\n";
}

std::vector<kerntune::store::TrialRecord> stored_trials(const std::filesystem::path& db, const std::string& name,
                                                        std::vector<kerntune::store::EventRow>* events = nullptr) {
  auto st = kerntune::store::Store::open(db, {.create = false, .read_only = true});
  if (!st) return {};
  auto c = st->find_campaign(name);
  if (!c || !*c) return {};
  if (events) *events = st->events((*c)->id).value_or(std::vector<kerntune::store::EventRow>{});
  return st->trials((*c)->id).value_or(std::vector<kerntune::store::TrialRecord>{});
}

double measured(const kerntune::store::TrialRecord& t, const std::string& metric) {
  for (const auto& m : t.measurements)
    if (m.metric == metric) return m.value;
  return -1;
}

}  // namespace

TEST(AppliedQemu, ClampedAndRefusedSysctlsAreStoredTypedShownAndMeasured) {
  auto k = kernel();
  ASSERT_TRUE(k) << "no kernel image: run scripts/fetch-kernel (system tests need a real kernel)";
  ASSERT_TRUE(kerntune::util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";
  kt_test::TempDir dir;
  kt_test::write(dir / "probe.yaml", kProbe);
  kt_test::write(dir / "r.yaml",
                 recipe("applied",
                        "  - {name: fs.pipe-max-size, domain: sysctl, type: int, range: [4096, 1048576], default: 100000}\n"
                        "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 300], default: 250}\n"
                        "  - {name: kernel.sched_autogroup_enabled, domain: sysctl, type: bool, default: false}\n"
                        "  - {name: transparent_hugepage, domain: cmdline, type: choice, values: [never, always], "
                        "default: never}\n",
                        *k));
  auto r = kt_test::run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines", "--work-dir",
                             dir / "work"},
                            dir.path.string(), 6min);
  ASSERT_EQ(r.code, 0) << r.err;
  // A refused value is a warning on stderr, naming trial, parameter, proposed and effective.
  EXPECT_NE(r.err.find("trial 0: vm.swappiness 250 refused, kept 60"), std::string::npos) << r.err;

  std::vector<kerntune::store::EventRow> events;
  auto trials = stored_trials(dir / "kt.db", "applied", &events);
  ASSERT_EQ(trials.size(), 1u);
  const auto& t = trials.front();
  // The trial ran (a kernel-base word meant for init, kt_for_init=1, does not fail it).
  ASSERT_EQ(t.status, "ok") << t.failure_stage << ": " << t.failure_reason;
  json eff = json::parse(t.effective_json);
  // Typed: numbers and booleans, not the kernel's text.
  EXPECT_EQ(eff["fs.pipe-max-size"], json(131072));
  EXPECT_EQ(eff["vm.swappiness"], json(60));
  EXPECT_EQ(eff["kernel.sched_autogroup_enabled"], json(false));
  EXPECT_EQ(eff["transparent_hugepage"], json("never"));
  EXPECT_NE(eff["cmdline"].get<std::string>().find("transparent_hugepage=never"), std::string::npos);
  ASSERT_TRUE(eff["adjusted"].is_array());
  ASSERT_EQ(eff["adjusted"].size(), 2u) << eff.dump();
  EXPECT_EQ(eff["adjusted"][0], (json{{"parameter", "fs.pipe-max-size"}, {"proposed", 100000}, {"effective", 131072},
                                      {"how", "clamped"}}));
  EXPECT_EQ(eff["adjusted"][1]["parameter"], "vm.swappiness");
  EXPECT_EQ(eff["adjusted"][1]["how"], "refused");
  EXPECT_EQ(eff["adjusted"][1]["effective"], json(60));
  // (busybox's printf reports no errno: the agent's "write failed")
  EXPECT_FALSE(eff["adjusted"][1].value("reason", "").empty()) << eff.dump();
  // The proposal stays as proposed.
  EXPECT_EQ(json::parse(t.params_json)["vm.swappiness"], json(250));
  // What the guest measured with is what the store calls effective.
  EXPECT_EQ(measured(t, "pipe"), 131072);
  EXPECT_EQ(measured(t, "swappiness"), 60);
  int warns = 0, infos = 0;
  for (const auto& e : events) {
    warns += e.level == "warn" && e.message.find("vm.swappiness 250 refused, kept 60") != std::string::npos;
    infos += e.level == "info" && e.message == "trial 0: fs.pipe-max-size 100000 → 131072 (clamped)";
  }
  EXPECT_EQ(warns, 1);
  EXPECT_EQ(infos, 1);

  // The readers show it: table, --json (schema-checked), show trial.
  auto table = kt_test::run_cli({"trials", "--db", dir / "kt.db"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("adjusted: fs.pipe-max-size 100000 → 131072 (clamped)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("adjusted: vm.swappiness 250 refused, kept 60"), std::string::npos) << table.out;
  auto js = kt_test::run_cli({"trials", "--db", dir / "kt.db", "--json"});
  ASSERT_EQ(js.code, 0) << js.err;
  json list = json::parse(js.out);
  kt_test::SchemaValidator v(std::filesystem::path(KERNTUNE_SOURCE_DIR) / "docs/schemas");
  auto errors = v.validate(list, "trials.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["adjusted"], eff["adjusted"]);
  EXPECT_FALSE(list[0]["effective"].contains("adjusted"));
  auto show = kt_test::run_cli({"show", "trial", "0", "--db", dir / "kt.db", "--no-artifacts"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("fs.pipe-max-size = 100000  → 131072  (clamped)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("vm.swappiness = 250  → 60  (refused: "), std::string::npos) << show.out;
}

TEST(AppliedQemu, ABootParameterTheKernelDoesNotKnowFailsTheTrialAtBoot) {
  auto k = kernel();
  ASSERT_TRUE(k) << "no kernel image: run scripts/fetch-kernel (system tests need a real kernel)";
  ASSERT_TRUE(kerntune::util::which("qemu-system-x86_64")) << "qemu-system-x86_64 is not installed";
  kt_test::TempDir dir;
  kt_test::write(dir / "probe.yaml", kProbe);
  // "transparent_hugepages" (one letter too many): /proc/cmdline shows it, the kernel ignores it.
  kt_test::write(dir / "r.yaml",
                 recipe("unknown-boot",
                        "  - {name: transparent_hugepages, domain: cmdline, type: choice, values: [never, always], "
                        "default: never}\n"
                        "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 200], default: 30}\n",
                        *k));
  auto r = kt_test::run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines", "--work-dir",
                             dir / "work"},
                            dir.path.string(), 6min);
  EXPECT_EQ(r.code, 1) << r.err;  // nothing was measured: nothing to recommend
  auto trials = stored_trials(dir / "kt.db", "unknown-boot");
  ASSERT_EQ(trials.size(), 1u);
  const auto& t = trials.front();
  EXPECT_EQ(t.status, "failed");
  EXPECT_EQ(t.failure_stage, "boot") << t.failure_reason;
  EXPECT_NE(t.failure_reason.find("'transparent_hugepages=never'"), std::string::npos) << t.failure_reason;
  EXPECT_NE(t.failure_reason.find("unknown"), std::string::npos) << t.failure_reason;
  // The base command line's word for init was reported too, but is not the trial's.
  EXPECT_EQ(t.failure_reason.find("kt_for_init"), std::string::npos) << t.failure_reason;
  EXPECT_TRUE(t.measurements.empty());
  json eff = json::parse(t.effective_json);
  EXPECT_NE(eff["cmdline"].get<std::string>().find("transparent_hugepages=never"), std::string::npos);
  auto table = kt_test::run_cli({"trials", "--db", dir / "kt.db"});
  EXPECT_NE(table.out.find("boot: the kernel did not take boot parameter(s) 'transparent_hugepages=never'"),
            std::string::npos)
      << table.out;
}
