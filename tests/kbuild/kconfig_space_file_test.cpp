// Label kconfig: the shipped search-spaces/kconfig-*.yaml files are exactly what
// from-kconfig generates today from linux-source-6.1 (their third header line
// holds the command). KERNTUNE_REGENERATE_SPACES=1 rewrites them instead.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "kerntune/kbuild/from_kconfig.hpp"
#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/util/text.hpp"
#include "test_tree.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;
namespace util = kerntune::util;

TEST(KconfigSpaceFiles, MatchAFreshFromKconfigRun) {
  std::string src = kb::test::linux_source();
  kb::KconfigOptions o;
  o.source_dir = src;
  auto tree = kb::KconfigTree::parse(o);
  ASSERT_TRUE(tree) << tree.error().format();
  int checked = 0;
  for (const auto& e : fs::directory_iterator(fs::path(KERNTUNE_SOURCE_DIR) / "search-spaces")) {
    std::string name = e.path().filename().string();
    if (!name.starts_with("kconfig-") || !name.ends_with(".yaml")) continue;
    auto text = util::read_file(e.path().string());
    ASSERT_TRUE(text);
    auto lines = util::split(*text, '\n');
    ASSERT_GE(lines.size(), 3u);
    std::string cmd = lines[2];
    ASSERT_TRUE(cmd.starts_with("# kerntune space from-kconfig")) << name << ": " << cmd;
    kb::FromKconfigOptions fo;
    auto words = util::split(cmd.substr(2), ' ');
    auto sym = std::find(words.begin(), words.end(), "--symbols");
    ASSERT_NE(sym, words.end()) << name << ": only --symbols files are checked";
    for (auto it = sym + 1; it != words.end() && !it->starts_with("--"); ++it) fo.symbols.push_back(*it);
    EXPECT_GE(fo.symbols.size(), 10u);
    fo.header = lines[0].substr(2) + "\n" + lines[1].substr(2) + "\n" + cmd.substr(2);
    kb::ConfigFile base;
    auto b = std::find(words.begin(), words.end(), "--base");
    if (b != words.end() && b + 1 != words.end()) {
      ASSERT_TRUE(*(b + 1) == "defconfig" || *(b + 1) == "tinyconfig") << name;
      kb::MakeOptions mk;
      mk.source_dir = src;
      std::string dir = std::string(KERNTUNE_BINARY_DIR) + "/kconfig-test-space-base-" + *(b + 1);
      auto made = kb::make_base_config(mk, *(b + 1), {}, dir);
      ASSERT_TRUE(made) << made.error().format();
      base = *made;
    }
    kb::KconfigEval ev(*tree, base);
    auto space = kb::space_from_kconfig(ev, fo);
    ASSERT_TRUE(space) << space.error().format();
    if (const char* r = std::getenv("KERNTUNE_REGENERATE_SPACES"); r && std::string(r) == "1") {
      ASSERT_TRUE(util::write_file(e.path().string(), space->yaml()));
      for (const auto& w : space->warnings) std::printf("%s: %s\n", name.c_str(), w.c_str());
      continue;
    }
    EXPECT_EQ(*text, space->yaml()) << name << " differs from a fresh run; regenerate with "
                                           "KERNTUNE_REGENERATE_SPACES=1 and review the diff";
    // the space loader accepts it (types, ranges, defaults, when: expressions)
    auto loaded = kerntune::space::Space::load_file(e.path().string());
    ASSERT_TRUE(loaded) << loaded.error().format();
    EXPECT_EQ(loaded->size(), space->parameters.size());
    // every parameter names real Kconfig symbols
    YAML::Node y = YAML::Load(*text);
    for (const auto& p : y["parameters"]) {
      EXPECT_EQ(p["domain"].as<std::string>(), "kconfig");
      EXPECT_TRUE(p["default"]) << p["name"].as<std::string>();
      int id = tree->find(p["name"].as<std::string>());
      if (p["type"].as<std::string>() == "choice") {
        for (const auto& v : p["values"]) EXPECT_TRUE(tree->symbol(tree->find(v.as<std::string>())).is_choice_value);
      } else {
        ASSERT_GE(id, 0) << p["name"].as<std::string>();
      }
    }
    ++checked;
  }
  if (!std::getenv("KERNTUNE_REGENERATE_SPACES")) {
    EXPECT_GE(checked, 1);
  }
}

// The Kconfig parameters of recipes/kconfig-tiny.yaml load as a space and name
// real 6.1 symbols of the right type.
TEST(KconfigSpaceFiles, TinyRecipeParameters) {
  std::string src = kb::test::linux_source();
  kb::KconfigOptions o;
  o.source_dir = src;
  auto tree = kb::KconfigTree::parse(o);
  ASSERT_TRUE(tree) << tree.error().format();
  std::string file = std::string(KERNTUNE_SOURCE_DIR) + "/recipes/kconfig-tiny.yaml";
  auto y = util::load_yaml_file(file);
  ASSERT_TRUE(y) << y.error().format();
  auto space = kerntune::space::Space::from_yaml((*y)["parameters"], (*y)["constraints"], file);
  ASSERT_TRUE(space) << space.error().format();
  for (const auto& p : space->parameters()) {
    int id = tree->find(p.name);
    ASSERT_GE(id, 0) << p.name;
    EXPECT_EQ(kb::to_string(tree->symbol(id).type), kerntune::space::to_string(p.type)) << p.name;
  }
  auto options = (*y)["kernel_source"]["options"];
  for (const auto& kv : options) EXPECT_GE(tree->find(kv.first.as<std::string>()), 0) << kv.first.as<std::string>();
}
