// results::recommend and results::compare_to_baseline on stored rows built
// in code: limits, noise, confirmation rounds, the front.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kerntune/results/recommend.hpp"

using namespace kerntune;
using nlohmann::json;

namespace {

store::CampaignRow campaign(const json& objectives, const json& params) {
  store::CampaignRow c;
  c.id = 1;
  c.name = "t";
  c.metadata_json = json{{"objectives", objectives}, {"parameters", params}, {"defaults", {{"x", 0.0}}}}.dump();
  return c;
}

json one_real() { return json::array({{{"name", "x"}, {"domain", "generic"}, {"type", "real"}, {"range", {0.0, 10.0}}, {"default", 0.0}, {"scale", "linear"}}}); }

store::TrialRecord trial(int seq, const std::string& kind, double x, std::map<std::string, std::vector<double>> m) {
  store::TrialRecord t;
  t.seq = seq;
  t.kind = kind;
  t.status = "ok";
  t.params_json = json{{"x", x}}.dump();
  for (auto& [name, values] : m)
    for (std::size_t r = 0; r < values.size(); ++r) t.measurements.push_back({name, static_cast<int>(r), values[r], ""});
  return t;
}

}  // namespace

TEST(Recommend, NeverPicksATrialThatBreaksALimit) {
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}}, {{"metric", "mem"}, {"limit", "<= 300"}}}), one_real());
  std::vector<store::TrialRecord> rows;
  for (int i = 0; i <= 10; ++i) {
    double x = i;
    rows.push_back(trial(i, i == 0 ? "baseline" : "proposal", x, {{"y", {(10 - x) * (10 - x) + 1}}, {"mem", {100 + 45 * x}}}));
  }
  const auto view = results::make_view(c, rows);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_TRUE(rec->pick);
  const auto& t = view.trials[*rec->pick];
  EXPECT_LE(*t.value("mem"), 300.0);
  EXPECT_EQ(t.seq, 4);  // x = 4: mem 280, the lowest y that keeps the limit
  EXPECT_EQ(rec->infeasible, 6);  // x = 5..10
  EXPECT_EQ(rec->candidates, 11);
}

TEST(Recommend, SaysSoWhenNoTrialIsFeasible) {
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}}, {{"metric", "mem"}, {"limit", "<= 50"}}}), one_real());
  std::vector<store::TrialRecord> rows = {trial(0, "baseline", 0, {{"y", {5}}, {"mem", {100}}}),
                                          trial(1, "proposal", 1, {{"y", {4}}, {"mem", {120}}})};
  auto rec = results::recommend(results::make_view(c, rows));
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->pick);
  ASSERT_FALSE(rec->notes.empty());
  EXPECT_NE(rec->notes.front().find("keeps every limit"), std::string::npos) << rec->notes.front();
}

TEST(Recommend, PosteriorMeanDiscountsALuckySample) {
  // A smooth bowl with noise; one trial far from the optimum got a lucky
  // draw that makes it the raw best. The surrogate ranks by its neighbours.
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}}}), one_real());
  std::vector<store::TrialRecord> rows;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.3);
  int seq = 0;
  for (double x = 0; x <= 10.0; x += 0.5) {
    double y = 10 + (x - 3) * (x - 3) * 0.5 + noise(rng);
    if (x == 8.0) y = 9.0;  // lucky: the bowl is at 22.5 there
    rows.push_back(trial(seq, seq == 0 ? "baseline" : "proposal", x, {{"y", {y}}}));
    ++seq;
  }
  const auto view = results::make_view(c, rows);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec);
  ASSERT_TRUE(rec->pick && rec->raw_best);
  EXPECT_EQ(view.trials[*rec->raw_best].params["x"], 8.0);
  double picked_x = view.trials[*rec->pick].params["x"];
  EXPECT_NEAR(picked_x, 3.0, 1.0);
  EXPECT_NE(rec->rule.find("posterior mean"), std::string::npos) << rec->rule;
}

