// Warm start: prior trials are mapped into the new space by name, or dropped
// with a reason; never moved onto the defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "kerntune/campaign/warm_start.hpp"

using kerntune::campaign::DroppedTrial;
using kerntune::campaign::map_prior_trials;
using kerntune::results::Trial;
using nlohmann::json;
namespace space = kerntune::space;

namespace {

// The new space: x narrower than before, no `extra`, depth now conditional,
// a constraint the old space did not have.
space::Space new_space() {
  auto s = space::Space::load_string(R"(
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}
  - {name: n, domain: generic, type: int, range: [1, 64], default: 8}
  - {name: fast, domain: generic, type: bool, default: false}
  - {name: depth, domain: generic, type: int, range: [1, 5], default: 2, when: "fast == true"}
constraints:
  - "x + n <= 15"
)",
                                     "new.yaml");
  EXPECT_TRUE(s) << s.error().format();
  return *s;
}

// The prior campaign's metadata "parameters": x wider, an extra knob, depth
// unconditional, no n.
json prior_parameters() {
  return json::parse(R"([
    {"name": "x", "type": "real", "default": 0.0, "range": [-10.0, 10.0]},
    {"name": "extra", "type": "int", "default": 0, "range": [0, 3]},
    {"name": "fast", "type": "bool", "default": false},
    {"name": "depth", "type": "int", "default": 2, "range": [1, 5]}
  ])");
}

Trial trial(int seq, json params, double y = 1.0, const std::string& kind = "proposal") {
  Trial t;
  t.seq = seq;
  t.kind = kerntune::results::kind_from_string(kind);
  t.ok = true;
  t.params = std::move(params);
  t.effective = json::object();
  t.samples["y"] = {y};
  t.metrics["y"] = y;
  return t;
}

std::vector<Trial> prior_trials() {
  std::vector<Trial> v;
  v.push_back(trial(0, {{"x", 0.0}, {"extra", 0}, {"fast", false}, {"depth", 2}}, 5.0, "baseline"));  // fits
  v.push_back(trial(1, {{"x", -7.5}, {"extra", 0}, {"fast", false}, {"depth", 2}}));  // x outside the new range
  v.push_back(trial(2, {{"x", 3.0}, {"extra", 2}, {"fast", true}, {"depth", 3}}));    // extra at a non-default value
  v.push_back(trial(3, {{"x", 3.0}, {"extra", 0}, {"fast", true}, {"depth", 4}}));    // fits
  v.push_back(trial(4, {{"x", 1.0}, {"extra", 0}, {"fast", false}, {"depth", 5}}));   // depth set, inactive here
  v.push_back(trial(5, {{"x", 9.0}, {"extra", 0}, {"fast", false}, {"depth", 2}}));   // x + n (default 8) > 15
  auto failed = trial(6, {{"x", 2.0}, {"extra", 0}, {"fast", false}, {"depth", 2}});
  failed.ok = false;
  failed.samples.clear();
  failed.metrics.clear();
  v.push_back(failed);
  auto no_metric = trial(7, {{"x", 2.0}, {"extra", 0}, {"fast", false}, {"depth", 2}});
  no_metric.samples.clear();
  no_metric.metrics.clear();
  v.push_back(no_metric);
  v.push_back(trial(8, {{"x", 0.0}, {"extra", 0}, {"fast", false}, {"depth", 2}}, 5.0, "rebaseline"));  // not a budget trial
  v.push_back(trial(9, {{"x", 4.0}, {"extra", 0}, {"fast", true}, {"depth", 1.5}}));  // depth of the wrong type
  auto applied = trial(10, {{"x", 4.0}, {"extra", 0}, {"fast", false}, {"depth", 2}});
  applied.effective = {{"x", 2.5}};  // the target applied another value: that one is learned
  v.push_back(applied);
  v.push_back(trial(11, {{"x", 6.5}, {"extra", 0}, {"fast", false}, {"depth", 2}}));  // fits (6.5 + 8 <= 15)
  auto unreadable = trial(12, {{"x", 4.0}, {"extra", 0}, {"fast", false}, {"depth", 2}});
  unreadable.effective = {{"x", "n/a"}};  // not a value of x: the proposed one stands
  v.push_back(unreadable);
  return v;
}

