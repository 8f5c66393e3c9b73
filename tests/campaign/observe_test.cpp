// What the optimizer is told about a stored trial (campaign/observe.hpp): a
// trial whose assignment is not a point of the space is not told at all —
// never encoded as the defaults point (issue 15).
#include <gtest/gtest.h>

#include "kerntune/campaign/observe.hpp"

using kerntune::campaign::Objective;
using kerntune::campaign::observation;
using kerntune::campaign::Recipe;
using kerntune::results::Trial;
using nlohmann::json;
namespace space = kerntune::space;

namespace {

Recipe recipe() {
  auto s = space::Space::load_string(R"(
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}
  - {name: n, domain: generic, type: int, range: [1, 64], default: 8}
)",
                                     "narrowed.yaml");
  EXPECT_TRUE(s) << s.error().format();
  Recipe r;
  r.space = *s;
  Objective y;
  y.metric = "y";
  r.objectives = {y};
  return r;
}

Trial trial(int seq, json params, bool ok = true) {
  Trial t;
  t.seq = seq;
  t.kind = kerntune::results::TrialKind::proposal;
  t.ok = ok;
  t.params = std::move(params);
  if (ok) {
    t.samples["y"] = {2.0, 4.0};
    t.metrics["y"] = 3.0;
  }
  return t;
}

}  // namespace

TEST(Observe, ATrialThatIsAPointOfTheSpaceIsToldAtItsOwnPoint) {
  const Recipe r = recipe();
  auto o = observation(r, trial(1, {{"x", 7.5}, {"n", 3}}), {});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->ok);
  EXPECT_EQ(o->x, r.space.encode(*r.space.from_json({{"x", 7.5}, {"n", 3}})));
  EXPECT_NE(o->x, r.space.encode(r.space.defaults()));
  ASSERT_EQ(o->objectives.size(), 1u);
  EXPECT_DOUBLE_EQ(o->objectives[0], 3.0);  // the median of 2 and 4, minimized
}

TEST(Observe, AnUnparseableAssignmentIsSkippedNotEncodedAsTheDefaults) {
  const Recipe r = recipe();
  // x outside the narrowed range, a parameter the space lacks, a value of the
  // wrong type, not an object at all: each is not told — ok or failed.
  EXPECT_FALSE(observation(r, trial(2, {{"x", 20.0}, {"n", 8}}), {}));
  EXPECT_FALSE(observation(r, trial(3, {{"x", 1.0}, {"n", 8}, {"gone", 1}}), {}));
  EXPECT_FALSE(observation(r, trial(4, {{"x", "fast"}, {"n", 8}}), {}));
  EXPECT_FALSE(observation(r, trial(5, json::array()), {}));
  EXPECT_FALSE(observation(r, trial(6, {{"x", 20.0}, {"n", 8}}, false), {}));
  // The defaults themselves are still a point like any other.
  auto d = observation(r, trial(7, {{"x", 0.0}, {"n", 8}}), {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->x, r.space.encode(r.space.defaults()));
}

TEST(Observe, TheWarningNamesTheSkippedSeqsOnce) {
  const std::string w = kerntune::campaign::unplaced_trials_warning({2, 3, 6});
  EXPECT_NE(w.find("3 stored trial(s) (seq 2, 3, 6)"), std::string::npos) << w;
  EXPECT_NE(w.find("does not learn from them"), std::string::npos) << w;
  std::vector<int> many;
  for (int i = 0; i < 25; ++i) many.push_back(i);
  const std::string m = kerntune::campaign::unplaced_trials_warning(many);
  EXPECT_NE(m.find("25 stored trial(s) (seq 0, 1,"), std::string::npos) << m;
  EXPECT_NE(m.find("19, …)"), std::string::npos) << m;
  EXPECT_EQ(m.find("20"), std::string::npos) << m;
}
