// The lava target through a real `lava-run` (lava-dispatcher, as root), label
// lava: a short campaign through the real CLI whose measurements come back from
// LAVA's results, and a kernel panic at boot classified as a boot failure.
// Needs scripts/lava-setup (lava-dispatcher and .cache/lava/qemu-device.yaml)
// and scripts/fetch-kernel.
#include <gtest/gtest.h>
#include <unistd.h>

#include "../integration/cli.hpp"
#include "lava_fixture.hpp"
#include "kerntune/store/store.hpp"
#include "targets/lava_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/workloads/workload.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace targets = kerntune::targets;

namespace {

using kt_lava::Needs;
using kt_lava::needs;

}  // namespace

TEST(LavaLocal, CampaignThroughLavaRunMeasuresFromLavaResults) {
  Needs n = needs();
  ASSERT_TRUE(n.why.empty()) << n.why;
  kt_test::TempDir dir;
  kt_test::write(dir / "probe.yaml", kt_lava::kSwappinessProbe);
  kt_test::write(dir / "r.yaml", "name: lava-local\nseed: 3\n"
                                 "parameters:\n"
                                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                                 "target: {kind: lava, mode: local, kernel: " + n.kernel + ", device: " + n.device +
                                 ", boot_timeout: 240s}\n"
                                 "workload: probe.yaml\n"
                                 "objectives: [{metric: swappiness, direction: maximize}]\n"
                                 "budget: {trials: 2}\n"
                                 "optimizer: {kind: sobol}\n");
  auto r = kt_test::run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines", "--work-dir", dir / "work"},
                            dir.path.string(), 15min);
  ASSERT_EQ(r.code, 0) << r.err;
  auto st = kerntune::store::Store::open(dir / "kt.db", {.create = false, .read_only = true});
  ASSERT_TRUE(st) << st.error().message;
  auto c = st->find_campaign("lava-local");
  ASSERT_TRUE(c && *c);
  auto trials = st->trials((*c)->id);
  ASSERT_TRUE(trials);
  ASSERT_EQ(trials->size(), 2u);
  for (const auto& t : *trials) {
    ASSERT_EQ(t.status, "ok") << t.seq << ": " << t.failure_stage << ": " << t.failure_reason;
    json p = json::parse(t.params_json);
    json e = json::parse(t.effective_json);
    int want = p["vm.swappiness"].get<int>();
    int n_samples = 0;
    for (const auto& m : t.measurements)
      if (m.metric == "swappiness") {
        EXPECT_EQ(m.value, want) << "trial " << t.seq;
        ++n_samples;
      }
    EXPECT_EQ(n_samples, 2) << "trial " << t.seq;
    // Both repeats' values were taken from LAVA's monitors results.
    EXPECT_EQ(e.value("lava_measurements", 0), 2) << t.effective_json;
    // Stored typed (the space's int), as the qemu and ssh targets store it.
    EXPECT_EQ(e.value("vm.swappiness", -1), want) << t.effective_json;
    auto arts = st->trial_artifacts(t.id);
    ASSERT_TRUE(arts);
    bool log = false, job = false;
    for (const auto& a : *arts) {
      if (a.name == "lava-job.log") log = a.content.find("\"lvl\": \"results\"") != std::string::npos;
      if (a.name == "lava-job.yaml") job = a.content.find("monitors") != std::string::npos;
    }
    EXPECT_TRUE(log && job) << "trial " << t.seq << " lacks the LAVA job log or definition";
  }
}

