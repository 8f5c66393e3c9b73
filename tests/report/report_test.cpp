// Unit tests of the report module: importance on a known function, status
// arithmetic, the rendered page's structure, chart helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../../src/report/svg.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/results/cost.hpp"
#include "kerntune/results/recommend.hpp"

using namespace kerntune;

namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

store::CampaignRow campaign_row(int budget) {
  store::CampaignRow c;
  c.id = 1;
  c.name = "unit";
  c.status = "running";
  c.recipe_path = "r.yaml";
  c.recipe_text = "name: unit\nbudget:\n  trials: " + std::to_string(budget) + "\n";
  c.recipe_hash = "abc";
  nlohmann::json md = {
      {"kerntune_version", "0.1"},
      {"target", "command"},
      {"parameters", nlohmann::json::array({
                         {{"name", "a"}, {"domain", "generic"}, {"type", "real"}, {"range", {0.0, 1.0}}, {"default", 0.5}},
                         {{"name", "b"}, {"domain", "generic"}, {"type", "real"}, {"range", {0.0, 1.0}}, {"default", 0.5}},
                         {{"name", "mode"}, {"domain", "generic"}, {"type", "choice"}, {"values", {"p", "q", "r"}}, {"default", "p"}},
                     })},
      {"objectives", nlohmann::json::array({{{"metric", "y"}, {"direction", "minimize"}}})},
      {"defaults", {{"a", 0.5}, {"b", 0.5}, {"mode", "p"}}}};
  c.metadata_json = md.dump();
  return c;
}

store::TrialRecord trial(int seq, double a, double b, const std::string& mode, std::vector<double> ys) {
  store::TrialRecord t;
  t.id = seq + 1;
  t.seq = seq;
  t.kind = seq == 0 ? "baseline" : "proposal";
  t.status = ys.empty() ? "failed" : "ok";
  if (ys.empty()) {
    t.failure_stage = "workload";
    t.failure_reason = "exit code 3 <oops>";
  }
  t.params_json = nlohmann::json{{"a", a}, {"b", b}, {"mode", mode}}.dump();
  t.started_at = 1000 + 10.0 * seq;
  t.finished_at = t.started_at + 8;
  for (std::size_t r = 0; r < ys.size(); ++r) t.measurements.push_back({"y", static_cast<int>(r), ys[r], "s"});
  return t;
}

/// y depends strongly on a, a little on mode, not at all on b.
std::vector<store::TrialRecord> synthetic(int n, int failures_every = 0) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<store::TrialRecord> out;
  const char* modes[] = {"p", "q", "r"};
  for (int i = 0; i < n; ++i) {
    double a = i == 0 ? 0.5 : u(rng), b = i == 0 ? 0.5 : u(rng);
    std::string mode = i == 0 ? "p" : modes[rng() % 3];
    double y = 10 + 20 * (a - 0.3) * (a - 0.3) + (mode == "r" ? 0.8 : 0.0);
    if (failures_every && i % failures_every == failures_every - 1) out.push_back(trial(i, a, b, mode, {}));
    else out.push_back(trial(i, a, b, mode, {y * 0.99, y, y * 1.01}));
  }
  return out;
}

}  // namespace

TEST(ReportImportance, RanksTheParameterThatDrivesTheMetricFirst) {
  auto c = campaign_row(40);
  const auto view = results::make_view(c, synthetic(40));
  auto imp = report::importance(report::parameters(view), view.trials, report::main_objective(view));
  ASSERT_EQ(imp.params.size(), 3u) << imp.note;
  EXPECT_EQ(imp.params[0].name, "a");
  EXPECT_GT(imp.params[0].share, 0.7);
  // b has no effect at all: far below a.
  double b_sd = 0;
  for (const auto& p : imp.params)
    if (p.name == "b") b_sd = p.effect_sd;
  EXPECT_LT(b_sd, 0.2 * imp.params[0].effect_sd);
  // The partial dependence of a has its minimum near a = 0.3 (true optimum).
  const auto& pa = imp.params[0];
  auto it = std::min_element(pa.pd.begin(), pa.pd.end());
  double a_at_min = pa.grid_x[static_cast<std::size_t>(it - pa.pd.begin())];
  EXPECT_NEAR(a_at_min, 0.3, 0.15);
  // In metric units: PD spans most of the true range of 20·(a−0.3)² over [0,1] (0 … 9.8).
  EXPECT_GT(*std::max_element(pa.pd.begin(), pa.pd.end()) - *it, 5.0);
}

