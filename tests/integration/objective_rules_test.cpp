// The objective rule (docs/objectives.md): recipes that pair a metric with a
// knob that redefines it are flagged; every shipped recipe follows the rule.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli.hpp"
#include "kerntune/campaign/objective_rules.hpp"
#include "kerntune/campaign/recipe.hpp"

namespace fs = std::filesystem;
using kerntune::campaign::load_recipe;
using kerntune::campaign::redefined_metric_warnings;

namespace {

std::string recipe(const std::string& knob, const std::string& objective_line) {
  return "name: r\nparameters:\n  - {name: " + knob +
         ", domain: sysctl, type: int, range: [1024, 65536], default: 45056}\n"
         "target: {kind: command, argv: [true]}\nobjectives:\n  - " + objective_line + "\n"
         "budget: {trials: 2}\n";
}

std::vector<std::string> warnings_of(const std::string& text) {
  kt_test::TempDir dir;
  auto path = dir.path / "recipe.yaml";
  EXPECT_TRUE(kerntune::util::write_file(path.string(), text));
  auto r = load_recipe(path.string());
  EXPECT_TRUE(r) << r.error().format();
  return r ? redefined_metric_warnings(*r) : std::vector<std::string>{};
}

}  // namespace

TEST(ObjectiveRules, MemAvailableTunedWithMinFreeKbytesIsFlaggedWithTheReason) {
  auto w = warnings_of(recipe("vm.min_free_kbytes", "{metric: sys.mem_available_min_kb, direction: maximize}"));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("objective 'sys.mem_available_min_kb'"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("'vm.min_free_kbytes'"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("watermarks"), std::string::npos) << w[0];
}

TEST(ObjectiveRules, ALimitOnARedefinedMetricIsFlaggedToo) {
  auto w = warnings_of(recipe("vm.watermark_scale_factor",
                              "{metric: time, direction: minimize}\n  - {metric: sys.mem_available_min_kb, limit: \">= 1000\"}"));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("limit metric"), std::string::npos) << w[0];
}

TEST(ObjectiveRules, TheSameKnobWithAWorkloadMetricIsFine) {
  EXPECT_TRUE(warnings_of(recipe("vm.min_free_kbytes", "{metric: sys.workload_mem_mean_kb, direction: minimize}")).empty());
  EXPECT_TRUE(warnings_of(recipe("vm.swappiness", "{metric: sys.mem_available_min_kb, direction: maximize}")).empty());
}

TEST(ObjectiveRules, EveryShippedRecipeFollowsTheRule) {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(fs::path(KERNTUNE_SOURCE_DIR) / "recipes")) {
    if (e.path().extension() != ".yaml") continue;
    auto r = load_recipe(e.path().string());
    ASSERT_TRUE(r) << r.error().format();
    EXPECT_EQ(redefined_metric_warnings(*r), std::vector<std::string>{}) << e.path();
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(ObjectiveRules, EveryRowNamesAShippedParameter) {
  // A row whose knob no search space has would never fire.
  std::string all;
  for (const auto& e : fs::directory_iterator(fs::path(KERNTUNE_SOURCE_DIR) / "search-spaces")) {
    auto t = kerntune::util::read_file(e.path().string());
    ASSERT_TRUE(t);
    all += *t;
  }
  for (const auto& row : kerntune::campaign::redefinitions())
    EXPECT_NE(all.find("name: " + std::string(row.knob) + "\n"), std::string::npos) << row.knob;
}
