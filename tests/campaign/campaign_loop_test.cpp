// The campaign loop in-process: campaign::tune with the real optimizer and a
// real SQLite file, a scripted fake target, a fake clock and a stop token
// (campaign_fakes.hpp). Budget, rebaseline cadence, confirmation, resume
// replay, worker retry and retirement, stop → `stopped`; with one worker and
// with a pool where the next-job decision is the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fmt/ranges.h>

#include "campaign_fakes.hpp"
#include "kerntune/campaign/campaign.hpp"
#include "kerntune/campaign/observe.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/results/recommend.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"

namespace {

using namespace kt_campaign_test;
namespace campaign = kerntune::campaign;
namespace store = kerntune::store;

struct Spec {
  int budget = 6;
  int workers = 1;
  int baseline_every = 0;
  int confirm_top = 0;
  int confirm_rounds = 0;
  std::string optimizer = "random";
  int initial = 0;  ///< optimizer.initial (0: the optimizer's own)
  campaign::TuneOptions::Progress progress = campaign::TuneOptions::Progress::quiet;
  bool z_limit = false;  ///< an outcome metric z with `limit: <z_bound>`
  std::string z_bound = ">= 0.5";
  int confirm_fallback = -1;  ///< noise.confirm_fallback (-1: the default)
  std::string early_stop;     ///< noise.early_stop's text ("": absent)
  int repeats = 3;
  std::string drift;          ///< the objective's `drift:` ("": the default)
  bool boot_m = false;        ///< m is a boot parameter (domain cmdline), as are two more sysctls beside x
  std::string cost_aware;     ///< optimizer.cost_aware ("": absent)
};

std::string recipe_text(const Spec& s) {
  std::string text =
      "name: loop\nseed: 7\n"
      "parameters:\n"
      "  - {name: x, domain: generic, type: real, range: [-5, 10], default: 0}\n"
      + std::string(s.boot_m ? "  - {name: m, domain: cmdline, type: choice, values: [a, b, c], default: a}\n"
                               "  - {name: s1, domain: sysctl, type: real, range: [0, 1], default: 0.5}\n"
                               "  - {name: s2, domain: sysctl, type: real, range: [0, 1], default: 0.5}\n"
                             : "  - {name: m, domain: generic, type: choice, values: [a, b, c], default: a}\n") +
      "target: {kind: command, argv: [/bin/false]}\n"  // never run: FakeTarget stands in
      + fmt::format("repeats: {}\n", s.repeats)
      + (s.z_limit ? fmt::format("objectives: [{{metric: y, direction: minimize}}, {{metric: z, limit: \"{}\"}}]\n", s.z_bound)
                   : fmt::format("objectives: [{{metric: y, direction: minimize{}}}]\n",
                                 s.drift.empty() ? "" : ", drift: " + s.drift));
  text += fmt::format("budget: {{trials: {}}}\nworkers: {}\n", s.budget, s.workers);
  text += "optimizer: {kind: " + s.optimizer + (s.initial ? fmt::format(", initial: {}", s.initial) : "") +
          (s.cost_aware.empty() ? "" : ", cost_aware: " + s.cost_aware) + "}\n";
  if (s.baseline_every || s.confirm_top || !s.early_stop.empty())
    text += fmt::format("noise: {{baseline_every: {}, confirm_top: {}, confirm_rounds: {}{}{}}}\n", s.baseline_every,
                        s.confirm_top, s.confirm_rounds,
                        s.confirm_fallback >= 0 ? fmt::format(", confirm_fallback: {}", s.confirm_fallback) : "",
                        s.early_stop.empty() ? "" : ", early_stop: " + s.early_stop);
  return text;
}

/// One campaign folder: its recipe, its SQLite file, the fakes.
class Campaign {
 public:
  explicit Campaign(const Spec& spec) : spec_(spec) {
    dir_ = *kerntune::util::make_temp_dir("kt-campaign-loop");
    guard_ = kerntune::util::TempDirGuard(dir_);
  }

  /// Runs (or resumes) the campaign with a fresh stop token.
  kerntune::util::Result<campaign::TuneSummary> tune(std::optional<int> trials = std::nullopt) {
    const std::string path = dir_ + "/recipe.yaml";
    EXPECT_TRUE(kerntune::util::write_file(path, recipe_text(spec_)));
    auto recipe = campaign::load_recipe(path);
    if (!recipe) return std::unexpected(recipe.error());
    KT_TRY(store::Store st, store::Store::open(db()));
    stop_ = std::make_unique<kerntune::util::ManualStop>();
    script.set_stop(stop_.get());
    campaign::TuneOptions opts;
    opts.trials = trials;
    opts.work_dir = dir_ + "/work";
    opts.progress = spec_.progress;
    campaign::TuneEnvironment env;
    env.clock = &clock;
    env.stop = stop_.get();
    env.make_target = [this](const kerntune::targets::TargetContext& ctx)
        -> kerntune::util::Result<std::unique_ptr<kerntune::targets::Target>> {
      return std::make_unique<FakeTarget>(script, ctx.worker_index);
    };
    return campaign::tune(*recipe, st, opts, env);
  }

  std::vector<store::TrialRecord> trials() const {
    auto st = store::Store::open(db(), {.create = false, .read_only = true});
    if (!st) return {};
    auto c = st->find_campaign("loop");
    if (!c || !*c) return {};
    auto t = st->trials((*c)->id);
    return t ? *t : std::vector<store::TrialRecord>{};
  }
  std::string status() const { return row().status; }
  std::vector<std::string> events() const {
    auto st = store::Store::open(db(), {.create = false, .read_only = true});
    std::vector<std::string> out;
    if (!st) return out;
    if (auto e = st->events(row().id))
      for (const auto& ev : *e) out.push_back(ev.level + ": " + ev.message);
    return out;
  }
  const kerntune::util::ManualStop& stop() const { return *stop_; }

