// Label kconfig: the real linux-source-6.1 tree (scripts/fetch-linux-source).
#include <gtest/gtest.h>

#include <filesystem>

#include "kerntune/kbuild/kconfig.hpp"
#include "test_tree.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;

TEST(KconfigTree, ParsesWholeX86Tree) {
  std::string src = kb::test::linux_source();
  kb::KconfigOptions o;
  o.source_dir = src;
  auto tree = kb::KconfigTree::parse(o);
  ASSERT_TRUE(tree) << tree.error().format();
  EXPECT_GT(tree->files().size(), 1000u);
  int defined = 0;
  for (const auto& s : tree->symbols()) defined += s.defined() ? 1 : 0;
  EXPECT_GT(defined, 10000);
  int hz = tree->find("HZ_1000");
  ASSERT_GE(hz, 0);
  EXPECT_TRUE(tree->symbol(hz).is_choice_value);
  EXPECT_EQ(tree->modules_symbol(), tree->find("MODULES"));
  int bbr = tree->find("TCP_CONG_BBR");
  ASSERT_GE(bbr, 0);
  EXPECT_EQ(tree->symbol(bbr).type, kb::SymType::tristate);
  EXPECT_NE(tree->expr_text(tree->symbol(bbr).dir_dep).find("TCP_CONG_ADVANCED"), std::string::npos)
      << tree->expr_text(tree->symbol(bbr).dir_dep);
}

// Every Kconfig* file of the tree, parsed on its own (no `source` followed):
// the syntax of all architectures, not only what x86 reaches.
TEST(KconfigTree, ParsesEveryKconfigFileAlone) {
  std::string src = kb::test::linux_source();
  int files = 0;
  std::vector<std::string> failures;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (name.rfind("Kconfig", 0) != 0) continue;
    std::string rel = fs::relative(entry.path(), src).string();
    // kconfig's own test inputs are deliberately broken
    if (rel.rfind("scripts/kconfig/tests/", 0) == 0) continue;
    kb::KconfigOptions o;
    o.source_dir = src;
    o.top = rel;
    o.follow_source = false;
    o.preload = {"scripts/Kconfig.include"};  // the macros every file may use
    auto tree = kb::KconfigTree::parse(o);
    ++files;
    if (!tree) failures.push_back(tree.error().format());
  }
  EXPECT_GT(files, 1500);
  for (const auto& f : failures) ADD_FAILURE() << f;
}

TEST(KconfigTree, NotAKernelTree) {
  kb::KconfigOptions o;
  o.source_dir = fs::temp_directory_path().string();
  auto tree = kb::KconfigTree::parse(o);
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().kind, kerntune::util::Error::Kind::invalid_input);
  EXPECT_NE(tree.error().message.find("not a Linux kernel tree"), std::string::npos);
}