const DroppedTrial* dropped(const kerntune::campaign::WarmStartMapping& m, int seq) {
  auto it = std::find_if(m.dropped.begin(), m.dropped.end(), [&](const DroppedTrial& d) { return d.seq == seq; });
  return it == m.dropped.end() ? nullptr : &*it;
}

}  // namespace

TEST(WarmStart, MapsByNameAndDropsWhatTheNewSpaceCannotRepresent) {
  space::Space s = new_space();
  auto m = map_prior_trials(s, prior_parameters(), prior_trials(), {"y"});

  std::vector<int> used;
  for (const auto& t : m.used) used.push_back(t.seq);
  EXPECT_EQ(used, (std::vector<int>{0, 3, 10, 11, 12}));
  EXPECT_EQ(m.without_value, 2);  // seq 6 failed, seq 7 lacks y; seq 8 (rebaseline) is not counted
  EXPECT_EQ(m.defaulted, (std::vector<std::string>{"n"}));

  using Why = DroppedTrial::Why;
  const std::vector<std::tuple<int, Why, std::string>> expected = {
      {1, Why::invalid_value, "x"}, {2, Why::not_in_space, "extra"}, {4, Why::inactive_here, "depth"},
      {5, Why::constraint, ""},     {9, Why::invalid_value, "depth"}};
  ASSERT_EQ(m.dropped.size(), expected.size());
  for (const auto& [seq, why, parameter] : expected) {
    const DroppedTrial* d = dropped(m, seq);
    ASSERT_NE(d, nullptr) << seq;
    EXPECT_EQ(d->why, why) << seq;
    EXPECT_EQ(d->parameter, parameter) << seq;
  }
  EXPECT_NE(dropped(m, 1)->detail.find("-7.5 is outside its range [-5, 10]"), std::string::npos) << dropped(m, 1)->detail;
  EXPECT_NE(dropped(m, 2)->detail.find("'extra' = 2 is not a parameter of this space, its default 0"), std::string::npos)
      << dropped(m, 2)->detail;
}

TEST(WarmStart, UsedTrialsAreTheirOwnPointsInTheNewSpace) {
  space::Space s = new_space();
  auto m = map_prior_trials(s, prior_parameters(), prior_trials(), {"y"});
  std::map<int, json> params;
  for (const auto& t : m.used) {
    params[t.seq] = t.params;
    EXPECT_TRUE(t.effective.empty());
    auto a = s.from_json(t.params);
    ASSERT_TRUE(a) << t.params.dump();
    EXPECT_TRUE(s.validate(*a)) << t.params.dump();
  }
  EXPECT_EQ(params[0], json::parse(R"({"x": 0.0, "n": 8, "fast": false})"));   // depth inactive, at its default
  EXPECT_EQ(params[3], json::parse(R"({"x": 3.0, "n": 8, "fast": true, "depth": 4})"));
  EXPECT_EQ(params[10], json::parse(R"({"x": 2.5, "n": 8, "fast": false})"));  // the applied value
  EXPECT_EQ(params[12], json::parse(R"({"x": 4.0, "n": 8, "fast": false})"));  // the proposed value
  // Not collapsed onto one point: five trials, five distinct encoded points.
  std::set<std::vector<double>> points;
  for (const auto& t : m.used) points.insert(s.encode(*s.from_json(t.params)));
  EXPECT_EQ(points.size(), m.used.size());
}