  FakeClock clock;
  Script script{clock};
  std::string db() const { return dir_ + "/kerntune.db"; }

 private:
  store::CampaignRow row() const {
    auto st = store::Store::open(db(), {.create = false, .read_only = true});
    auto c = st ? st->find_campaign("loop") : kerntune::util::Result<std::optional<store::CampaignRow>>{};
    return c && *c ? **c : store::CampaignRow{};
  }
  Spec spec_;
  std::string dir_;
  kerntune::util::TempDirGuard guard_;
  std::unique_ptr<kerntune::util::ManualStop> stop_;
};

std::vector<std::string> kinds(const std::vector<store::TrialRecord>& trials) {
  std::vector<std::string> out;
  for (const auto& t : trials) out.push_back(t.kind);
  return out;
}

nlohmann::json params(const store::TrialRecord& t) { return nlohmann::json::parse(t.params_json); }

/// The stored proposals' configurations, in seq order.
std::vector<nlohmann::json> proposals(const std::vector<store::TrialRecord>& trials) {
  std::vector<nlohmann::json> out;
  for (const auto& t : trials)
    if (t.kind == "proposal") out.push_back(params(t));
  return out;
}

int budget_count(const std::vector<store::TrialRecord>& trials) {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(), [](const auto& t) {
    return t.kind == "baseline" || t.kind == "proposal";
  }));
}

class CampaignLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    level_ = kerntune::util::log_level();
    kerntune::util::set_log_level(kerntune::util::LogLevel::quiet);
  }
  void TearDown() override { kerntune::util::set_log_level(level_); }
  kerntune::util::LogLevel level_{};
};

// ---- budget ---------------------------------------------------------------

TEST_F(CampaignLoop, MeetsTheBudgetExactlyAndTimesTrialsWithTheInjectedClock) {
  Campaign c({.budget = 6});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  EXPECT_FALSE(s->stopped);
  EXPECT_EQ(s->trials_total, 6);
  EXPECT_EQ(s->trials_run_now, 6);
  EXPECT_EQ(c.status(), "finished");
  auto t = c.trials();
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(kinds(t), (std::vector<std::string>{"baseline", "proposal", "proposal", "proposal", "proposal", "proposal"}));
  EXPECT_EQ(c.script.calls().size(), 6u);
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t[i].seq, static_cast<int>(i));
    EXPECT_EQ(t[i].status, "ok");
    EXPECT_EQ(t[i].worker, "fake-0");  // one worker: the target's own name, no pool prefix
    // The fake clock moves 10 s per trial and not at all while the optimizer asks.
    EXPECT_DOUBLE_EQ(t[i].started_at, FakeClock::kUnixStart + Script::kTrialSeconds * static_cast<double>(i));
    EXPECT_DOUBLE_EQ(t[i].finished_at - t[i].started_at, Script::kTrialSeconds);
    EXPECT_DOUBLE_EQ(t[i].timings.at("total"), Script::kTrialSeconds);
    EXPECT_DOUBLE_EQ(t[i].timings.at("optimizer"), 0.0);
    EXPECT_EQ(t[i].measurements.size(), 3u);  // repeats: 3
  }
  EXPECT_EQ(params(t[0]), (nlohmann::json{{"m", "a"}, {"x", 0.0}}));  // the baseline is the defaults

  // Done: running again runs nothing; a larger --trials extends the same campaign.
  c.script.clear_calls();
  auto again = c.tune();
  ASSERT_TRUE(again) << again.error().format();
  EXPECT_EQ(again->trials_run_now, 0);
  EXPECT_TRUE(c.script.calls().empty());
  auto more = c.tune(8);
  ASSERT_TRUE(more) << more.error().format();
  EXPECT_EQ(more->trials_run_now, 2);
  EXPECT_EQ(more->trials_total, 8);
  t = c.trials();
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[6].seq, 6);
  EXPECT_EQ(t[7].kind, "proposal");
}

TEST_F(CampaignLoop, AFailedTrialIsStoredAndCountsTowardTheBudget) {
  Campaign c({.budget = 5});
  c.script.on_seq(2, {.what = Action::What::fail, .stage = "boot"});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_EQ(s->trials_failed, 1);
  auto t = c.trials();
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[2].status, "failed");
  EXPECT_EQ(t[2].failure_stage, "boot");
  EXPECT_EQ(t[2].failure_reason, "scripted failure");
  EXPECT_TRUE(t[2].measurements.empty());
}

// ---- the next-job decision: the same with one worker and with a pool -------

class CampaignCadence : public CampaignLoop, public ::testing::WithParamInterface<int> {};

TEST_P(CampaignCadence, RebaselinesEveryKProposalsAndStopsAtTheBudget) {
  Campaign c({.budget = 7, .workers = GetParam(), .baseline_every = 2});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  EXPECT_EQ(s->trials_total, 7);
  auto t = c.trials();
  // 1 baseline + 6 proposals, a rebaseline after every 2 proposals, none after the last.
  EXPECT_EQ(kinds(t), (std::vector<std::string>{"baseline", "proposal", "proposal", "rebaseline", "proposal",
                                                "proposal", "rebaseline", "proposal", "proposal"}));
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i].seq, static_cast<int>(i));
  for (const auto& r : t) {
    if (r.kind == "rebaseline") { EXPECT_EQ(params(r), params(t[0])); }
  }
  EXPECT_EQ(c.script.calls().size(), t.size());
}

