// The recipe's `optimizer` section: multi_objective (EHVI or ParEGO) loads
// into the recipe, and a bad value is a located error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "kerntune/campaign/recipe.hpp"

namespace fs = std::filesystem;
using kerntune::bo::Options;
using kerntune::campaign::load_recipe;

namespace {

struct RecipeFile {
  fs::path dir = fs::temp_directory_path() / ("kt-recipe-opt-" + std::to_string(std::random_device{}()));
  fs::path path = dir / "recipe.yaml";
  explicit RecipeFile(const std::string& optimizer) {
    fs::create_directories(dir);
    std::ofstream(dir / "w.yaml") << "name: w\ncommand: [true]\nmetrics:\n  - {name: rps, regex: 'x(?<value>[0-9]+)'}\n"
                                     "  - {name: mem, regex: 'y(?<value>[0-9]+)'}\n";
    std::ofstream(path) << "name: r\nparameters:\n  - {name: x, domain: generic, type: int, range: [0, 3], default: 0}\n"
                           "target: {kind: command, argv: [true]}\nworkload: w.yaml\nobjectives:\n"
                           "  - {metric: mem, direction: minimize}\n"
                           "  - {metric: rps, direction: maximize}\nbudget: {trials: 2}\n"
                        << optimizer;
  }
  ~RecipeFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST(RecipeOptimizer, MultiObjectiveDefaultsToEhviAndLoadsParego) {
  RecipeFile none("");
  auto r = load_recipe(none.path.string());
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(r->multi_objective, Options::MultiObjective::ehvi);
  RecipeFile parego("optimizer: {multi_objective: parego}\n");
  auto p = load_recipe(parego.path.string());
  ASSERT_TRUE(p) << p.error().format();
  EXPECT_EQ(p->multi_objective, Options::MultiObjective::parego);
  RecipeFile ehvi("optimizer: {multi_objective: ehvi}\n");
  auto e = load_recipe(ehvi.path.string());
  ASSERT_TRUE(e) << e.error().format();
  EXPECT_EQ(e->multi_objective, Options::MultiObjective::ehvi);
}

TEST(RecipeOptimizer, CostAwareIsAutoByDefaultAndTakesOnOffAndBooleans) {
  RecipeFile plain("");
  auto r = load_recipe(plain.path.string());
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(r->cost_aware, kerntune::campaign::Recipe::CostAware::automatic);
  for (auto [text, want] : {std::pair{"on", kerntune::campaign::Recipe::CostAware::on},
                            std::pair{"true", kerntune::campaign::Recipe::CostAware::on},
                            std::pair{"off", kerntune::campaign::Recipe::CostAware::off},
                            std::pair{"false", kerntune::campaign::Recipe::CostAware::off}}) {
    RecipeFile f(std::string("optimizer: {cost_aware: ") + text + "}\n");
    auto l = load_recipe(f.path.string());
    ASSERT_TRUE(l) << l.error().format();
    EXPECT_EQ(l->cost_aware, want) << text;
  }
  RecipeFile bad("optimizer: {cost_aware: maybe}\n");
  auto b = load_recipe(bad.path.string());
  ASSERT_FALSE(b);
  const std::string msg = b.error().format();
  EXPECT_NE(msg.find("recipe.yaml:10:25:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("auto, on or off"), std::string::npos) << msg;
}

TEST(RecipeOptimizer, UnknownMultiObjectiveIsALocatedError) {
  RecipeFile bad("optimizer: {multi_objective: qehvi}\n");
  auto r = load_recipe(bad.path.string());
  ASSERT_FALSE(r);
  const std::string msg = r.error().format();
  EXPECT_NE(msg.find("recipe.yaml:10:30:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("parego or ehvi"), std::string::npos) << msg;
}

TEST(RecipeNoise, MaxRepeatsLoadsAndABadValueIsLocated) {
  RecipeFile good("noise: {early_stop: {min_repeats: 2, max_repeats: 8}}\n");
  auto r = load_recipe(good.path.string());
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_TRUE(r->early_stop.on);
  EXPECT_EQ(r->early_stop.max_repeats, 8);
  RecipeFile off("noise: {early_stop: on}\n");
  EXPECT_EQ(load_recipe(off.path.string())->early_stop.max_repeats, 0);
  RecipeFile low("noise: {early_stop: {min_repeats: 3, max_repeats: 3}}\n");
  auto l = load_recipe(low.path.string());
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().line, 10) << l.error().format();
  EXPECT_NE(l.error().message.find("'max_repeats' (3) must be above 'min_repeats' (3)"), std::string::npos)
      << l.error().format();
  RecipeFile typo("noise: {early_stop: {max_repeat: 8}}\n");
  auto t = load_recipe(typo.path.string());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("did you mean 'max_repeats'"), std::string::npos) << t.error().format();
}
