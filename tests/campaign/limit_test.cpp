// A limit relative to the baseline in a recipe (`limit: ">= 95% baseline"`):
// loaded and validated with a located error, written back canonically, and
// the baseline the search judges it against (campaign::baseline_levels).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kerntune/campaign/drift.hpp"
#include "kerntune/campaign/recipe.hpp"

namespace fs = std::filesystem;
using kerntune::campaign::baseline_levels;
using kerntune::campaign::load_recipe;
using kerntune::campaign::Objective;
using kerntune::campaign::Recipe;

namespace {

struct RecipeFile {
  fs::path dir = fs::temp_directory_path() / ("kt-limit-" + std::to_string(std::random_device{}()));
  fs::path path = dir / "recipe.yaml";
  explicit RecipeFile(const std::string& limit) {
    fs::create_directories(dir);
    std::ofstream(dir / "w.yaml") << "name: w\ncommand: [true]\nmetrics:\n  - {name: rps, regex: 'x(?<value>[0-9]+)'}\n"
                                     "  - {name: mem, regex: 'y(?<value>[0-9]+)'}\n";
    std::ofstream(path) << "name: r\nparameters:\n  - {name: x, domain: generic, type: int, range: [0, 3], default: 0}\n"
                           "target: {kind: command, argv: [true]}\nworkload: w.yaml\nobjectives:\n"
                           "  - {metric: mem, direction: minimize}\n"
                           "  - {metric: rps, limit: \"" + limit + "\"}\nbudget: {trials: 2}\n";
  }
  ~RecipeFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

kerntune::results::Trial trial(int seq, const std::string& kind, double rps, const std::string& status = "ok") {
  kerntune::results::Trial t;
  t.seq = seq;
  t.kind = kerntune::results::kind_from_string(kind);
  t.ok = status == "ok";
  t.metrics = {{"rps", rps}, {"mem", 100}};
  return t;
}

}  // namespace

TEST(RecipeLimit, RelativeLimitLoadsAsAFractionOfTheBaseline) {
  RecipeFile f(">= 95% baseline");
  auto r = load_recipe(f.path.string());
  ASSERT_TRUE(r) << r.error().format();
  const Objective& o = r->objectives.at(1);
  EXPECT_EQ(o.limit_op, ">=");
  EXPECT_DOUBLE_EQ(o.limit, 0.95);
  EXPECT_TRUE(o.limit_relative);
  EXPECT_EQ(o.limit_text(), ">= 95% baseline");
  EXPECT_FALSE(r->objectives.at(0).limit_relative);
}

TEST(RecipeLimit, AbsoluteLimitIsUnchanged) {
  RecipeFile f("<= 1,200");
  auto r = load_recipe(f.path.string());
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_DOUBLE_EQ(r->objectives.at(1).limit, 1200);
  EXPECT_FALSE(r->objectives.at(1).limit_relative);
  EXPECT_EQ(r->objectives.at(1).limit_text(), "<= 1200");
}

TEST(RecipeLimit, MalformedRelativeLimitIsALocatedError) {
  for (const char* bad : {">= 95 baseline", ">= 0% baseline", ">= 95%", ">= -3% of baseline"}) {
    RecipeFile f(bad);
    auto r = load_recipe(f.path.string());
    ASSERT_FALSE(r) << bad;
    const std::string msg = r.error().format();
    EXPECT_NE(msg.find("recipe.yaml:8:"), std::string::npos) << msg;  // the limit's line
    EXPECT_NE(msg.find("95% baseline"), std::string::npos) << msg;
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
}

TEST(BaselineLevels, MedianOfTheOkBaselineMeasurementsUpToTheTrial) {
  Recipe r;
  Objective mem;
  mem.metric = "mem";
  Objective rps;
  rps.metric = "rps";
  rps.limit_op = ">=";
  rps.limit = 0.95;
  rps.limit_relative = true;
  rps.is_objective = false;
  r.objectives = {mem, rps};
  std::vector<kerntune::results::Trial> trials = {trial(0, "baseline", 1000), trial(1, "proposal", 700), trial(2, "rebaseline", 900),
                                      trial(3, "proposal", 600), trial(4, "rebaseline", 5000, "failed"),
                                      trial(5, "rebaseline", 1200)};
  EXPECT_EQ(baseline_levels(r, trials, 0).at("rps"), 1000);  // the baseline judges itself
  EXPECT_EQ(baseline_levels(r, trials, 1).at("rps"), 1000);
  EXPECT_EQ(baseline_levels(r, trials, 3).at("rps"), 950);   // median of 1000, 900
  EXPECT_EQ(baseline_levels(r, trials, 5).at("rps"), 1000);  // 1000, 900, 1200; the failed one never counts
  EXPECT_FALSE(baseline_levels(r, trials, 5).contains("mem"));  // no relative limit on it
  EXPECT_TRUE(baseline_levels(r, {trial(1, "proposal", 700)}, 1).empty());
}