INSTANTIATE_TEST_SUITE_P(Workers, CampaignCadence, ::testing::Values(1, 2),
                         [](const auto& p) { return fmt::format("workers{}", p.param); });

// ---- confirmation ---------------------------------------------------------

/// The configurations confirmed after the `budget` search trials, in order;
/// checks that each confirm trial comes right after a rebaseline (A B pairs).
std::vector<nlohmann::json> confirmed(const std::vector<store::TrialRecord>& t, int budget) {
  std::vector<nlohmann::json> out;
  for (auto i = static_cast<std::size_t>(budget); i < t.size(); ++i) {
    EXPECT_EQ(t[i].seq, static_cast<int>(i));
    if (t[i].kind == "rebaseline") {
      EXPECT_EQ(params(t[i]), params(t[0]));
      continue;
    }
    EXPECT_EQ(t[i].kind, "confirm") << "trial " << t[i].seq;
    EXPECT_EQ(t[i - 1].kind, "rebaseline") << "confirm trial " << t[i].seq << " is not paired";
    out.push_back(params(t[i]));
  }
  return out;
}

TEST_F(CampaignLoop, ConfirmsTheTopCandidatesInterleavedWithTheBaseline) {
  Campaign c({.budget = 6, .confirm_top = 2, .confirm_rounds = 2});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  EXPECT_EQ(s->trials_total, 6);  // confirmation trials do not count toward the budget
  const auto t = c.trials();
  ASSERT_EQ(t.size(), 6u + 8u);   // 2 candidates x 2 rounds, each an A B pair
  for (std::size_t i = 6; i < t.size(); ++i) EXPECT_EQ(t[i].kind, i % 2 == 0 ? "rebaseline" : "confirm");
  // Each confirmation run is an independent replicate: the target is told to
  // boot afresh for it (no reused or restored VM); search trials are not.
  for (const auto& call : c.script.calls())
    EXPECT_EQ(call.independent, call.seq >= 6) << "trial " << call.seq;
  const auto conf = confirmed(t, 6);
  ASSERT_EQ(conf.size(), 4u);
  EXPECT_NE(conf[0], conf[1]);  // two distinct candidates, the same order in both rounds
  EXPECT_EQ(conf[2], conf[0]);
  EXPECT_EQ(conf[3], conf[1]);
  const auto searched = proposals(t);
  for (const auto& cand : conf) {
    EXPECT_NE(cand, params(t[0]));  // never the baseline itself
    EXPECT_NE(std::find(searched.begin(), searched.end(), cand), searched.end()) << cand.dump();
  }
  // The first candidate is the best proposal measured (the objective has no noise).
  auto best = std::min_element(searched.begin(), searched.end(),
                               [](const auto& a, const auto& b) { return objective(a) < objective(b); });
  EXPECT_EQ(conf[0], *best);
}

// Every confirmed candidate breaks the limit on its confirmation runs (the
// first configuration confirmed measures z = 0 there, 1 everywhere else):
// the confirmation goes on with the pick `best` would then make, so the
// campaign ends with a confirmed recommendation instead of an unconfirmed one.
void doom_first_confirmed(Campaign& c, int budget) {
  auto base = std::make_shared<nlohmann::json>();
  auto doomed = std::make_shared<std::optional<nlohmann::json>>();
  c.script.set_z([=](const nlohmann::json& p, int seq) {
    if (seq == 0) *base = p;
    if (seq < budget || p == *base) return 1.0;
    if (!*doomed) *doomed = p;
    return p == **doomed ? 0.0 : 1.0;
  });
}

std::vector<nlohmann::json> distinct(const std::vector<nlohmann::json>& v) {
  std::vector<nlohmann::json> out;
  for (const auto& j : v)
    if (std::find(out.begin(), out.end(), j) == out.end()) out.push_back(j);
  return out;
}

kerntune::results::Recommendation recommendation(const std::string& db) {
  auto st = store::Store::open(db, {.create = false, .read_only = true});
  EXPECT_TRUE(st);
  auto row = st->find_campaign("loop");
  auto view = kerntune::results::load_view(*st, **row);
  EXPECT_TRUE(view);
  auto rec = kerntune::results::recommend(*view);
  EXPECT_TRUE(rec) << rec.error().format();
  return *rec;
}

// A bo search with 6 model-based proposals, so that more than one
// configuration beats the defaults (the confirmed one and a fallback).
const Spec kFallback{.budget = 10, .confirm_top = 1, .confirm_rounds = 2, .optimizer = "bo", .initial = 4, .z_limit = true};

TEST_F(CampaignLoop, WhenTheConfirmedCandidateBreaksALimitTheNextPickIsConfirmed) {
  Campaign c(kFallback);
  doom_first_confirmed(c, 10);
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  const auto t = c.trials();
  ASSERT_EQ(t.size(), 10u + 4u + 4u);  // the planned candidate's 2 pairs, then the fallback's 2
  const auto conf = confirmed(t, 10);
  ASSERT_EQ(conf.size(), 4u);
  EXPECT_EQ(conf[0], conf[1]);
  EXPECT_EQ(conf[2], conf[3]);
  EXPECT_NE(conf[0], conf[2]);
  const auto rec = recommendation(c.db());
  ASSERT_TRUE(rec.pick && rec.interval);
  EXPECT_TRUE(rec.interval->confirmed);
  EXPECT_EQ(rec.interval->rounds, 2);
  EXPECT_EQ(params(t[*rec.pick]), conf[2]);

  // noise.confirm_fallback: 0 keeps the old end: the pick stays unconfirmed.
  Spec no_fallback = kFallback;
  no_fallback.confirm_fallback = 0;
  Campaign plain(no_fallback);
  doom_first_confirmed(plain, 10);
  ASSERT_TRUE(plain.tune());
  EXPECT_EQ(plain.trials().size(), 10u + 4u);
  const auto plain_rec = recommendation(plain.db());
  ASSERT_TRUE(plain_rec.pick);
  EXPECT_FALSE(plain_rec.interval && plain_rec.interval->confirmed);
}