TEST(WarmStart, AnUnknownParameterWithoutARecordedDefaultDropsTheTrial) {
  json params = prior_parameters();
  params.erase(1);  // the prior metadata does not describe `extra`
  auto m = map_prior_trials(new_space(), params, {trial(0, {{"x", 0.0}, {"extra", 0}, {"fast", false}})}, {"y"});
  EXPECT_TRUE(m.used.empty());
  ASSERT_EQ(m.dropped.size(), 1u);
  EXPECT_EQ(m.dropped[0].why, DroppedTrial::Why::not_in_space);
}

TEST(WarmStart, SummaryCountsAndNamesTheParametersThatDidNotFit) {
  auto m = map_prior_trials(new_space(), prior_parameters(), prior_trials(), {"y"});
  std::string line = m.summary("old", "old.db");
  for (const char* part :
       {"warm start: 5 of 12 trials of campaign 'old' (old.db) used", "; 5 dropped: ",
        "'extra' (not in this space) at a non-default value (1)", "'x' outside this space's range or type (1)",
        "'depth' outside this space's range or type (1)", "'depth' (inactive here) at a non-default value (1)",
        "a constraint of this space broken (1)", "2 failed or without an objective value",
        "taken at their defaults (not in the prior campaign): n"})
    EXPECT_NE(line.find(part), std::string::npos) << part << "\n" << line;
}

namespace {
kerntune::campaign::Recipe warm_recipe() {
  kerntune::campaign::Recipe r;
  r.objectives.resize(2);
  r.objectives[0].metric = "y";
  r.objectives[1].metric = "mem";
  r.objectives[1].is_objective = false;  // a limit only: the prior need not have it
  r.objectives[1].limit_op = "<=";
  r.warm_start = kerntune::campaign::WarmStart{"old.db", "old", "recipe.yaml", 12, 3};
  return r;
}
}  // namespace

namespace {
kerntune::results::Objective prior_objective(const std::string& metric, bool optimized, bool maximize) {
  kerntune::results::Objective o;
  o.metric = metric;
  o.optimized = optimized;
  o.maximize = maximize;
  if (!optimized) o.limit_op = "<=";
  return o;
}
}  // namespace

TEST(WarmStart, RefusesAPriorWithoutTheMetricOrWithTheOtherDirection) {
  using kerntune::campaign::check_prior_objectives;
  auto r = warm_recipe();
  EXPECT_TRUE(check_prior_objectives(r, "old", {prior_objective("y", true, false)}));
  EXPECT_TRUE(check_prior_objectives(r, "old", {prior_objective("y", false, false)}));  // measured, no direction

  auto missing = check_prior_objectives(r, "old", {prior_objective("z", true, false)});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, kerntune::util::Error::Kind::invalid_input);
  EXPECT_EQ(missing.error().format(),
            "recipe.yaml:12:3: warm_start: campaign 'old' has no objective 'y' (its objectives: z), so its trials "
            "cannot inform this one");

  auto other_way = check_prior_objectives(r, "old", {prior_objective("y", true, true)});
  ASSERT_FALSE(other_way);
  EXPECT_NE(other_way.error().message.find("was told to maximize 'y', this recipe to minimize it"), std::string::npos)
      << other_way.error().message;

  auto none = check_prior_objectives(r, "old", {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("(its objectives: none recorded)"), std::string::npos);
}

TEST(WarmStart, WithoutRecordedParametersTheTrialsThemselvesSayWhatWasSet) {
  // An old store: no parameter list in the metadata. x and fast were set by the
  // trial, so only n and depth are reported as taken at their defaults.
  auto m = map_prior_trials(new_space(), json::array(), {trial(0, {{"x", 1.0}, {"fast", false}})}, {"y"});
  ASSERT_EQ(m.used.size(), 1u);
  EXPECT_EQ(m.used[0].params, json::parse(R"({"x": 1.0, "n": 8, "fast": false})"));
  EXPECT_EQ(m.defaulted, (std::vector<std::string>{"n", "depth"}));
}
