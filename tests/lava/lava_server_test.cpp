// The lava target's server mode against a real LAVA server (label lava-server):
// the suite starts the server with scripts/lava-start (a folder of its own,
// port 18080) and stops it with scripts/lava-stop; a trial is submitted over
// REST, polled, and its measurements read back from /api/v0.2/jobs/ID/tests/.
// Needs root and scripts/lava-setup --server.
#include <gtest/gtest.h>
#include <unistd.h>

#include "../integration/cli.hpp"
#include "lava_fixture.hpp"
#include "targets/lava_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/workloads/workload.hpp"

using namespace std::chrono_literals;
namespace targets = kerntune::targets;

namespace {

std::string lava_dir() { return std::string(KERNTUNE_BINARY_DIR) + "/lava-server-test"; }

kerntune::util::RunResult script(const std::string& name) {
  kerntune::util::RunOptions ro;
  ro.argv = {kt_test::source_dir() + "/scripts/" + name};
  ro.env = {{"KERNTUNE_LAVA_DIR", lava_dir()}, {"KERNTUNE_LAVA_PORT", "18080"}};
  ro.merge_stderr = true;
  ro.timeout = 12min;
  auto r = kerntune::util::run(ro);
  if (!r) return {.exit_code = -1, .out = r.error().message};
  return *r;
}

class LavaServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = script("lava-start");
    started_ = r.ok();
    start_log_ = r.out;
  }
  static void TearDownTestSuite() {
    auto r = script("lava-stop");
    if (!r.ok()) ADD_FAILURE() << "lava-stop: " << r.out;
  }
  static inline bool started_ = false;
  static inline std::string start_log_;
};

}  // namespace

TEST_F(LavaServer, TrialSubmittedOverRestMeasuresFromTheTestsApi) {
  ASSERT_TRUE(started_) << "scripts/lava-start failed:\n" << start_log_;
  auto k = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(k && std::filesystem::exists(*k)) << "no kernel image: run scripts/fetch-kernel";
  auto token = kerntune::util::read_file(lava_dir() + "/token");
  ASSERT_TRUE(token) << token.error().message;
  kt_test::TempDir dir;
  targets::LavaOptions o;
  o.mode = "server";
  o.url = "http://127.0.0.1:18080";
  o.token = kerntune::util::trim(*token);
  o.kernel = *k;
  o.work_dir = dir / "work";
  o.boot_timeout = 240s;
  o.poll_interval = 1s;
  ASSERT_EQ(o.validate(), "");
  targets::LavaTarget target(o);
  kt_test::write(dir / "w.yaml", kt_lava::kSwappinessProbe);
  auto w = kerntune::workloads::load_workload(dir / "w.yaml", {});
  ASSERT_TRUE(w) << w.error().message;
  targets::TrialRequest req;
  req.seq = 1;
  req.workload = &*w;
  req.repeats = 2;
  req.sysctls = {{"vm.swappiness", "37"}};
  auto out = target.run_trial(req);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
  EXPECT_EQ(out->samples["swappiness"], (std::vector<double>{37, 37}));
  EXPECT_EQ(out->effective.value("lava_measurements", 0), 2) << out->effective.dump();
  EXPECT_NE(out->worker.find("/scheduler/job/"), std::string::npos) << out->worker;
  bool log = false;
  for (const auto& a : out->artifacts)
    if (a.name == "lava-job.log") log = a.content.find("KTLAVA swappiness.r1 pass 37") != std::string::npos;
  EXPECT_TRUE(log) << "the server's job log lacks the measurement line";
  // The token never reached a file that outlives the trial.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "work"))
    EXPECT_NE(e.path().filename(), "curl.conf") << e.path();
}