TEST(Interval, ConfirmationRoundsAreTheUnitNotRepeatsInsideOneRun) {
  // Three rounds, three repeats each: 3 independent pairs, not 9.
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}}}), one_real());
  std::vector<store::TrialRecord> rows = {trial(0, "baseline", 0, {{"y", {10, 10.1, 9.9}}}),
                                          trial(1, "proposal", 5, {{"y", {8, 8.1, 7.9}}})};
  std::vector<double> base = {10.0, 11.0, 9.5}, cand = {8.3, 8.5, 7.6};
  int seq = 2;
  for (int r = 0; r < 3; ++r) {
    rows.push_back(trial(seq++, "rebaseline", 0, {{"y", {base[r], base[r] + 0.01, base[r] - 0.01}}}));
    rows.push_back(trial(seq++, "confirm", 5, {{"y", {cand[r], cand[r] + 0.01, cand[r] - 0.01}}}));
  }
  const auto view = results::make_view(c, rows);
  auto iv = results::compare_to_baseline(view, 1, "y");
  ASSERT_TRUE(iv);
  EXPECT_TRUE(iv->confirmed);
  EXPECT_TRUE(iv->paired);
  EXPECT_EQ(iv->rounds, 3);
  // The Student t interval of the mean log ratio over the three rounds.
  std::vector<double> d;
  for (int r = 0; r < 3; ++r) d.push_back(std::log(cand[r] / base[r]));
  double m = (d[0] + d[1] + d[2]) / 3, sd = 0;
  for (double v : d) sd += (v - m) * (v - m);
  sd = std::sqrt(sd / 2);
  double half = 4.302652729911275 * sd / std::sqrt(3.0);  // t(0.975, 2)
  EXPECT_NEAR(iv->ratio, std::exp(m), 1e-12);
  EXPECT_NEAR(iv->lo, std::exp(m - half), 1e-9);
  EXPECT_NEAR(iv->hi, std::exp(m + half), 1e-9);
  EXPECT_LT(iv->lo, iv->ratio);
  EXPECT_GT(iv->hi, iv->ratio);
  EXPECT_EQ(iv->verdict(false), "significant improvement");
  // And the recommendation uses it, confirmed.
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec && rec->pick);
  EXPECT_EQ(view.trials[*rec->pick].seq, 1);
  EXPECT_TRUE(rec->interval && rec->interval->confirmed);
}

TEST(Interval, UnconfirmedIsFlaggedAndNeedsTwoRunsASide) {
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}}}), one_real());
  std::vector<store::TrialRecord> rows = {trial(0, "baseline", 0, {{"y", {10, 10.2, 9.8}}}),
                                          trial(1, "proposal", 5, {{"y", {8, 8.1, 7.9}}})};
  auto view = results::make_view(c, rows);
  auto iv = results::compare_to_baseline(view, 1, "y");
  ASSERT_TRUE(iv);
  EXPECT_FALSE(iv->confirmed);
  EXPECT_FALSE(iv->has_interval());  // one run a side: repeats inside a run are not replication
  EXPECT_NEAR(iv->ratio, 0.8, 1e-12);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec);
  bool flagged = false;
  for (const auto& n : rec->notes) flagged = flagged || n.find("unconfirmed") != std::string::npos;
  EXPECT_TRUE(flagged);
}

