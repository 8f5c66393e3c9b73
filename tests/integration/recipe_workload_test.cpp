// A recipe's `workload:` resolves like every other path in a recipe: a
// relative path against the recipe's folder (not the working directory), a
// name in the recipe's workloads/ folder or the shipped ones.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli.hpp"
#include "kerntune/campaign/recipe.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(kerntune::util::write_file(p.string(), text));
}

std::string workload_yaml(const std::string& name) {
  return "name: " + name + "\ncommand: [true]\nmetrics:\n  - {name: t, regex: 'x(?<value>[0-9]+)'}\n";
}

std::string recipe_yaml(const std::string& workload) {
  return "name: r\nparameters:\n  - {name: x, domain: generic, type: int, range: [0, 3], default: 0}\n"
         "target: {kind: command, argv: [true]}\nworkload: " + workload +
         "\nobjectives:\n  - {metric: t, direction: minimize}\nbudget: {trials: 2}\n";
}

/// Runs the body with the working directory set to `cwd`, restoring it after.
struct InDir {
  fs::path saved = fs::current_path();
  explicit InDir(const fs::path& cwd) { fs::current_path(cwd); }
  ~InDir() { fs::current_path(saved); }
};

TEST(RecipeWorkload, RelativePathResolvesAgainstTheRecipeFolderNotTheWorkingDirectory) {
  kt_test::TempDir dir;
  write(dir.path / "lab/recipe.yaml", recipe_yaml("wl/probe.yaml"));
  write(dir.path / "lab/wl/probe.yaml", workload_yaml("beside-the-recipe"));
  // A decoy with the same relative path under the working directory.
  write(dir.path / "elsewhere/wl/probe.yaml", workload_yaml("decoy-in-cwd"));
  InDir in(dir.path / "elsewhere");
  auto r = kerntune::campaign::load_recipe((dir.path / "lab/recipe.yaml").string());
  ASSERT_TRUE(r) << r.error().format();
  auto w = kerntune::campaign::load_recipe_workload(*r);
  ASSERT_TRUE(w) << w.error().format();
  EXPECT_EQ(w->name, "beside-the-recipe");
}

TEST(RecipeWorkload, FallsBackToTheWorkingDirectoryForOlderRecipes) {
  kt_test::TempDir dir;
  write(dir.path / "lab/recipe.yaml", recipe_yaml("wl/probe.yaml"));
  write(dir.path / "elsewhere/wl/probe.yaml", workload_yaml("in-cwd"));
  InDir in(dir.path / "elsewhere");
  auto r = kerntune::campaign::load_recipe((dir.path / "lab/recipe.yaml").string());
  ASSERT_TRUE(r) << r.error().format();
  auto w = kerntune::campaign::load_recipe_workload(*r);
  ASSERT_TRUE(w) << w.error().format();
  EXPECT_EQ(w->name, "in-cwd");
}

TEST(RecipeWorkload, MissingRelativePathNamesTheRecipeFolder) {
  kt_test::TempDir dir;
  write(dir.path / "lab/recipe.yaml", recipe_yaml("wl/none.yaml"));
  InDir in(dir.path);
  auto r = kerntune::campaign::load_recipe((dir.path / "lab/recipe.yaml").string());
  ASSERT_TRUE(r) << r.error().format();
  auto w = kerntune::campaign::load_recipe_workload(*r);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().format().find((dir.path / "lab/wl/none.yaml").string()), std::string::npos) << w.error().format();
}

TEST(RecipeWorkload, NameIsFoundInTheRecipesWorkloadsFolder) {
  kt_test::TempDir dir;
  write(dir.path / "recipe.yaml", recipe_yaml("hackbench"));
  auto r = kerntune::campaign::load_recipe((dir.path / "recipe.yaml").string());
  ASSERT_TRUE(r) << r.error().format();
  // A name (no '/', no .yaml) is looked up in RECIPE_DIR/workloads first.
  write(dir.path / "workloads/hackbench.yaml", *kerntune::util::read_file(kt_test::source_dir() + "/recipes/workloads/hackbench.yaml"));
  auto w = kerntune::campaign::load_recipe_workload(*r);
  ASSERT_TRUE(w) << w.error().format();
  EXPECT_EQ(w->name, "hackbench");
}

}  // namespace