// The confirmation phase ranks its candidates on the search phase as `best`
// saw it when the search ended, its re-measurements of the defaults included:
// here trial 0 ran on a fast phase of the host (z 1.0), every later run of
// the defaults on a slower one (z 0.8), the proposals measure z 0.9. Judged
// against trial 0 alone every proposal breaks ">= 95% baseline" and nothing
// would be confirmed; against all runs of the defaults (median 0.8) they keep it.
TEST_F(CampaignLoop, ConfirmationRanksOnTheSearchPhaseWithItsRebaselines) {
  Spec spec = kFallback;
  spec.baseline_every = 3;
  spec.z_bound = ">= 95% baseline";
  Campaign c(spec);
  c.script.set_z([](const nlohmann::json& p, int seq) {
    const bool defaults = p.value("x", -1.0) == 0.0 && p.value("m", std::string()) == "a";
    return seq == 0 ? 1.0 : defaults ? 0.8 : 0.9;
  });
  // Stopped at the confirmation phase's first trial (0 B, 1-3 P, 4 R, 5-7 P,
  // 8 R, 9-11 P: the search ends at seq 11): what `best` says then.
  c.script.on_seq(12, {.what = Action::What::interrupt});
  ASSERT_TRUE(c.tune());
  ASSERT_EQ(c.trials().size(), 12u);
  ASSERT_EQ(c.trials().back().kind, "proposal");
  c.script.on_seq(12, {});
  auto st = store::Store::open(c.db(), {.create = false, .read_only = true});
  auto view = kerntune::results::load_view(*st, **st->find_campaign("loop"));
  ASSERT_TRUE(view);
  auto at_search_end = kerntune::results::recommend(*view);
  ASSERT_TRUE(at_search_end && at_search_end->pick);
  ASSERT_TRUE(kerntune::results::is_search(view->trials[*at_search_end->pick].kind));
  const nlohmann::json pick = nlohmann::json::parse(view->trials[*at_search_end->pick].params.dump());
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  std::vector<nlohmann::json> conf;
  for (const auto& t : c.trials())
    if (t.kind == "confirm") conf.push_back(params(t));
  ASSERT_FALSE(conf.empty()) << "nothing was confirmed";
  EXPECT_EQ(conf.front(), pick);
}

// A stop inside the fallback's rounds: the resumed campaign confirms the same
// fallback pick (a fresh A first) and nothing more.
TEST_F(CampaignLoop, AStoppedFallbackConfirmationResumesWithTheSamePick) {
  Campaign whole(kFallback);
  doom_first_confirmed(whole, 10);
  ASSERT_TRUE(whole.tune());
  Campaign c(kFallback);
  doom_first_confirmed(c, 10);
  c.script.on_seq(15, {.what = Action::What::interrupt});  // the fallback's first confirm trial
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(c.trials().size(), 15u);
  c.script.on_seq(15, {});
  c.script.clear_calls();
  auto resumed = c.tune();
  ASSERT_TRUE(resumed) << resumed.error().format();
  EXPECT_TRUE(resumed->finished);
  std::vector<int> seqs;
  for (const auto& call : c.script.calls()) seqs.push_back(call.seq);
  EXPECT_EQ(seqs, (std::vector<int>{15, 16, 17, 18}));
  EXPECT_EQ(distinct(confirmed(c.trials(), 10)), distinct(confirmed(whole.trials(), 10)));
}

// What a terminal shows while the loop runs: each trial's stage as the target
// reports it (here its repeats), and the best so far, unconfirmed during the
// search and with its interval over the rounds once confirmed.
TEST_F(CampaignLoop, TerminalProgressShowsTheStagesAndTheConfirmedBest) {
  Campaign c({.budget = 5, .confirm_top = 1, .confirm_rounds = 3, .progress = campaign::TuneOptions::Progress::tty});
  testing::internal::CaptureStderr();
  auto s = c.tune();
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s) << s.error().format();
  for (const char* want : {"[0/5] trial 0: repeat 1/3", "trial 2: repeat 3/3", "vs defaults, unconfirmed)",
                           "confirmed over 3 rounds, 95% ["})
    EXPECT_NE(err.find(want), std::string::npos) << want << "\n" << err;
  // The ETA is known once a trial has a wall time, and is never negative.
  EXPECT_NE(err.find(", ETA "), std::string::npos) << err;
  EXPECT_EQ(err.find("ETA -"), std::string::npos) << err;
}

// A stop between A and B leaves that rebaseline unpaired; the resumed phase
// runs the remaining pairs (a fresh A first) with the same candidates.
TEST_F(CampaignLoop, AStoppedConfirmationResumesWithTheSameCandidates) {
  Campaign whole({.budget = 6, .confirm_top = 2, .confirm_rounds = 2});
  ASSERT_TRUE(whole.tune());
  Campaign c({.budget = 6, .confirm_top = 2, .confirm_rounds = 2});
  c.script.on_seq(9, {.what = Action::What::interrupt});  // the second confirm trial
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(c.status(), "stopped");
  EXPECT_EQ(c.trials().size(), 9u);
  c.script.on_seq(9, {});
  c.script.clear_calls();
  auto resumed = c.tune();
  ASSERT_TRUE(resumed) << resumed.error().format();
  EXPECT_TRUE(resumed->finished);
  std::vector<int> seqs;
  for (const auto& call : c.script.calls()) seqs.push_back(call.seq);
  EXPECT_EQ(seqs, (std::vector<int>{9, 10, 11, 12, 13, 14}));  // 3 pairs left; nothing stored ran again
  EXPECT_EQ(proposals(c.trials()), proposals(whole.trials()));
  EXPECT_EQ(confirmed(c.trials(), 6), confirmed(whole.trials(), 6));
}

