// Label kconfig: kerntune's Kconfig evaluation against the real
// `make olddefconfig` of linux-source-6.1 (types, defaults, dependencies).
#include <gtest/gtest.h>

#include <filesystem>

#include "kerntune/kbuild/from_kconfig.hpp"
#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/kbuild/kconfig_eval.hpp"
#include "test_tree.hpp"

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  std::string src = kb::test::linux_source();
  kb::KconfigTree tree;
  kb::MakeOptions make;
  std::string dir;
  kb::ConfigFile defconfig;
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    kb::KconfigOptions o;
    o.source_dir = fx->src;
    auto t = kb::KconfigTree::parse(o);
    if (!t) throw std::runtime_error(t.error().format());
    fx->tree = std::move(*t);
    fx->make.source_dir = fx->src;
    fx->dir = std::string(KERNTUNE_BINARY_DIR) + "/kconfig-test-olddefconfig";
    fs::remove_all(fx->dir);
    auto base = kb::make_base_config(fx->make, "defconfig", {}, fx->dir + "/base");
    if (!base) throw std::runtime_error(base.error().format());
    fx->defconfig = *base;
    return fx;
  }();
  return *f;
}

// olddefconfig on `cfg`; returns the resolved file
kb::ConfigFile olddefconfig(const kb::ConfigFile& cfg, const std::string& name) {
  auto& fx = fixture();
  std::string d = fx.dir + "/" + name;
  fs::create_directories(d);
  EXPECT_TRUE(cfg.write(d + "/.config"));
  auto rr = kb::run_make(fx.make, d, {"olddefconfig"});
  EXPECT_TRUE(rr && rr->ok()) << (rr ? rr->out : rr.error().format());
  return *kb::ConfigFile::read(d + "/.config");
}

void expect_same_resolution(const kb::ConfigFile& input, const kb::ConfigFile& real) {
  auto& fx = fixture();
  kb::KconfigEval ev(fx.tree, input);
  auto mine = ev.resolve();
  int compared = 0;
  for (const auto& [name, v] : real.values()) {
    int id = fx.tree.find(name);
    ASSERT_GE(id, 0) << name;
    ++compared;
    auto it = mine.find(name);
    EXPECT_TRUE(it != mine.end()) << name << " written by kconfig, not by kerntune";
    if (it != mine.end()) {
      EXPECT_EQ(it->second, v.value) << name;
    }
  }
  for (const auto& [name, v] : mine)
    EXPECT_TRUE(real.get(name).has_value()) << name << "=" << v << " written by kerntune, not by kconfig";
  EXPECT_GT(compared, 1000);
}

}  // namespace

// The whole resolved defconfig: every symbol kconfig writes, kerntune computes
// to the same value (and writes nothing else).
TEST(KconfigOlddefconfig, WholeDefconfigMatches) {
  auto& fx = fixture();
  expect_same_resolution(fx.defconfig, fx.defconfig);
}

// Dependencies: switching off NET and MODULES in the input changes hundreds of
// symbols; kerntune resolves them as olddefconfig does.
TEST(KconfigOlddefconfig, DependencyChangesMatch) {
  auto& fx = fixture();
  kb::ConfigFile in = fx.defconfig;
  in.set("NET", "n");
  in.set("MODULES", "n");
  in.set("HZ_1000", "y");
  in.set("HZ_250", "n");
  in.set("TCP_CONG_BBR", "m");  // becomes n: NET is off
  auto real = olddefconfig(in, "deps");
  EXPECT_FALSE(real.get("TCP_CONG_BBR").has_value());
  EXPECT_EQ(real.get("HZ"), "1000");
  expect_same_resolution(in, real);
}

