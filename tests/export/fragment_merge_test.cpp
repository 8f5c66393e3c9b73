// Label kconfig: an exported kernel.fragment, merged into the base config with
// the kernel tree's own scripts/kconfig/merge_config.sh and resolved by
// `make olddefconfig`, gives the same .config as the campaign's way of applying
// that trial (kbuild::resolve_proposal: the proposal's CONFIG_ lines on the
// base, then olddefconfig). No kernel is built. Needs the linux-source-6.1
// tree from scripts/fetch-linux-source (a loud failure otherwise).
#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>

#include "../kbuild/test_tree.hpp"
#include "../integration/cli.hpp"
#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/store/store.hpp"
#include <random>

namespace kb = kerntune::kbuild;
namespace fs = std::filesystem;
using namespace kt_test;
using nlohmann::json;

namespace {

// A Kconfig campaign as the store holds it, over the whole shipped 6.1
// kconfig-perf space (choices, bools, ints, `when:`-conditional parameters):
// the baseline (defaults) and random valid proposals. Written through the
// store library rather than `tune`, because a real Kconfig campaign builds a
// kernel per trial (kernel_source:), which this test must not do.
std::string make_campaign(const std::string& db, int proposals) {
  auto space = kerntune::space::Space::load_file(source_dir() + "/search-spaces/kconfig-perf.yaml");
  if (!space) return space.error().format();
  auto st = kerntune::store::Store::open(db);
  if (!st) return st.error().format();
  kerntune::store::CampaignRow row;
  row.name = "fragments";
  row.recipe_path = "fragments.yaml";
  row.recipe_text = "name: fragments\n";
  row.recipe_hash = kerntune::util::sha256_hex(row.recipe_text);
  row.status = "finished";
  auto c = st->create_campaign(row);
  if (!c) return c.error().format();
  json params = json::array();
  for (const auto& p : space->parameters()) {
    json j{{"name", p.name}, {"domain", kerntune::space::to_string(p.domain)}, {"type", kerntune::space::to_string(p.type)},
           {"default", kerntune::space::to_json(p.default_value)}};
    if (!p.values.empty()) j["values"] = p.values;
    params.push_back(j);
  }
  json meta{{"parameters", params}, {"objectives", json::array({{{"metric", "runtime"}, {"direction", "minimize"}}})},
            {"target", "command"}, {"workload", ""}};
  if (auto m = st->set_campaign_metadata(c->id, meta.dump()); !m) return m.error().format();
  std::mt19937_64 rng(11);
  for (int seq = 0; seq <= proposals; ++seq) {
    auto a = seq == 0 ? kerntune::util::Result<kerntune::space::Assignment>(space->defaults()) : space->sample(rng);
    if (!a) return a.error().format();
    kerntune::store::TrialRecord t;
    t.campaign_id = c->id;
    t.seq = seq;
    t.kind = seq == 0 ? "baseline" : "proposal";
    t.status = "ok";
    t.params_json = kerntune::space::to_json(*a).dump();
    t.measurements = {{"runtime", 0, 100.0 - seq, "s"}};
    if (auto id = st->insert_trial(t, {}); !id) return id.error().format();
  }
  return "";
}

/// A trial's params JSON as the assignment the campaign would apply.
kerntune::space::Assignment assignment(const json& params) {
  kerntune::space::Assignment a;
  for (const auto& [k, v] : params.items()) {
    if (v.is_boolean()) a[k] = v.get<bool>();
    else if (v.is_number_integer()) a[k] = v.get<long long>();
    else if (v.is_number()) a[k] = v.get<double>();
    else if (v.is_string()) a[k] = v.get<std::string>();
  }
  return a;
}

TEST(FragmentMerge, MergeConfigOfTheExportedFragmentGivesTheSameResolvedConfig) {
  const std::string src = kb::test::linux_source();
  TempDir dir;
  ASSERT_EQ(make_campaign(dir / "kt.db", 4), "");
  auto listed = run_cli({"trials", "--db", dir / "kt.db", "--json"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  json trials = json::parse(listed.out);
  ASSERT_EQ(trials.size(), 5u);

  kb::KconfigOptions ko;
  ko.source_dir = src;
  auto tree = kb::KconfigTree::parse(ko);
  ASSERT_TRUE(tree) << tree.error().format();
  kb::MakeOptions make;
  make.source_dir = src;
  // The work folder lives in the build tree (the kernel tree stays read-only).
  const std::string work = std::string(KERNTUNE_BINARY_DIR) + "/fragment-merge-test";
  fs::remove_all(work);
  auto base = kb::make_base_config(make, "defconfig", {}, work + "/base");
  ASSERT_TRUE(base) << base.error().format();
  fs::copy_file(work + "/base/.config", work + "/base.config");

  int differing_from_base = 0;
  for (const auto& t : trials) {
    const int seq = t["seq"].get<int>();
    SCOPED_TRACE(fmt::format("trial {}: {}", seq, t["params"].dump()));
    const std::string bundle = dir / fmt::format("bundle-{}", seq);
    auto ex = run_cli({"export", "--db", dir / "kt.db", "--trial", std::to_string(seq), "--out", bundle});
    ASSERT_EQ(ex.code, 0) << ex.out << ex.err;
    ASSERT_TRUE(fs::is_regular_file(bundle + "/kernel.fragment"));

    // The campaign's resolution of this trial.
    auto expected = kb::resolve_proposal(*tree, make, *base, assignment(t["params"]), fmt::format("{}/expected-{}", work, seq));
    ASSERT_TRUE(expected) << expected.error().format();

    // merge_config.sh -m (merge only) into OUT/.config, then olddefconfig.
    const std::string out = fmt::format("{}/merged-{}", work, seq);
    fs::create_directories(out);
    kerntune::util::RunOptions ro;
    ro.argv = {"bash", src + "/scripts/kconfig/merge_config.sh", "-m", "-O", out, work + "/base.config", bundle + "/kernel.fragment"};
    ro.cwd = out;
    ro.timeout = std::chrono::minutes(2);
    auto merged = kerntune::util::run(ro);
    ASSERT_TRUE(merged && merged->ok()) << (merged ? merged->out + merged->err : merged.error().format());
    auto od = kb::run_make(make, out, {"olddefconfig"});
    ASSERT_TRUE(od && od->ok()) << (od ? od->out : od.error().format());
    auto actual = kb::ConfigFile::read(out + "/.config");
    ASSERT_TRUE(actual) << actual.error().format();

    const auto want = expected->config.flat();
    const auto got = actual->flat();
    EXPECT_GT(want.size(), 1000u);
    for (const auto& [sym, v] : want) {
      auto it = got.find(sym);
      EXPECT_TRUE(it != got.end() && it->second == v)
          << sym << ": campaign " << v << ", merge_config " << (it == got.end() ? "(absent)" : it->second);
    }
    for (const auto& [sym, v] : got)
      EXPECT_TRUE(want.contains(sym)) << sym << "=" << v << " only after merge_config";
    if (want != base->flat()) ++differing_from_base;
  }
  // The check means something only if some trials changed the base config.
  EXPECT_GE(differing_from_base, 2);
  fs::remove_all(work);
}

}  // namespace