// ---- stop and resume ------------------------------------------------------

TEST_F(CampaignLoop, AStopEndsTheCampaignStoppedWithoutTheInFlightTrial) {
  Campaign c({.budget = 8});
  c.script.on_seq(3, {.what = Action::What::stop_after});  // SIGTERM while trial 3 runs
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->stopped);
  EXPECT_FALSE(s->finished);
  EXPECT_EQ(s->trials_total, 3);
  EXPECT_EQ(c.status(), "stopped");
  EXPECT_EQ(c.trials().size(), 3u);  // trial 3 finished after the stop: not stored
  EXPECT_EQ(c.script.calls().size(), 4u);
  auto ev = c.events();
  EXPECT_NE(std::find(ev.begin(), ev.end(), "warn: stopped by signal 15 after 3 trials"), ev.end());
  EXPECT_FALSE(kerntune::util::stop_requested());  // the process-wide flag was never touched
}

// The proposals of a resumed campaign are those of one never interrupted
// (the optimizer's state is a function of the stored history), and nothing
// stored is run again.
TEST_F(CampaignLoop, ResumeReplaysTheHistoryAndRunsNothingTwice) {
  const Spec spec{.budget = 10, .optimizer = "bo", .initial = 4};
  Campaign whole(spec);
  ASSERT_TRUE(whole.tune());
  Campaign c(spec);
  c.script.on_seq(6, {.what = Action::What::interrupt});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(c.status(), "stopped");
  ASSERT_EQ(c.trials().size(), 6u);
  c.script.on_seq(6, {});
  c.script.clear_calls();
  auto resumed = c.tune();
  ASSERT_TRUE(resumed) << resumed.error().format();
  EXPECT_TRUE(resumed->finished);
  EXPECT_EQ(resumed->trials_run_now, 4);
  std::vector<int> seqs;
  for (const auto& call : c.script.calls()) seqs.push_back(call.seq);
  EXPECT_EQ(seqs, (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(proposals(c.trials()), proposals(whole.trials()));
}

// ---- recorded proposals ---------------------------------------------------

// The optimizer's proposals for this recipe and seed, as the loop produced
// them before it was restructured (recorded with this test's campaign): the
// same seed and the same history give the same points.
TEST_F(CampaignLoop, ProposalsMatchTheRecordedSequence) {
  Campaign c({.budget = 9, .baseline_every = 3, .optimizer = "bo", .initial = 4});
  ASSERT_TRUE(c.tune());
  const auto got = proposals(c.trials());
  struct Point { double x; const char* m; };
  const std::vector<Point> recorded = {
#include "recorded_proposals.inc"
  };
  std::string seen;
  for (const auto& p : got) seen += fmt::format("    {{{:.9f}, \"{}\"}},\n", p["x"].get<double>(), p["m"].get<std::string>());
  ASSERT_EQ(got.size(), recorded.size()) << "proposals now:\n" << seen;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i]["x"].get<double>(), recorded[i].x, 1e-6) << "proposal " << i << "; proposals now:\n" << seen;
    EXPECT_EQ(got[i]["m"], recorded[i].m) << "proposal " << i;
  }
}

// ---- cost-aware search -------------------------------------------------------

/// Proposals that booted (a new value of the boot parameter m).
int proposal_boots(const std::vector<store::TrialRecord>& trials) {
  int n = 0;
  for (const auto& t : trials) n += t.kind == "proposal" && t.timings.contains("boot");
  return n;
}

// m is a boot parameter whose change costs 30 s on top of a 10 s trial; x,
// s1, s2 change at run time. The cost-aware campaign learns that from the
// trials' boot timings and keeps its boot more often than the cost-blind one,
// and a resumed cost-aware campaign proposes what the uninterrupted one did.
TEST_F(CampaignLoop, CostAwareSearchKeepsTheBootMoreOftenAndResumesWithTheSameProposals) {
  auto run = [](const std::string& cost_aware, std::optional<int> stop_at = std::nullopt) {
    auto c = std::make_unique<Campaign>(Spec{.budget = 20, .optimizer = "bo", .initial = 5, .boot_m = true,
                                             .cost_aware = cost_aware});
    c->script.boot_on_change("m", 30);
    if (stop_at) c->script.on_seq(*stop_at, {.what = Action::What::interrupt});
    auto s = c->tune();
    EXPECT_TRUE(s) << s.error().format();
    return c;
  };
  auto blind = run("off");
  auto aware = run("on");
  ASSERT_EQ(budget_count(aware->trials()), 20);
  const int boots_blind = proposal_boots(blind->trials()), boots_aware = proposal_boots(aware->trials());
  EXPECT_LT(boots_aware, boots_blind) << "cost-aware " << boots_aware << " boots, cost-blind " << boots_blind;
  // Keeping the boot did not keep it at a poor one: the cost-aware campaign
  // spends its proposals on the best boot value (m = b; a costs 1, c 2).
  int on_b = 0, proposals_run = 0;
  for (const auto& t : aware->trials())
    if (t.kind == "proposal") on_b += params(t)["m"] == "b", ++proposals_run;
  EXPECT_GT(2 * on_b, proposals_run) << on_b << " of " << proposals_run << " proposals at m = b";
  // auto is on for a space that mixes a boot parameter with run-time ones.
  EXPECT_EQ(proposals(run("auto")->trials()), proposals(aware->trials()));

  auto resumed = run("on", 11);
  ASSERT_EQ(resumed->trials().size(), 11u);
  resumed->script.on_seq(11, {});
  ASSERT_TRUE(resumed->tune());
  EXPECT_EQ(proposals(resumed->trials()), proposals(aware->trials()));
}

