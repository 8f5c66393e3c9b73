// The progress display's line: the stage a worker thread reports, an ETA that
// counts down between trials, and the best so far, confirmed or not.
#include <gtest/gtest.h>

#include <thread>

#include "campaign_fakes.hpp"
#include "kerntune/campaign/progress.hpp"

namespace {

using kerntune::campaign::Progress;
using kt_campaign_test::FakeClock;

TEST(Progress, LineShowsTheStageAWorkerReportsAndAnEtaThatCountsDown) {
  FakeClock clock;
  Progress p(Progress::Mode::quiet, 8, "y", clock);
  p.set_done(3);
  p.set_eta(600);
  std::thread worker([&] { p.stage(4, "repeat 2/5"); });
  worker.join();
  EXPECT_EQ(p.status_line(), "[3/8] trial 4: repeat 2/5 | 0.0s, ETA 10m00s | best: -");
  clock.advance(90);
  EXPECT_NE(p.status_line().find("1m30s, ETA 8m30s"), std::string::npos) << p.status_line();
  clock.advance(1000);  // a trial that runs past the estimate: the ETA stops at zero
  EXPECT_NE(p.status_line().find("ETA 0.0s"), std::string::npos) << p.status_line();
  p.set_eta(std::nullopt);
  EXPECT_NE(p.status_line().find("ETA ?"), std::string::npos) << p.status_line();
}

TEST(Progress, BestSaysWhetherItsGainIsConfirmed) {
  FakeClock clock;
  Progress p(Progress::Mode::quiet, 8, "mem", clock);
  p.set_best(Progress::Best{.value = 10717, .ratio = 0.328});
  EXPECT_EQ(p.best_text(), "best 10717 (-67.2% vs defaults, unconfirmed)");
  p.set_best(Progress::Best{.value = 10700, .ratio = 0.330, .lo = 0.315, .hi = 0.345, .confirmed = true, .rounds = 5});
  EXPECT_EQ(p.best_text(), "best 10700 (-67.0% vs defaults, confirmed over 5 rounds, 95% [-68.5%, -65.5%])");
  p.set_best(Progress::Best{.value = 3});  // no run of the defaults to compare with
  EXPECT_EQ(p.best_text(), "best 3");
  p.set_best(std::nullopt);
  EXPECT_EQ(p.best_text(), "best: -");
}

TEST(Progress, LinesModeLogsEachTrialWithTheBestAndTheEta) {
  FakeClock clock;
  Progress p(Progress::Mode::lines, 4, "y", clock);
  p.set_eta(125);
  p.set_best(Progress::Best{.value = 2, .ratio = 0.5});
  testing::internal::CaptureStderr();
  p.trial_finished(2, kerntune::results::TrialKind::proposal, 2.0, "", 7);
  p.trial_finished(3, kerntune::results::TrialKind::proposal, std::nullopt, "boot: panic", 3);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("trial 2 (proposal) y=2 in 7.0s; best 2 (-50.0% vs defaults, unconfirmed); ETA 2m05s"),
            std::string::npos) << err;
  EXPECT_NE(err.find("trial 3 (proposal) failed: boot: panic"), std::string::npos) << err;
}

}  // namespace
