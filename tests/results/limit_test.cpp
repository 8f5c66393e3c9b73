// Limits relative to the baseline (`limit: ">= 95% baseline"`): parsing, and
// how the recommender judges them — on search runs against every run of the
// defaults, on confirmation runs against the rebaselines of the same rounds.
#include <gtest/gtest.h>

#include <cmath>

#include "kerntune/results/recommend.hpp"

using namespace kerntune;
using nlohmann::json;

namespace {

store::CampaignRow campaign(const std::string& limit) {
  store::CampaignRow c;
  c.id = 1;
  c.name = "t";
  json params = json::array({{{"name", "x"}, {"domain", "generic"}, {"type", "real"}, {"range", {0.0, 10.0}},
                              {"default", 0.0}, {"scale", "linear"}}});
  json objectives = json::array({{{"metric", "mem"}, {"direction", "minimize"}}, {{"metric", "rps"}, {"limit", limit}}});
  c.metadata_json = json{{"objectives", objectives}, {"parameters", params}, {"defaults", {{"x", 0.0}}}}.dump();
  return c;
}

store::TrialRecord trial(int seq, const std::string& kind, double x, double mem, double rps) {
  store::TrialRecord t;
  t.seq = seq;
  t.kind = kind;
  t.status = "ok";
  t.params_json = json{{"x", x}}.dump();
  t.measurements = {{"mem", 0, mem, ""}, {"rps", 0, rps, ""}};
  return t;
}

const results::Candidate& candidate_at(const std::vector<results::Candidate>& ranked, const results::CampaignView& v, double x) {
  for (const auto& c : ranked)
    if (v.trials[c.trial].params.value("x", -1.0) == x) return c;
  throw std::runtime_error("no candidate at x");
}

}  // namespace

TEST(ParseLimit, AbsoluteAndRelativeForms) {
  auto a = results::parse_limit("<= 300");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->op, "<=");
  EXPECT_EQ(a->value, 300);
  EXPECT_FALSE(a->relative);
  auto r = results::parse_limit(">= 95% baseline");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, ">=");
  EXPECT_DOUBLE_EQ(r->value, 0.95);
  EXPECT_TRUE(r->relative);
  auto of = results::parse_limit("  <=110 %   of baseline ");
  ASSERT_TRUE(of);
  EXPECT_EQ(of->op, "<=");
  EXPECT_DOUBLE_EQ(of->value, 1.10);
  EXPECT_TRUE(of->relative);
  // The canonical text reads back to the same limit.
  EXPECT_EQ(results::format_limit(*r), ">= 95% baseline");
  EXPECT_EQ(results::format_limit(*a), "<= 300");
  auto back = results::parse_limit(results::format_limit(*of));
  ASSERT_TRUE(back);
  EXPECT_DOUBLE_EQ(back->value, 1.10);
  EXPECT_TRUE(back->relative);
}

TEST(ParseLimit, MalformedRelativeFormsAreRefused) {
  for (const char* bad : {">= baseline", ">= 95%", ">= 95 baseline", ">= 0% baseline", ">= -5% baseline",
                          "95% baseline", ">= x% baseline", ">= 95% baselines", ">= 95% of", ">= inf% baseline"})
    EXPECT_FALSE(results::parse_limit(bad)) << bad;
}

TEST(RelativeLimit, SearchRunsAreJudgedAgainstEveryRunOfTheDefaults) {
  // Defaults measured twice (1000, 1040: median 1020, bound 969). x = 1 keeps
  // 95% of it (980), x = 2 holds less memory but breaks it (960).
  const auto view = results::make_view(campaign(">= 95% baseline"),
                                       {trial(0, "baseline", 0, 100, 1000), trial(1, "proposal", 1, 80, 980),
                                        trial(2, "proposal", 2, 60, 960), trial(3, "rebaseline", 0, 100, 1040)});
  auto ranked = results::rank_candidates(view, view.objectives.front());
  const auto& keeps = candidate_at(ranked, view, 1);
  const auto& breaks = candidate_at(ranked, view, 2);
  ASSERT_EQ(keeps.limits.size(), 1u);
  EXPECT_TRUE(keeps.limits[0].relative);
  EXPECT_DOUBLE_EQ(keeps.limits[0].baseline, 1020);
  EXPECT_DOUBLE_EQ(keeps.limits[0].limit, 0.95 * 1020);
  EXPECT_TRUE(keeps.feasible);
  EXPECT_FALSE(breaks.feasible);
  EXPECT_FALSE(breaks.limits[0].on_confirmation);
  EXPECT_EQ(breaks.limits[0].bound_text(), ">= 969 (95% of the baseline's 1020)");
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec && rec->pick);
  EXPECT_EQ(view.trials[*rec->pick].seq, 1);
  // The same data with an absolute limit at the same bound gives the same verdicts.
  const auto abs = results::make_view(campaign(">= 969"), {trial(0, "baseline", 0, 100, 1000), trial(1, "proposal", 1, 80, 980),
                                                           trial(2, "proposal", 2, 60, 960), trial(3, "rebaseline", 0, 100, 1040)});
  auto abs_ranked = results::rank_candidates(abs, abs.objectives.front());
  EXPECT_TRUE(candidate_at(abs_ranked, abs, 1).feasible);
  EXPECT_FALSE(candidate_at(abs_ranked, abs, 2).feasible);
}