// ---- workers: retry and retirement ------------------------------------------

TEST_F(CampaignLoop, AnInfrastructureErrorIsRetriedOnce) {
  Campaign c({.budget = 6, .workers = 2});
  c.script.on_seq(2, {.what = Action::What::error, .times = 1});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  auto t = c.trials();
  ASSERT_EQ(budget_count(t), 6);
  for (const auto& r : t) EXPECT_EQ(r.status, "ok") << r.seq;
  int runs_of_2 = 0;
  for (const auto& call : c.script.calls()) runs_of_2 += call.seq == 2 ? 1 : 0;
  EXPECT_EQ(runs_of_2, 2);
}

// One worker is the pool's one-worker case: the same retry, on the same worker.
TEST_F(CampaignLoop, OneWorkerRetriesATransientInfrastructureErrorOnce) {
  Campaign c({.budget = 5});
  c.script.on_seq(2, {.what = Action::What::error, .times = 1});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  auto t = c.trials();
  ASSERT_EQ(t.size(), 5u);
  for (const auto& r : t) EXPECT_EQ(r.status, "ok") << r.seq;
  std::vector<int> seqs;
  for (const auto& call : c.script.calls()) seqs.push_back(call.seq);
  EXPECT_EQ(seqs, (std::vector<int>{0, 1, 2, 2, 3, 4}));
}

// A target that reports `interrupted` (its child got the terminal's SIGINT)
// stops the campaign like a stop request, with one worker or several.
TEST_P(CampaignCadence, AnInterruptedTrialStopsTheCampaign) {
  Campaign c({.budget = 8, .workers = GetParam()});
  c.script.on_seq(3, {.what = Action::What::error, .kind = kerntune::util::Error::Kind::interrupted});
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(c.status(), "stopped");
  auto t = c.trials();
  for (const auto& r : t) EXPECT_NE(r.seq, 3);  // not stored
  EXPECT_LT(t.size(), 8u);
  auto ev = c.events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const auto& e) { return e.starts_with("warn: stopped by signal 2"); }));
}

TEST_F(CampaignLoop, AWorkerThatErrorsTwiceInARowIsRetired) {
  Campaign c({.budget = 8, .workers = 2});
  c.script.break_worker(1);
  // Worker 0's trials take 100 ms each, so worker 1 is idle and handed the
  // next job after its first error (without this it was sometimes never
  // handed a second one: worker 0 had run the whole budget first).
  c.script.slow_healthy(std::chrono::milliseconds(100));
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  EXPECT_TRUE(s->finished);
  auto t = c.trials();
  EXPECT_EQ(budget_count(t), 8);
  int on_1 = 0;
  for (const auto& call : c.script.calls()) on_1 += call.worker == 1 ? 1 : 0;
  EXPECT_EQ(on_1, 2);  // retired after its second error
  int failed = 0;
  for (const auto& r : t) {
    if (r.status == "ok") {
      EXPECT_EQ(r.worker, "w0:fake-0");
      continue;
    }
    // Its retry also landed on worker 1 (worker 0 was busy): stored failed at stage `worker`.
    ++failed;
    EXPECT_EQ(r.failure_stage, "worker");
    EXPECT_EQ(r.failure_reason, "worker 1: scripted error on worker 1");
  }
  EXPECT_LE(failed, 1);
}

TEST_F(CampaignLoop, WhenEveryWorkerIsRetiredTheCampaignFailsWithAnInfrastructureError) {
  Campaign c({.budget = 6, .workers = 2});
  ASSERT_TRUE(c.tune(1));  // the baseline (a sequential phase, run on worker 0)
  c.script.break_worker(0);
  c.script.break_worker(1);
  auto s = c.tune();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, kerntune::util::Error::Kind::io) << s.error().format();
  EXPECT_EQ(c.status(), "failed");
  auto ev = c.events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const auto& e) { return e.starts_with("error: "); }));
}

TEST_F(CampaignLoop, OneWorkerEndsFailedOnAPersistentInfrastructureErrorAndResumes) {
  Campaign c({.budget = 5});
  c.script.on_seq(3, {.what = Action::What::error, .kind = kerntune::util::Error::Kind::timeout});
  auto s = c.tune();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, kerntune::util::Error::Kind::timeout) << s.error().format();
  EXPECT_EQ(c.status(), "failed");
  auto t = c.trials();
  EXPECT_EQ(t.size(), 3u);  // trial 3 is not stored: it did not fail, its infrastructure did
  c.script.on_seq(3, {});
  auto resumed = c.tune();
  ASSERT_TRUE(resumed) << resumed.error().format();
  EXPECT_TRUE(resumed->finished);
  EXPECT_EQ(c.trials().size(), 5u);
  EXPECT_EQ(c.trials()[3].status, "ok");
}

// ---- early stopping (noise.early_stop) --------------------------------------

