// Label kconfig: real kernel builds of linux-source-6.1 (recipes/kconfig-tiny.yaml:
// tinyconfig plus the serial console and initramfs essentials) through the
// Builder: a build, a proposal that resolves to the same .config (cache hit,
// no build), and a one-symbol change (a second, incremental build). Runs
// `nice -n 19 make -j2`.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "kerntune/kbuild/builder.hpp"
#include "test_tree.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;

TEST(BuilderBuild, BuildsCachesAndRebuildsOneSymbol) {
  // The kernel of recipes/kconfig-tiny.yaml, in the build cache and O= folder
  // that tests/system/kconfig_campaign_test.cpp uses too (LOCK linux_source
  // keeps them apart in time): whichever runs first makes the cold build.
  std::string recipes = std::string(KERNTUNE_SOURCE_DIR) + "/recipes";
  YAML::Node recipe = YAML::LoadFile(recipes + "/kconfig-tiny.yaml");
  auto parsed = kb::parse_builder_config(recipe["kernel_source"], recipes + "/kconfig-tiny.yaml", recipes);
  ASSERT_TRUE(parsed) << parsed.error().format();
  kb::BuilderConfig c = *parsed;
  c.source.kind = kb::SourceSpec::Kind::path;
  c.source.location = kb::test::linux_source();
  c.cache_dir = std::string(KERNTUNE_BINARY_DIR) + "/kconfig-campaign-cache";
  // Empty the build cache (so the first build is a miss) but keep the O=
  // folder under work/: make rebuilds only what changed since the last build.
  // benchmarks/kconfig/build-times.sh removes the whole folder for a cold build.
  fs::remove_all(c.cache_dir + "/entries");
  c.jobs = 2;
  c.nice = 19;
  c.build_timeout = std::chrono::minutes(100);  // ~13 min cold on 2 idle cores; far more on a busy machine
  auto b = kb::Builder::create(c);
  ASSERT_TRUE(b) << b.error().format();
  EXPECT_EQ(b->base_config().get("SERIAL_8250_CONSOLE"), "y");
  EXPECT_EQ(b->base_config().get("PRINTK_TIME").value_or("n"), "n");

  auto first = b->build({{"PRINTK_TIME", false}});
  ASSERT_TRUE(first) << first.error().format();
  ASSERT_TRUE(first->ok) << kb::to_string(first->stage) << ": " << first->reason;
  EXPECT_FALSE(first->cache_hit);
  EXPECT_TRUE(fs::exists(first->kernel_image));
  EXPECT_GT(fs::file_size(first->kernel_image), 300'000u);
  EXPECT_TRUE(fs::exists(first->log));
  EXPECT_EQ(b->builds_run(), 1);

  // TCP_CONG_BBR needs NET, which tinyconfig lacks: olddefconfig drops it, the
  // resolved .config is the first one again, and the cache serves the image.
  auto same = b->build({{"PRINTK_TIME", false}, {"TCP_CONG_BBR", std::string("y")}});
  ASSERT_TRUE(same) << same.error().format();
  ASSERT_TRUE(same->ok) << same->reason;
  EXPECT_TRUE(same->cache_hit);
  EXPECT_EQ(same->config_hash, first->config_hash);
  EXPECT_EQ(same->kernel_image, first->kernel_image);
  EXPECT_EQ(std::get<std::string>(same->effective.at("TCP_CONG_BBR")), "n");
  ASSERT_EQ(same->not_stuck.size(), 1u);
  EXPECT_EQ(b->builds_run(), 1);

  auto other = b->build({{"PRINTK_TIME", true}});
  ASSERT_TRUE(other) << other.error().format();
  ASSERT_TRUE(other->ok) << other->reason;
  EXPECT_FALSE(other->cache_hit);
  EXPECT_NE(other->config_hash, first->config_hash);
  EXPECT_NE(other->kernel_image, first->kernel_image);
  EXPECT_TRUE(std::get<bool>(other->effective.at("PRINTK_TIME")));
  EXPECT_EQ(b->builds_run(), 2);
  EXPECT_EQ(b->cache().entries(), 2u);
  std::printf("cold build %.1f s, cache hit %.1f s, one-symbol rebuild %.1f s\n", first->seconds, same->seconds,
              other->seconds);
}

// A build that runs out of time is a failed `build` outcome, its folder never
// becomes a cache entry, and bad proposals are errors (exit code 2 in the CLI).
TEST(BuilderBuild, TimeoutAndBadProposals) {
  kb::BuilderConfig c;
  c.source.kind = kb::SourceSpec::Kind::path;
  c.source.location = kb::test::linux_source();
  c.base = "tinyconfig";
  c.options = {{"PRINTK", "y"}};
  c.cache_dir = std::string(KERNTUNE_BINARY_DIR) + "/kconfig-test-timeout-cache";
  fs::remove_all(c.cache_dir);
  c.jobs = 1;
  c.nice = 19;
  c.build_timeout = std::chrono::seconds(3);
  auto b = kb::Builder::create(c);
  ASSERT_TRUE(b) << b.error().format();

  auto unknown = b->build({{"NO_SUCH_SYMBOL", true}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, kerntune::util::Error::Kind::invalid_input);
  auto wrong = b->build({{"LOG_BUF_SHIFT", std::string("big")}});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, kerntune::util::Error::Kind::invalid_input);

  // configure alone: a conflicting proposal is resolved by olddefconfig
  auto conf = b->configure({{"TCP_CONG_BBR", std::string("y")}, {"LOG_BUF_SHIFT", 14LL}});
  ASSERT_TRUE(conf) << conf.error().format();
  ASSERT_TRUE(conf->ok) << conf->reason;
  EXPECT_EQ(std::get<std::string>(conf->effective.at("TCP_CONG_BBR")), "n");
  EXPECT_EQ(std::get<long long>(conf->effective.at("LOG_BUF_SHIFT")), 14);

  auto slow = b->build({{"LOG_BUF_SHIFT", 14LL}});
  ASSERT_TRUE(slow) << slow.error().format();
  EXPECT_FALSE(slow->ok);
  EXPECT_EQ(slow->stage, kb::BuildOutcome::Stage::build);
  EXPECT_NE(slow->reason.find("timed out"), std::string::npos) << slow->reason;
  EXPECT_EQ(b->cache().entries(), 0u);
  EXPECT_TRUE(fs::exists(slow->log));
}