TEST(RelativeLimit, ConfirmationRunsAreJudgedAgainstTheRebaselinesOfTheirOwnRounds) {
  // The search ran on a fast host phase (defaults at 1000); the confirmation
  // rounds on a slow one (rebaselines 820, 800, 840: median 820). The
  // candidate at x = 1 confirms at 790: 96% of its own rounds' baseline, so it
  // keeps the limit, although it is 79% of the search phase's baseline. x = 2
  // confirms at 700 (85%): it breaks it.
  std::vector<store::TrialRecord> rows = {trial(0, "baseline", 0, 100, 1000), trial(1, "proposal", 1, 70, 990),
                                          trial(2, "proposal", 2, 60, 985)};
  const double base[] = {820, 800, 840};
  int seq = 3;
  for (int r = 0; r < 3; ++r) {
    rows.push_back(trial(seq++, "rebaseline", 0, 100, base[r]));
    rows.push_back(trial(seq++, "confirm", 1, 70, 790));
    rows.push_back(trial(seq++, "rebaseline", 0, 100, base[r]));
    rows.push_back(trial(seq++, "confirm", 2, 60, 700));
  }
  const auto view = results::make_view(campaign(">= 95% baseline"), rows);
  auto ranked = results::rank_candidates(view, view.objectives.front());
  const auto& keeps = candidate_at(ranked, view, 1);
  const auto& breaks = candidate_at(ranked, view, 2);
  EXPECT_TRUE(keeps.limits[0].on_confirmation);
  EXPECT_DOUBLE_EQ(keeps.limits[0].baseline, 820);
  EXPECT_DOUBLE_EQ(keeps.limits[0].value, 790);
  EXPECT_TRUE(keeps.feasible);
  EXPECT_FALSE(breaks.feasible);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec && rec->pick);
  EXPECT_EQ(view.trials[*rec->pick].params.value("x", -1.0), 1.0);
  // An absolute limit at 95% of the search baseline vetoes both — and the
  // defaults too: they are judged on all their runs (median 820 of 1000 and
  // the six rebaselines), as a confirmed candidate is on its confirmation runs.
  const auto abs = results::make_view(campaign(">= 950"), rows);
  auto abs_rec = results::recommend(abs);
  ASSERT_TRUE(abs_rec);
  EXPECT_FALSE(abs_rec->pick);
  EXPECT_EQ(abs_rec->infeasible, abs_rec->candidates);
  // Relative to the baseline, the defaults can never break their own limit.
  EXPECT_TRUE(candidate_at(ranked, view, 0).feasible);
}

TEST(RelativeLimit, WithoutABaselineMeasurementNothingKeepsIt) {
  auto rows = std::vector<store::TrialRecord>{trial(0, "baseline", 0, 100, 1000), trial(1, "proposal", 1, 80, 990)};
  rows[0].status = "failed";
  const auto view = results::make_view(campaign(">= 95% baseline"), rows);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->pick);
  ASSERT_FALSE(rec->notes.empty());
  EXPECT_NE(rec->notes.front().find("95% baseline (no baseline measured)"), std::string::npos) << rec->notes.front();
}

TEST(RelativeLimit, ObjectiveThresholdNeedsAPositiveBaseline) {
  results::Objective o;
  o.metric = "rps";
  o.limit_op = ">=";
  o.limit = 0.95;
  o.limit_relative = true;
  EXPECT_FALSE(o.threshold());
  EXPECT_FALSE(o.threshold(0.0));
  EXPECT_FALSE(o.threshold(-10.0));
  EXPECT_DOUBLE_EQ(*o.threshold(200.0), 190.0);
  EXPECT_TRUE(o.satisfied_by(190.0, 200.0));
  EXPECT_FALSE(o.satisfied_by(189.0, 200.0));
  EXPECT_FALSE(o.satisfied_by(1e9));  // no baseline: not kept
  EXPECT_EQ(o.limit_text(), "rps >= 95% baseline");
}