/// The script of the early-stopping cases: five repeats a trial, a re-baseline
/// every 2 proposals, one confirmation round; y's repeats per seq.
void script_early_stop(Script& s) {
  auto v = [](std::vector<double> x) { return Action{.values = std::move(x)}; };
  s.on_seq(0, v({1.00, 1.02, 0.98, 1.01, 0.99}));  // baseline
  s.on_seq(1, v({2.00, 2.04, 1.96, 2.02, 1.98}));  // clearly worse than the baseline
  s.on_seq(2, v({1.01, 0.99, 1.02, 1.00, 0.98}));  // as good: a close contender
  s.on_seq(3, v({1.50, 1.52, 1.48, 1.51, 1.49}));  // re-baseline, worse than the incumbent
  s.on_seq(4, v({0.50, 0.51, 0.49, 0.50, 0.50}));  // better: the new incumbent
  s.on_seq(5, v({0.80, 0.82, 0.78, 0.81, 0.79}));  // worse than trial 4 (not than the baseline)
  s.on_seq(6, v({1.50, 1.52, 1.48, 1.51, 1.49}));  // confirmation's re-baseline
  s.on_seq(7, v({3.00, 3.10, 2.90, 3.05, 2.95}));  // confirmation run, worse than anything
}

Spec early_stop_spec(std::string early_stop) {
  return {.budget = 5, .baseline_every = 2, .confirm_top = 1, .confirm_rounds = 1, .early_stop = std::move(early_stop),
          .repeats = 5, .drift = "none"};
}

TEST_F(CampaignLoop, EarlyStoppingRecordsWhatItStoppedAndWhy) {
  Campaign c(early_stop_spec("{alpha: 0.05, min_repeats: 2}"));
  script_early_stop(c.script);
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  auto t = c.trials();
  ASSERT_EQ(kinds(t), (std::vector<std::string>{"baseline", "proposal", "proposal", "rebaseline", "proposal",
                                                "proposal", "rebaseline", "confirm"}));
  auto early = [&](std::size_t i) {
    return kerntune::results::make_trial(t[i]).early_stop;
  };
  // Clearly worse: stopped after min_repeats, stored ok with its 2 repeats and why.
  EXPECT_EQ(t[1].status, "ok");
  EXPECT_EQ(t[1].measurements.size(), 2u);
  const nlohmann::json es = early(1);
  ASSERT_TRUE(es.is_object()) << t[1].effective_json;
  EXPECT_EQ(es["after"], 2);
  EXPECT_EQ(es["of"], 5);
  EXPECT_EQ(es["metric"], "y");
  EXPECT_EQ(es["incumbent"], 0);
  EXPECT_EQ(es["incumbent_repeats"], 5);
  EXPECT_EQ(es["scale"], "log");
  EXPECT_EQ(es["looks"], 3);  // after repeats 2, 3 and 4
  EXPECT_DOUBLE_EQ(es["alpha"].get<double>(), 0.05);
  EXPECT_GT(es["statistic"].get<double>(), es["threshold"].get<double>());
  EXPECT_NE(es["why"].get<std::string>().find("worse than trial 0: pooled t on log values"), std::string::npos) << es;
  // The parameters the trial applied are what they were; the record is not one of them.
  auto eff = kerntune::results::make_trial(t[1]).effective;
  EXPECT_FALSE(eff.contains("early_stop"));
  EXPECT_TRUE(eff.contains("x"));
  // ...and the optimizer learns from it: the median of the repeats it has.
  auto recipe = campaign::load_recipe(c.db().substr(0, c.db().rfind('/')) + "/recipe.yaml");
  ASSERT_TRUE(recipe);
  auto o = campaign::observation(*recipe, kerntune::results::make_trial(t[1]), {});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->ok);
  EXPECT_DOUBLE_EQ(o->objectives.at(0), 2.02);
  // A close contender runs every repeat; so does the new incumbent.
  EXPECT_EQ(t[2].measurements.size(), 5u);
  EXPECT_TRUE(early(2).is_null());
  EXPECT_EQ(t[4].measurements.size(), 5u);
  // Worse than the incumbent of its time (trial 4), though better than the baseline.
  EXPECT_EQ(t[5].measurements.size(), 2u);
  EXPECT_EQ(early(5)["incumbent"], 4);
  // Re-baselines and the confirmation run are never stopped, however bad.
  for (std::size_t i : {0u, 3u, 6u, 7u}) {
    EXPECT_EQ(t[i].measurements.size(), 5u) << "trial " << i;
    EXPECT_TRUE(early(i).is_null()) << "trial " << i;
  }
  // Said in the campaign's events and in words for trials/show/report.
  auto ev = c.events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const std::string& e) {
    return e.starts_with("info: trial 1: stopped early after 2 of 5 repeats, worse than trial 0");
  })) << fmt::format("{}", fmt::join(ev, "\n"));
  EXPECT_TRUE(kerntune::results::describe_early_stop(es).starts_with("after 2 of 5 repeats: worse than trial 0"));
  EXPECT_EQ(kerntune::results::to_json(kerntune::results::make_trial(t[1]))["early_stop"], es);
  EXPECT_FALSE(kerntune::results::to_json(kerntune::results::make_trial(t[2])).contains("early_stop"));
}

