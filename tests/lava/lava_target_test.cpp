// The lava target through a real `lava-run` (lava-dispatcher, as root), label
// lava: a short campaign through the real CLI whose measurements come back from
// LAVA's results, and a kernel panic at boot classified as a boot failure.
// Needs scripts/lava-setup (lava-dispatcher and .cache/lava/qemu-device.yaml)
// and scripts/fetch-kernel.
#include <gtest/gtest.h>
#include <unistd.h>

#include "../integration/cli.hpp"
#include "lava_fixture.hpp"
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

TEST(LavaLocal, KernelPanicAtBootIsABootFailure) {
  Needs n = needs();
  ASSERT_TRUE(n.why.empty()) << n.why;
  kt_test::TempDir dir;
  targets::LavaOptions o;
  o.kernel = n.kernel;
  o.device = n.device;
  o.work_dir = dir / "work";
  o.boot_timeout = 240s;
  targets::LavaTarget target(o);
  kt_test::write(dir / "w.yaml", "name: w\ncommand: [true]\nrepeats: 1\nwarmup: 0\nmetrics:\n  - {name: x, kerntune_metric: true}\n");
  auto w = kerntune::workloads::load_workload(dir / "w.yaml", {});
  ASSERT_TRUE(w) << w.error().message;
  targets::TrialRequest req;
  req.seq = 1;
  req.workload = &*w;
  req.boot.cmdline = "rdinit=/nonexistent";
  auto t0 = std::chrono::steady_clock::now();
  auto out = target.run_trial(req);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->failure_stage, "boot") << out->failure_reason;
  EXPECT_NE(out->failure_reason.find("panic"), std::string::npos) << out->failure_reason;
  std::string console;
  for (const auto& a : out->artifacts)
    if (a.name == "console.log") console = a.content;
  EXPECT_NE(console.find("Kernel panic - not syncing"), std::string::npos) << console.substr(0, 2000);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 200s) << "the panic should end the job (QEMU -no-reboot), not a timeout";
}