TEST(Recommend, FrontOfTwoObjectivesHoldsOnlyFeasibleNonDominatedConfigurations) {
  auto c = campaign(json::array({{{"metric", "y"}, {"direction", "minimize"}},
                                 {{"metric", "t"}, {"direction", "minimize"}},
                                 {{"metric", "mem"}, {"limit", "<= 300"}}}),
                    one_real());
  std::vector<store::TrialRecord> rows = {
      trial(0, "baseline", 0, {{"y", {10}}, {"t", {1}}, {"mem", {100}}}),
      trial(1, "proposal", 2, {{"y", {6}}, {"t", {3}}, {"mem", {200}}}),
      trial(2, "proposal", 3, {{"y", {7}}, {"t", {4}}, {"mem", {250}}}),   // dominated by trial 1
      trial(3, "proposal", 4, {{"y", {5}}, {"t", {5}}, {"mem", {290}}}),
      trial(4, "proposal", 9, {{"y", {1}}, {"t", {9}}, {"mem", {500}}})};  // breaks the limit
  const auto view = results::make_view(c, rows);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec);
  std::vector<int> seqs;
  for (const auto& f : rec->front) seqs.push_back(view.trials[f.trial].seq);
  EXPECT_EQ(seqs, (std::vector<int>{3, 1, 0}));  // best y first
  ASSERT_TRUE(rec->pick);
  EXPECT_NE(view.trials[*rec->pick].seq, 4);
  EXPECT_NE(view.trials[*rec->pick].seq, 2);
  auto bad = results::recommend(view, {.metric = "mem"});
  EXPECT_FALSE(bad);  // a limit, not an optimized objective
}

TEST(Recommend, TheDefaultsAreJudgedOnAllTheirRunsAndNeverBreakARelativeLimit) {
  // The defaults' first run is slow (a busy host), their rebaselines fast;
  // every proposal is slower still. ">= 95% baseline" is judged against the
  // median of the defaults' runs: judged on its first run alone the defaults
  // would break it and nothing would be recommended.
  auto c = campaign(json::array({{{"metric", "mem"}, {"direction", "minimize"}},
                                 {{"metric", "rps"}, {"limit", ">= 95% baseline"}}}),
                    one_real());
  std::vector<store::TrialRecord> rows = {trial(0, "baseline", 0, {{"mem", {100}}, {"rps", {600}}}),
                                          trial(1, "proposal", 5, {{"mem", {40}}, {"rps", {500}}}),
                                          trial(2, "rebaseline", 0, {{"mem", {101}}, {"rps", {2000}}}),
                                          trial(3, "proposal", 7, {{"mem", {30}}, {"rps", {400}}}),
                                          trial(4, "rebaseline", 0, {{"mem", {99}}, {"rps", {1900}}})};
  const auto view = results::make_view(c, rows);
  auto rec = results::recommend(view);
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_TRUE(rec->pick) << (rec->notes.empty() ? "" : rec->notes.front());
  EXPECT_EQ(view.trials[*rec->pick].seq, 0);  // the defaults: both proposals break the limit
  EXPECT_EQ(rec->infeasible, 2);
  EXPECT_EQ(rec->candidates, 3);
}

TEST(ModelDims, ParametersWithTheSameWhenShareAConditionalGroup) {
  // The recommender's model uses the search's kernel: children of one `when:`
  // condition form one group, another condition's children another, and an
  // unconditional parameter none (docs/bo.md §2).
  auto param = [](std::string name, space::Type type, std::string when) {
    space::Parameter p;
    p.name = std::move(name);
    p.type = type;
    if (type == space::Type::choice) p.values = {"a", "b", "c"}, p.default_value = std::string("a");
    else p.lo = 0, p.hi = 1, p.default_value = 0.5;
    p.when_text = std::move(when);
    return p;
  };
  auto s = space::Space::make({param("algo", space::Type::choice, ""), param("shared", space::Type::real, ""),
                               param("b1", space::Type::real, "algo == 'b'"), param("b2", space::Type::real, "algo == 'b'"),
                               param("c1", space::Type::real, "algo == 'c'")});
  ASSERT_TRUE(s) << s.error().message;
  const auto dims = results::model_dims(*s);
  ASSERT_EQ(dims.size(), 5u);
  EXPECT_EQ(dims[0].kind, bo::Dim::Kind::categorical);
  EXPECT_EQ(dims[0].categories, 3);
  EXPECT_EQ(dims[0].group, -1);
  EXPECT_EQ(dims[1].group, -1);
  EXPECT_EQ(dims[2].group, 0);
  EXPECT_EQ(dims[3].group, 0);
  EXPECT_EQ(dims[4].group, 1);
}