TEST_F(CampaignLoop, AdaptiveRepeatsGiveACloseContenderMoreAndSayWhy) {
  // 3 planned repeats, up to 8 for a trial the two-sided test cannot yet tell from the incumbent.
  Campaign c({.budget = 4, .early_stop = "{alpha: 0.05, min_repeats: 2, max_repeats: 8}", .repeats = 3,
              .drift = "none"});
  auto v = [](std::vector<double> x) { return Action{.values = std::move(x)}; };
  c.script.on_seq(0, v({1.00, 1.02, 0.98}));              // baseline: the incumbent
  c.script.on_seq(1, v({2.00, 2.04, 1.96}));              // clearly worse: stopped early
  c.script.on_seq(2, v({1.01, 0.99, 1.00, 1.02, 0.98}));  // as good: a close contender
  c.script.on_seq(3, v({0.50, 0.51, 0.49}));              // clearly better: decided at its planned repeats
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  auto t = c.trials();
  ASSERT_EQ(t.size(), 4u);
  auto trial = [&](std::size_t i) { return kerntune::results::make_trial(t[i]); };
  EXPECT_EQ(t[0].measurements.size(), 3u);  // no incumbent yet: as planned
  EXPECT_EQ(t[1].measurements.size(), 2u);
  EXPECT_FALSE(trial(1).early_stop.is_null());
  EXPECT_TRUE(trial(1).extra_repeats.is_null());
  // The close contender ran every repeat allowed, and the record says so.
  EXPECT_EQ(t[2].measurements.size(), 8u);
  const nlohmann::json x = trial(2).extra_repeats;
  ASSERT_TRUE(x.is_object()) << t[2].effective_json;
  EXPECT_EQ(x["after"], 8);
  EXPECT_EQ(x["planned"], 3);
  EXPECT_EQ(x["max"], 8);
  EXPECT_EQ(x["incumbent"], 0);
  EXPECT_EQ(x["decided"], false);
  EXPECT_TRUE(trial(2).early_stop.is_null());
  EXPECT_FALSE(trial(2).effective.contains("extra_repeats"));  // not a parameter's value
  EXPECT_EQ(kerntune::results::to_json(trial(2))["extra_repeats"], x);
  EXPECT_TRUE(kerntune::results::describe_extra_repeats(x).starts_with(
      "8 instead of 3 repeats: still as good as trial 0 after all 8 repeats allowed"))
      << kerntune::results::describe_extra_repeats(x);
  // Clearly better at its 3 planned repeats: no extra ones, no record.
  EXPECT_EQ(t[3].measurements.size(), 3u);
  EXPECT_TRUE(trial(3).extra_repeats.is_null());
  EXPECT_TRUE(trial(3).early_stop.is_null());
  auto ev = c.events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const std::string& e) {
    return e.starts_with("info: trial 2: 8 repeats instead of 3 (close to trial 0)");
  })) << fmt::format("{}", fmt::join(ev, "\n"));
}

TEST_F(CampaignLoop, AdaptiveRepeatsStopAContenderOnceTheTestDecides) {
  Campaign c({.budget = 2, .early_stop = "{alpha: 0.05, min_repeats: 2, max_repeats: 10}", .repeats = 3,
              .drift = "none"});
  auto v = [](std::vector<double> x) { return Action{.values = std::move(x)}; };
  c.script.on_seq(0, v({1.00, 1.01, 0.99}));
  // Slightly better, noisy at first: undecided after 3, decided once the repeats pile up.
  c.script.on_seq(1, v({1.00, 0.90, 0.97, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95}));
  auto s = c.tune();
  ASSERT_TRUE(s) << s.error().format();
  auto t = c.trials();
  ASSERT_EQ(t.size(), 2u);
  const auto n = t[1].measurements.size();
  EXPECT_GT(n, 3u);
  EXPECT_LT(n, 10u);
  const nlohmann::json x = kerntune::results::make_trial(t[1]).extra_repeats;
  ASSERT_TRUE(x.is_object()) << t[1].effective_json;
  EXPECT_EQ(x["decided"], true);
  EXPECT_EQ(x["after"], static_cast<int>(n));
  EXPECT_NE(x["why"].get<std::string>().find("better than trial 0"), std::string::npos) << x;
}

TEST_F(CampaignLoop, WithoutEarlyStoppingEveryRepeatRunsAndMinRepeatsIsHonoured) {
  {
    Campaign c(early_stop_spec(""));
    script_early_stop(c.script);
    ASSERT_TRUE(c.tune());
    for (const auto& t : c.trials()) {
      EXPECT_EQ(t.measurements.size(), 5u) << "trial " << t.seq;
      EXPECT_TRUE(kerntune::results::make_trial(t).early_stop.is_null());
    }
  }
  Campaign c(early_stop_spec("{min_repeats: 3}"));
  script_early_stop(c.script);
  ASSERT_TRUE(c.tune());
  auto t = c.trials();
  ASSERT_GE(t.size(), 6u);
  EXPECT_EQ(t[1].measurements.size(), 3u);
  EXPECT_EQ(kerntune::results::make_trial(t[1]).early_stop["looks"], 2);
  EXPECT_EQ(t[2].measurements.size(), 5u);
}

TEST_F(CampaignLoop, EarlyStopOptionsAreChecked) {
  auto dir = *kerntune::util::make_temp_dir("kt-early-stop");
  kerntune::util::TempDirGuard guard(dir);
  auto load = [&](const std::string& es) {
    Spec spec = early_stop_spec(es);
    EXPECT_TRUE(kerntune::util::write_file(dir + "/r.yaml", recipe_text(spec)));
    return campaign::load_recipe(dir + "/r.yaml");
  };
  auto r = load("on");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_TRUE(r->early_stop.on);
  EXPECT_DOUBLE_EQ(r->early_stop.alpha, 0.05);
  EXPECT_EQ(r->early_stop.min_repeats, 2);
  r = load("off");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->early_stop.on);
  r = load("{alpha: 0.01, min_repeats: 3}");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->early_stop.on);
  EXPECT_DOUBLE_EQ(r->early_stop.alpha, 0.01);
  EXPECT_EQ(r->early_stop.min_repeats, 3);
  for (const char* bad : {"{alpha: 0.7}", "{min_repeats: 1}", "{alpha: 0.05, after: 2}", "sometimes"}) {
    r = load(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, kerntune::util::Error::Kind::invalid_input);
    EXPECT_GT(r.error().line, 0) << bad;
  }
}

}  // namespace
