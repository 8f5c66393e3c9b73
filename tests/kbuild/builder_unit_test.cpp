// Unit tests: build cache (LRU, size limit, whole entries), recipe parsing,
// libgit2 provenance on a real temporary repository, bad kernel sources.
#include <gtest/gtest.h>

#include <filesystem>
#include <cstdlib>
#include <thread>

#include "kerntune/kbuild/build_cache.hpp"
#include "kerntune/kbuild/builder.hpp"
#include "kerntune/kbuild/kernel_source.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "standin_tree.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;
namespace util = kerntune::util;

namespace {
fs::path temp(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("kt-build-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
void run_ok(const std::vector<std::string>& argv, const std::string& cwd) {
  util::RunOptions r;
  r.argv = argv;
  r.cwd = cwd;
  r.merge_stderr = true;
  auto rr = util::run(r);
  ASSERT_TRUE(rr && rr->ok()) << argv[0] << " " << argv[1] << ": " << (rr ? rr->out : rr.error().format());
}
}  // namespace

TEST(BuildCache, LruEvictionKeepsNewestUnderLimit) {
  fs::path d = temp("cache");
  std::string image = (d / "img").string(), cfg = (d / "cfg").string();
  ASSERT_TRUE(util::write_file(image, std::string(4000, 'x')));
  ASSERT_TRUE(util::write_file(cfg, "CONFIG_A=y\n"));
  kb::BuildCache cache((d / "c").string(), 9000);
  std::string k1 = kb::BuildCache::key("git:1", "h1", "gcc 12"), k2 = kb::BuildCache::key("git:1", "h2", "gcc 12"),
              k3 = kb::BuildCache::key("git:1", "h3", "gcc 12");
  EXPECT_NE(k1, kb::BuildCache::key("git:2", "h1", "gcc 12"));
  EXPECT_NE(k1, kb::BuildCache::key("git:1", "h1", "gcc 13"));
  EXPECT_FALSE(cache.lookup(k1));
  ASSERT_TRUE(cache.insert(k1, image, cfg, "{}"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(cache.insert(k2, image, cfg, "{}"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(cache.lookup(k1));  // k1 is now more recent than k2
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(cache.insert(k3, image, cfg, "{}"));  // over 9000 bytes: the LRU entry (k2) goes
  EXPECT_TRUE(cache.lookup(k1));
  EXPECT_FALSE(cache.lookup(k2));
  EXPECT_TRUE(cache.lookup(k3));
  EXPECT_EQ(cache.entries(), 2u);
  // a half-written entry (no `complete` marker, as after a stopped build) is no hit
  fs::create_directories(d / "c" / "entries" / "partial");
  ASSERT_TRUE(util::write_file((d / "c" / "entries" / "partial" / "bzImage").string(), "x"));
  EXPECT_FALSE(cache.lookup("partial"));
}

TEST(BuildCache, ParseSize) {
  EXPECT_EQ(*kb::parse_size("10G"), 10ull << 30);
  EXPECT_EQ(*kb::parse_size("512M"), 512ull << 20);
  EXPECT_EQ(*kb::parse_size("1000"), 1000u);
  EXPECT_FALSE(kb::parse_size("lots"));
  EXPECT_FALSE(kb::parse_size("5X"));
}

TEST(BuilderConfig, ParsesRecipeNode) {
  fs::path d = temp("recipe");
  ASSERT_TRUE(util::write_file((d / "frag.config").string(), "CONFIG_PRINTK=y\n"));
  auto y = util::load_yaml_string(
      "kernel_source:\n  path: ../tree\n  base: tinyconfig\n  fragments: [frag.config]\n"
      "  options: {SERIAL_8250: y}\n  cache_size: 2G\n  build_timeout: 30m\n  jobs: 2\n  nice: 19\n",
      "r.yaml");
  ASSERT_TRUE(y);
  auto c = kb::parse_builder_config((*y)["kernel_source"], "r.yaml", d.string());
  ASSERT_TRUE(c) << c.error().format();
  EXPECT_EQ(c->source.kind, kb::SourceSpec::Kind::path);
  EXPECT_EQ(c->source.location, (d.parent_path() / "tree").string());
  EXPECT_EQ(c->fragments.at(0), (d / "frag.config").string());
  EXPECT_EQ(c->options.at("SERIAL_8250"), "y");
  EXPECT_EQ(c->cache_size, 2ull << 30);
  EXPECT_EQ(c->build_timeout, std::chrono::minutes(30));
  EXPECT_EQ(c->nice, 19);
}

TEST(BuilderConfig, BadRecipeNodes) {
  auto check = [](const std::string& text, const std::string& want, int line) {
    auto y = util::load_yaml_string(text, "r.yaml");
    ASSERT_TRUE(y);
    auto c = kb::parse_builder_config((*y)["kernel_source"], "r.yaml", "/tmp");
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.error().kind, util::Error::Kind::invalid_input);
    EXPECT_NE(c.error().message.find(want), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().line, line) << text;
  };
  check("kernel_source:\n  path: /x\n  bsae: tinyconfig\n", "did you mean 'base'", 3);
  check("kernel_source:\n  path: /x\n  git: /y\n", "exactly one of", 2);
  check("kernel_source:\n  path: /x\n  base: nosuchconfig\n", "neither tinyconfig", 3);
  check("kernel_source:\n  path: /x\n  cache_size: big\n", "cache_size", 3);
  check("kernel_source:\n  path: /x\n  build_timeout: soon\n", "build_timeout", 3);
  check("kernel_source:\n  path: /x\n  ref: v6.1\n", "only with git", 3);
}

TEST(KernelSource, NotAKernelTree) {
  fs::path d = temp("notkernel");
  kb::SourceSpec s;
  s.location = d.string();
  auto r = kb::prepare_source(s, (d / "cache").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, util::Error::Kind::invalid_input);
  EXPECT_NE(r.error().message.find("not a Linux kernel tree"), std::string::npos);
}

// A real git repository holding a (miniature) kernel tree: resolve refs,
// detect a dirty tree, export a ref without touching the checkout.
TEST(KernelSource, GitProvenanceAndExport) {
  fs::path d = temp("git");
  fs::path repo = d / "linux";
  fs::create_directories(repo / "scripts" / "kconfig");
  ASSERT_TRUE(util::write_file((repo / "Kconfig").string(), "config A\n\tbool \"a\"\n"));
  ASSERT_TRUE(util::write_file((repo / "Makefile").string(), "VERSION = 6\n"));
  ASSERT_TRUE(util::write_file((repo / "scripts" / "kconfig" / "README").string(), "x\n"));
  std::string r = repo.string();
  run_ok({"git", "init", "-q", "-b", "main", r}, d.string());
  run_ok({"git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "."}, r);
  run_ok({"git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one"}, r);
  run_ok({"git", "tag", "v1"}, r);
  ASSERT_TRUE(util::write_file((repo / "Kconfig").string(), "config A\n\tbool \"a\"\nconfig B\n\tbool \"b\"\n"));
  run_ok({"git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "two"}, r);

  auto v1 = kb::git_resolve(r, "v1");
  ASSERT_TRUE(v1) << v1.error().format();
  auto head = kb::git_resolve(r, "main");
  ASSERT_TRUE(head);
  EXPECT_NE(*v1, *head);
  EXPECT_EQ(v1->size(), 40u);
  auto missing = kb::git_resolve(r, "v9");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, util::Error::Kind::invalid_input);
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);

  auto clean = kb::git_state(r);
  ASSERT_TRUE(clean);
  EXPECT_FALSE(clean->dirty);
  ASSERT_TRUE(util::write_file((repo / "Makefile").string(), "VERSION = 7\n"));
  auto dirty = kb::git_state(r);
  ASSERT_TRUE(dirty);
  EXPECT_TRUE(dirty->dirty);
  EXPECT_EQ(dirty->commit, *head);

  kb::SourceSpec s;
  s.kind = kb::SourceSpec::Kind::git;
  s.location = r;
  s.ref = "v1";
  auto info = kb::prepare_source(s, (d / "cache").string());
  ASSERT_TRUE(info) << info.error().format();
  EXPECT_EQ(info->identity, "git:" + *v1);
  auto exported = util::read_file(info->tree + "/Kconfig");
  ASSERT_TRUE(exported);
  EXPECT_EQ(exported->find("config B"), std::string::npos);  // v1's content
  // the user's checkout is untouched: still two symbols, still dirty Makefile, HEAD on main
  EXPECT_NE(util::read_file(r + "/Kconfig")->find("config B"), std::string::npos);
  EXPECT_EQ(*util::read_file(r + "/Makefile"), "VERSION = 7\n");
  EXPECT_EQ(kb::git_state(r)->commit, *head);

  kb::SourceSpec p;
  p.location = r;
  auto local = kb::prepare_source(p, (d / "cache").string());
  ASSERT_TRUE(local);
  EXPECT_TRUE(local->dirty);
  const std::string dirty_prefix = "git:" + *head + "+dirty:";
  ASSERT_EQ(local->identity.rfind(dirty_prefix, 0), 0u) << local->identity;
  EXPECT_EQ(local->identity.size(), dirty_prefix.size() + 16);
  // The build cache keys on the identity: the same edit gives the same key,
  // another edit of the same commit a different one, and undoing the edit
  // gives the clean commit's key back.
  EXPECT_EQ(kb::prepare_source(p, (d / "cache").string())->identity, local->identity);
  ASSERT_TRUE(util::write_file((repo / "Makefile").string(), "VERSION = 8\n"));
  auto other = kb::prepare_source(p, (d / "cache").string());
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->dirty);
  EXPECT_NE(other->identity, local->identity);
  ASSERT_TRUE(util::write_file((repo / "Makefile").string(), "VERSION = 7\n"));
  EXPECT_EQ(kb::prepare_source(p, (d / "cache").string())->identity, local->identity);
  run_ok({"git", "checkout", "-q", "--", "Makefile"}, r);
  auto back = kb::prepare_source(p, (d / "cache").string());
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->dirty);
  EXPECT_EQ(back->identity, "git:" + *head);
}

TEST(CcacheStats, CountsHitsAndMissesOfAStatsLog) {
  auto c = kb::parse_ccache_stats_log(
      "# /src/a.c\ncache_miss\ndirect_cache_miss\nlocal_storage_miss\n# /src/b.c\ndirect_cache_hit\n"
      "local_storage_hit\n# /src/c.c\npreprocessed_cache_hit\n# /src/link\ncalled_for_link\n");
  EXPECT_EQ(c.hits, 2);
  EXPECT_EQ(c.misses, 1);
  auto none = kb::parse_ccache_stats_log("");
  EXPECT_EQ(none.hits + none.misses, 0);
}

TEST(Builder, RecordsCcachesCountersOfEachBuildAndNoneOnACacheHit) {
  ASSERT_TRUE(util::which("ccache")) << "ccache is not installed (scripts/setup installs it)";
  fs::path d = temp("ccache");
  kt_test::make_standin_tree(d / "tree", /*compiles=*/true);
  ::setenv("CCACHE_DIR", (d / "ccache").c_str(), 1);  // a cache of this test's own
  std::string text = kt_test::standin_kernel_source((d / "tree").string(), (d / "cache").string());
  text.replace(text.find("ccache: false"), 13, "ccache: true");
  auto node = YAML::Load(text)["kernel_source"];
  auto config = kb::parse_builder_config(node, "r.yaml", d.string());
  ASSERT_TRUE(config) << config.error().format();
  auto b = kb::Builder::create(*config);
  ASSERT_TRUE(b) << b.error().format();
  auto first = b->build({{"FAST", true}});
  ASSERT_TRUE(first && first->ok) << (first ? first->reason : first.error().format());
  EXPECT_FALSE(first->cache_hit);
  EXPECT_EQ(first->ccache_hits, 0);  // a cold ccache compiles the C file
  EXPECT_EQ(first->ccache_misses, 1);
  // Another configuration builds again; the unchanged C file comes from ccache.
  auto second = b->build({{"FAST", false}});
  ASSERT_TRUE(second && second->ok) << (second ? second->reason : second.error().format());
  EXPECT_FALSE(second->cache_hit);
  EXPECT_EQ(second->ccache_hits, 1);
  EXPECT_EQ(second->ccache_misses, 0);
  // The first configuration again: the build cache answers, make and ccache do not run.
  auto again = b->build({{"FAST", true}});
  ASSERT_TRUE(again && again->ok);
  EXPECT_TRUE(again->cache_hit);
  EXPECT_EQ(again->ccache_hits, -1);
  ::unsetenv("CCACHE_DIR");
  fs::remove_all(d);
}