TEST(ReportImportance, ExplainsWhyThereIsNoneWithTooFewTrials) {
  auto c = campaign_row(40);
  const auto view = results::make_view(c, synthetic(3));
  auto imp = report::importance(report::parameters(view), view.trials, report::main_objective(view));
  EXPECT_TRUE(imp.params.empty());
  EXPECT_NE(imp.note.find("at least 5"), std::string::npos) << imp.note;
}

TEST(ReportStatus, CountsBudgetFailuresBestAndEta) {
  auto c = campaign_row(20);
  auto trials = synthetic(10, 4);  // seq 3 and 7 fail
  double now = trials.back().finished_at + 2;
  auto s = report::status(results::make_view(c, trials), now);
  EXPECT_EQ(s.done, 10);
  EXPECT_EQ(s.extra, 0);
  ASSERT_TRUE(s.budget);
  EXPECT_EQ(*s.budget, 20);
  EXPECT_EQ(s.failed, 2);
  ASSERT_TRUE(s.last);
  EXPECT_EQ(s.last->seq, 9);
  ASSERT_TRUE(s.best);
  ASSERT_TRUE(s.baseline);
  EXPECT_NEAR(*s.baseline, 10 + 20 * 0.04, 1e-9);
  // The best is the recommender's pick (as `kerntune best` shows it): a
  // posterior-mean pick, so within the repeats' spread (±1%) of the lowest
  // median, not necessarily the lowest itself.
  const auto view = results::make_view(c, trials);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec && rec->pick);
  EXPECT_EQ(s.best->seq, view.trials[*rec->pick].seq);
  double lowest = INFINITY;
  for (const auto& t : view.trials)
    if (auto y = t.value("y")) lowest = std::min(lowest, *y);
  EXPECT_LE(s.best->metrics.at("y"), lowest * 1.01);
  // A trial every 10 s (8 s of work, 2 s between): 10 s from one trial's end
  // to the next, 10 left, 2 s into the next.
  ASSERT_TRUE(s.eta_seconds);
  EXPECT_NEAR(*s.eta_seconds, 10 * 10.0 - 2, 1e-6);
  EXPECT_NEAR(s.elapsed_seconds, 100, 1e-6);
  auto j = report::to_json(s);
  EXPECT_EQ(j["done"], 10);
  EXPECT_EQ(j["last_trial"]["seq"], 9);
  std::string text = report::format_status(s);
  EXPECT_NE(text.find("10 / 20 (50%)"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA"), std::string::npos) << text;
  // A finished campaign has no ETA and elapsed stops at the last trial.
  c.status = "finished";
  auto f = report::status(results::make_view(c, trials), now + 1000);
  EXPECT_FALSE(f.eta_seconds);
  EXPECT_NEAR(f.elapsed_seconds, 98, 1e-6);
}

TEST(ReportStatus, CostByKindOfTrialAndAnEtaThatIncludesTheConfirmationStillToRun) {
  // 8 search trials of a 10-trial budget: the baseline and 5 proposals
  // rebooted (8 s each, a boot stage), 2 reused the booted VM (2 s: no boot
  // stage), then the confirmation phase began: 1 rebaseline + 1 confirm of
  // top 2 × 3 rounds (6 confirm runs and 6 baseline runs in all).
  auto c = campaign_row(10);
  auto md = nlohmann::json::parse(c.metadata_json);
  md["confirmation"] = {{"top", 2}, {"rounds", 3}};
  c.metadata_json = md.dump();
  std::vector<store::TrialRecord> trials;
  double clock = 1000;
  auto add = [&](int seq, const char* kind, double seconds, bool boot, bool build = false) {
    auto t = trial(seq, 0.5, 0.5, "p", {10.0 + seq});
    t.kind = kind;
    t.started_at = clock;
    t.finished_at = clock + seconds;
    clock += seconds;
    t.timings = {{"workload", 1.0}, {"apply", 0.1}};
    if (boot) t.timings["boot"] = 5;
    if (build) t.timings["build"] = 30;
    trials.push_back(t);
  };
  for (int i = 0; i < 6; ++i) add(i, i == 0 ? "baseline" : "proposal", 8, true);
  add(6, "proposal", 2, false);
  add(7, "proposal", 2, false);
  add(8, "rebaseline", 8, true);
  add(9, "confirm", 6, true, true);  // a candidate with Kconfig values: built
  const double now = clock;
  auto s = report::status(results::make_view(c, trials), now);
  ASSERT_EQ(s.costs.size(), 3u);
  EXPECT_EQ(s.costs[0].kind, "reboot");  // 8 s median over 7 trials
  EXPECT_EQ(s.costs[0].trials, 7);
  EXPECT_DOUBLE_EQ(s.costs[0].median_seconds, 8);
  EXPECT_EQ(s.costs[1].kind, "kernel build");
  EXPECT_DOUBLE_EQ(s.costs[1].median_seconds, 6);
  EXPECT_EQ(s.costs[2].kind, "reused");
  EXPECT_EQ(s.costs[2].trials, 2);
  // 2 search trials left at 8 s (the median time from one trial's end to the
  // next: 8 8 8 8 8 2 2 8 6) and 2 × (6 − 1) confirmation-phase trials at
  // their median, 7 s (8 s and 6 s).
  EXPECT_EQ(s.confirmation_left, 10);
  ASSERT_TRUE(s.eta_seconds);
  EXPECT_NEAR(*s.eta_seconds, 2 * 8.0 + 10 * 7.0, 1e-9);
  auto j = report::to_json(s);
  EXPECT_EQ(j["trial_cost"][2]["kind"], "reused");
  EXPECT_EQ(j["confirmation_left"], 10);
  const std::string text = report::format_status(s);
  EXPECT_NE(text.find("(with 10 confirmation trials)"), std::string::npos) << text;
  EXPECT_NE(text.find("reboot 8.0s (7 trials), kernel build 6.0s (1 trial), reused 2.0s (2 trials)"), std::string::npos) << text;
  // The phase's rebaseline just ran, its confirm trial not yet: 11 left (the
  // rebaseline counts as done, not only the confirm trials).
  auto before_confirm = trials;
  before_confirm.pop_back();
  EXPECT_EQ(report::status(results::make_view(c, before_confirm), now).confirmation_left, 11);
  // Past the planned candidates a fallback confirmation is under way (the
  // next pick, when the confirmed ones broke a limit): what is left of its
  // 2 x 5 runs, not 0; a fallback that has ended leaves nothing.
  {
    // The search ended at trial 7 (index 8 of the view): with confirm_top 1
    // and 5 rounds the planned phase is its next 10 runs, a fallback 10 more.
    auto view = results::make_view(c, trials).trials;
    auto grow_to = [&](std::size_t phase_runs) {
      while (view.size() < 8 + phase_runs) {
        auto extra = view.back();
        extra.seq += 1;
        extra.kind = view.size() % 2 ? results::TrialKind::confirm : results::TrialKind::rebaseline;
        view.push_back(extra);
      }
    };
    grow_to(10);
    EXPECT_EQ(results::remaining(view, 10, 1, 5, now).confirmation_left, 0) << "the planned runs done";
    grow_to(13);
    EXPECT_EQ(results::remaining(view, 10, 1, 5, now).confirmation_left, 7) << "3 of the fallback's 10 runs done";
    grow_to(20);
    EXPECT_EQ(results::remaining(view, 10, 1, 5, now).confirmation_left, 0) << "the fallback's 10 runs done";
  }
  // Without a confirmation phase in the metadata the ETA is the search's alone.
  md.erase("confirmation");
  c.metadata_json = md.dump();
  auto plain = report::status(results::make_view(c, trials), now);
  EXPECT_EQ(plain.confirmation_left, 0);
  EXPECT_NEAR(*plain.eta_seconds, 2 * 8.0, 1e-9);
  // Stopped after trial 7 and resumed an hour later: the hour is one interval
  // between trial ends, which the median passes over (a mean of the wall time
  // would have made each trial left cost 6 minutes).
  for (std::size_t i = 8; i < trials.size(); ++i) {
    trials[i].started_at += 3600;
    trials[i].finished_at += 3600;
  }
  auto resumed = report::status(results::make_view(c, trials), now + 3600);
  ASSERT_TRUE(resumed.eta_seconds);
  EXPECT_NEAR(*resumed.eta_seconds, 2 * 8.0, 1e-9);
  EXPECT_EQ(results::remaining(results::make_view(c, trials).trials, 10, 2, 3, now + 3600).search_left, 2);
}

TEST(ReportHtml, OneMarkPerTrialAndNothingThatLoadsFromTheNetwork) {
  report::ReportInput in;
  in.view = results::make_view(campaign_row(30), synthetic(30, 7));  // 4 failures: seq 6, 13, 20, 27
  in.improvement = report::Improvement{0.8, 0.75, 0.86, 9, "unpaired"};
  std::string html = report::render_html(in);
  EXPECT_EQ(count(html, "<circle class=\"trial ok"), 26u);
  EXPECT_EQ(count(html, "<path class=\"trial failed\""), 4u);
  EXPECT_EQ(count(html, "data-stage=\"workload\""), 4u + 1u);  // 4 marks + 1 failure-table row
  EXPECT_NE(html.find("id=\"importance-chart\""), std::string::npos);
  EXPECT_EQ(count(html, "<rect class=\"bar\""), 3u);
  EXPECT_EQ(count(html, "class=\"chart pd\""), 3u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);   // no external script/img
  EXPECT_EQ(html.find("<link"), std::string::npos);  // no stylesheet/font
  // User text is escaped.
  EXPECT_NE(html.find("exit code 3 &lt;oops&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<oops>"), std::string::npos);
  // The improvement and its interval are shown; one objective: no Pareto chart.
  EXPECT_NE(html.find("0.8000"), std::string::npos);
  EXPECT_NE(html.find("[0.7500, 0.8600]"), std::string::npos);
  EXPECT_EQ(html.find("id=\"pareto-chart\""), std::string::npos);
  // Deterministic.
  EXPECT_EQ(html, report::render_html(in));
}

TEST(ReportHtml, ParetoFrontForTwoObjectives) {
  report::ReportInput in;
  auto c = campaign_row(5);
  auto md = nlohmann::json::parse(c.metadata_json);
  md["objectives"].push_back({{"metric", "mem"}, {"direction", "minimize"}});
  c.metadata_json = md.dump();
  std::vector<store::TrialRecord> rows;
  // (y, mem): (1,5) (2,2) (3,1) are the front; (3,3) and (4,4) are dominated.
  double pts[][2] = {{1, 5}, {2, 2}, {3, 1}, {3, 3}, {4, 4}};
  for (int i = 0; i < 5; ++i) {
    auto t = trial(i, 0.1 * i, 0.5, "p", {pts[i][0]});
    t.measurements.push_back({"mem", 0, pts[i][1], "MB"});
    rows.push_back(t);
  }
  in.view = results::make_view(c, rows);
  std::string html = report::render_html(in);
  EXPECT_NE(html.find("id=\"pareto-chart\""), std::string::npos);
  EXPECT_EQ(count(html, "<circle class=\"front"), 3u);
  EXPECT_EQ(count(html, "<circle class=\"dominated"), 2u);
}

TEST(ReportSvg, TicksAreRoundAndCoverTheRange) {
  auto t = report::svg::ticks(0.13, 9.7, 5);
  ASSERT_FALSE(t.empty());
  EXPECT_DOUBLE_EQ(t.front(), 2);
  EXPECT_DOUBLE_EQ(t.back(), 8);
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], 2.0, 1e-12);
  EXPECT_EQ(report::svg::esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
  EXPECT_EQ(report::svg::num(1234.4), "1234");
  EXPECT_EQ(report::svg::num(0.000012), "1.200e-05");
}