// 20 named symbols: type (from what kconfig accepts), default (olddefconfig
// with the symbol's line removed) and dependencies (the derived `when:` holds
// exactly when kconfig lets the value stick).
TEST(KconfigOlddefconfig, TwentySymbols) {
  auto& fx = fixture();
  const std::vector<std::pair<std::string, kb::SymType>> symbols = {
      {"HZ_1000", kb::SymType::boolean},        {"PREEMPT_VOLUNTARY", kb::SymType::boolean},
      {"NO_HZ_IDLE", kb::SymType::boolean},     {"SCHED_AUTOGROUP", kb::SymType::boolean},
      {"TRANSPARENT_HUGEPAGE", kb::SymType::boolean}, {"SLUB_DEBUG", kb::SymType::boolean},
      {"TCP_CONG_BBR", kb::SymType::tristate},  {"TCP_CONG_CUBIC", kb::SymType::tristate},
      {"NR_CPUS", kb::SymType::integer},        {"LOG_BUF_SHIFT", kb::SymType::integer},
      {"PHYSICAL_START", kb::SymType::hex},     {"PHYSICAL_ALIGN", kb::SymType::hex},
      {"COMPACTION", kb::SymType::boolean},     {"KSM", kb::SymType::boolean},
      {"NUMA", kb::SymType::boolean},           {"SCHED_MC", kb::SymType::boolean},
      {"RCU_EXPERT", kb::SymType::boolean},     {"BLK_DEV_INITRD", kb::SymType::boolean},
      {"IKCONFIG", kb::SymType::tristate},      {"PANIC_TIMEOUT", kb::SymType::integer},
  };
  kb::ConfigFile removed = fx.defconfig;
  for (const auto& [name, type] : symbols) {
    int id = fx.tree.find(name);
    ASSERT_GE(id, 0) << name;
    EXPECT_EQ(fx.tree.symbol(id).type, type) << name;
    const kb::KSymbol& s = fx.tree.symbol(id);
    if (s.is_choice_value)
      for (int m : fx.tree.symbol(s.choice).members) removed.erase(fx.tree.symbol(m).name);
    else
      removed.erase(name);
  }
  // defaults: kconfig recomputes the removed symbols
  auto real = olddefconfig(removed, "defaults");
  kb::KconfigEval ev(fx.tree, fx.defconfig);
  for (const auto& [name, type] : symbols) {
    int id = fx.tree.find(name);
    const kb::KSymbol& s = fx.tree.symbol(id);
    std::string want = real.get(name).value_or("n");
    if (s.is_choice_value) {
      std::string chosen = ev.default_value(s.choice);
      EXPECT_EQ(chosen == name ? "y" : "n", want) << name;
    } else {
      EXPECT_EQ(ev.default_value(id), want) << name;
    }
  }
  // types as kconfig reads them: "m" sticks only for tristates (MODULES=y)
  kb::ConfigFile typed = fx.defconfig;
  typed.set("TCP_CONG_BBR", "m");
  typed.set("SCHED_AUTOGROUP", "m");
  auto tr = olddefconfig(typed, "types");
  EXPECT_EQ(tr.get("TCP_CONG_BBR"), "m");
  EXPECT_NE(tr.get("SCHED_AUTOGROUP"), "m");
  // dependencies: the generated when: for TCP_CONG_BBR names TCP_CONG_ADVANCED
  kb::FromKconfigOptions fo;
  fo.symbols = {"TCP_CONG_ADVANCED", "TCP_CONG_BBR", "HZ_1000", "NR_CPUS"};
  auto space = kb::space_from_kconfig(ev, fo);
  ASSERT_TRUE(space) << space.error().format();
  bool found = false;
  for (const auto& p : space->parameters)
    if (p.name == "TCP_CONG_BBR") {
      found = true;
      EXPECT_EQ(p.when, "TCP_CONG_ADVANCED == true");
      EXPECT_EQ(p.type, "tristate");
    }
  EXPECT_TRUE(found);
  // … and kconfig agrees: with TCP_CONG_ADVANCED off, BBR=y does not stick
  kb::ConfigFile dep = fx.defconfig;
  dep.set("TCP_CONG_ADVANCED", "n");
  dep.set("TCP_CONG_BBR", "y");
  auto dr = olddefconfig(dep, "when");
  EXPECT_NE(dr.get("TCP_CONG_BBR"), "y");
}
