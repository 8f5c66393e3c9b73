// tune, trials, best: running a campaign and reading its results.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "commands.hpp"
#include "kerntune/campaign/campaign.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::cli {
namespace {

std::string default_db() {
  const char* env = std::getenv("KERNTUNE_DB");
  return env && *env ? env : "kerntune.db";
}

std::string format_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.6g}", v.get<double>());
  return v.dump();
}

/// One human-readable paragraph about a trial and its gain over the baseline.
void print_best(const campaign::TrialSummary& t, const std::string& metric, bool maximize,
                const std::optional<campaign::Improvement>& imp, const nlohmann::json& defaults) {
  std::cout << fmt::format("best trial {} ({}): {} = {:.6g}{}\n", t.seq, t.kind, metric, t.metrics.at(metric),
                           t.units.contains(metric) ? " " + t.units.at(metric) : "");
  if (imp && std::isnan(imp->lo)) {
    std::cout << fmt::format("  vs baseline: ratio {:.4f} ({:+.1f}%), no confidence interval (one measurement a side; add repeats)\n",
                             imp->ratio, (imp->ratio - 1.0) * 100.0);
  } else if (imp) {
    double pct = (imp->ratio - 1.0) * 100.0;
    std::cout << fmt::format("  vs baseline: ratio {:.4f} ({:+.1f}%), 95% CI [{:.4f}, {:.4f}] ({}; {} {})\n",
                             imp->ratio, pct, imp->lo, imp->hi, imp->method, imp->n, "samples each");
    bool better = maximize ? imp->lo > 1.0 : imp->hi < 1.0;
    bool worse = maximize ? imp->hi < 1.0 : imp->lo > 1.0;
    std::cout << "  " << (better ? "the improvement is significant (the interval excludes no change)"
                                 : worse ? "the change is a significant regression"
                                         : "not significant: the interval includes no change")
              << "\n";
  }
  std::cout << "  configuration (changes from the defaults marked *):\n";
  for (const auto& [k, v] : t.params.items()) {
    bool changed = !defaults.contains(k) || defaults[k] != v;
    std::cout << fmt::format("   {} {} = {}\n", changed ? "*" : " ", k, format_value(v));
  }
}

struct ReadOptions {
  std::string db = default_db();
  std::string campaign;
  bool json = false;
};

void add_read_options(CLI::App* cmd, ReadOptions& o) {
  cmd->add_option("--db", o.db, "SQLite database (default ./kerntune.db or $KERNTUNE_DB)");
  cmd->add_option("--campaign", o.campaign, "Campaign name (may be left out when the database holds one)");
  cmd->add_flag("--json", o.json, "Print JSON on stdout");
}

struct Loaded {
  store::CampaignRow campaign;
  std::vector<campaign::TrialSummary> trials;
};

util::Result<Loaded> load(const ReadOptions& o) {
  if (!std::filesystem::exists(o.db))
    return util::fail(util::Error{util::Error::Kind::invalid_input, "database not found (run 'kerntune tune RECIPE' first, or pass --db)", o.db, 0, 0});
  KT_TRY(store::Store st, store::Store::open(o.db, {.create = false, .read_only = true}));
  Loaded l;
  KT_TRY(l.campaign, campaign::resolve_campaign(st, o.campaign));
  KT_TRY(auto rows, st.trials(l.campaign.id));
  for (const auto& r : rows) l.trials.push_back(campaign::summarize(r));
  return l;
}

}  // namespace

void add_campaign_commands(CLI::App& app, int& exit_code) {
  // ---- tune -------------------------------------------------------------
  struct TuneArgs {
    std::string recipe;
    std::string db = default_db();
    int trials = 0;
    std::string name;
    std::string work_dir;
    std::string progress = "auto";
    bool allow_change = false;
  };
  auto targs = std::make_shared<TuneArgs>();
  CLI::App* tune = app.add_subcommand("tune", "Run a campaign from a recipe, or resume it");
  tune->add_option("recipe", targs->recipe, "Recipe file (YAML)")->required();
  tune->add_option("--db", targs->db, "SQLite database (default ./kerntune.db or $KERNTUNE_DB)");
  tune->add_option("--trials", targs->trials, "Budget override: total trials including the baseline")->check(CLI::PositiveNumber);
  tune->add_option("--name", targs->name, "Campaign name (default: the recipe's name)");
  tune->add_option("--work-dir", targs->work_dir, "Scratch folder kept after the run (default: a temporary one)");
  tune->add_option("--progress", targs->progress, "auto | tty | lines | quiet")->check(CLI::IsMember({"auto", "tty", "lines", "quiet"}));
  tune->add_flag("--allow-recipe-change", targs->allow_change, "Resume even though the recipe file changed");
  tune->footer(
      "Examples:\n"
      "  kerntune tune recipes/demo.yaml                 run 40 trials, store them in ./kerntune.db\n"
      "  kerntune tune recipes/demo.yaml --trials 60     extend the same campaign to 60 trials\n"
      "  kerntune tune recipes/quickstart.yaml --db lab.db --name qs-2\n"
      "Running the same command again resumes: completed trials are never re-run.\n"
      "Ctrl-C stops after the running trial is abandoned; nothing completed is lost.");
  tune->callback([targs, &exit_code, &app] {
    auto recipe = campaign::load_recipe(targs->recipe);
    if (!recipe) { exit_code = report_error(recipe.error()); return; }
    auto st = store::Store::open(targs->db);
    if (!st) { exit_code = report_error(st.error()); return; }
    campaign::TuneOptions o;
    if (targs->trials > 0) o.trials = targs->trials;
    o.campaign_name = targs->name;
    o.work_dir = targs->work_dir;
    o.allow_recipe_change = targs->allow_change;
    if (targs->progress == "tty") o.progress = campaign::TuneOptions::Progress::tty;
    else if (targs->progress == "lines") o.progress = campaign::TuneOptions::Progress::lines;
    else if (targs->progress == "quiet" || util::log_level() < util::LogLevel::info) o.progress = campaign::TuneOptions::Progress::quiet;
    auto summary = campaign::tune(*recipe, *st, o);
    if (!summary) { exit_code = report_error(summary.error()); return; }
    (void)app;
    util::log_info("campaign '{}': {} trials ({} run now, {} failed){}", summary->campaign, summary->trials_total,
                   summary->trials_run_now, summary->trials_failed, summary->stopped ? " — stopped; run the same command to resume" : "");
    if (summary->stopped) { exit_code = 130; return; }
    // Print the best configuration and its improvement.
    ReadOptions ro{targs->db, summary->campaign, false};
    auto loaded = load(ro);
    if (!loaded) { exit_code = report_error(loaded.error()); return; }
    const auto main = recipe->optimized().front();
    auto best = campaign::best_index(loaded->trials, main.metric, main.maximize);
    if (!best) { std::cout << "no successful trial: nothing to recommend\n"; exit_code = 1; return; }
    auto imp = campaign::improvement(loaded->trials, *best, main.metric);
    print_best(loaded->trials[*best], main.metric, main.maximize, imp, space::to_json(recipe->space.defaults()));
  });

  // ---- trials -----------------------------------------------------------
  auto trials_opts = std::make_shared<ReadOptions>();
  CLI::App* trials = app.add_subcommand("trials", "List a campaign's trials");
  add_read_options(trials, *trials_opts);
  trials->footer("Examples:\n  kerntune trials\n  kerntune trials --campaign demo --json | jq '.[] | select(.status==\"failed\")'");
  trials->callback([trials_opts, &exit_code] {
    auto l = load(*trials_opts);
    if (!l) { exit_code = report_error(l.error()); return; }
    if (trials_opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : l->trials) out.push_back(campaign::to_json(t));
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::cout << fmt::format("campaign '{}' ({}), {} trials\n", l->campaign.name, l->campaign.status, l->trials.size());
    std::cout << fmt::format("{:>5}  {:<10}  {:<6}  {:<30}  {}\n", "seq", "kind", "status", "metrics", "params / failure");
    for (const auto& t : l->trials) {
      std::string metrics;
      for (const auto& [k, v] : t.metrics) metrics += fmt::format("{}={:.5g} ", k, v);
      std::string rest = t.failure ? fmt::format("{}: {}", t.failure->first, t.failure->second) : t.params.dump();
      if (rest.size() > 100) rest = rest.substr(0, 97) + "...";
      std::cout << fmt::format("{:>5}  {:<10}  {:<6}  {:<30}  {}\n", t.seq, t.kind, t.status, util::trim(metrics), rest);
    }
  });

  // ---- best -------------------------------------------------------------
  auto best_opts = std::make_shared<ReadOptions>();
  auto objective = std::make_shared<std::string>();
  CLI::App* best = app.add_subcommand("best", "Show the best trial and its improvement over the baseline");
  add_read_options(best, *best_opts);
  best->add_option("--objective", *objective, "Metric to rank by (default: the recipe's first objective)");
  best->footer("Examples:\n  kerntune best\n  kerntune best --objective sys.mem_available_min_kb --json");
  best->callback([best_opts, objective, &exit_code] {
    auto l = load(*best_opts);
    if (!l) { exit_code = report_error(l.error()); return; }
    // The stored recipe says which metrics are objectives and their direction.
    auto recipe_node = util::load_yaml_string(l->campaign.recipe_text, l->campaign.recipe_path);
    std::string metric = *objective;
    bool maximize = false;
    if (recipe_node && (*recipe_node)["objectives"]) {
      for (const auto& o : (*recipe_node)["objectives"]) {
        if (!o["direction"]) continue;
        std::string m = o["metric"].Scalar();
        bool mx = o["direction"].Scalar().rfind("max", 0) == 0;
        if (metric.empty() || metric == m) { metric = m; maximize = mx; break; }
      }
    }
    if (metric.empty()) { exit_code = report_error(util::Error{util::Error::Kind::invalid_input, "cannot tell the objective; pass --objective METRIC", "", 0, 0}); return; }
    auto idx = campaign::best_index(l->trials, metric, maximize);
    if (!idx) {
      exit_code = report_error(util::Error{util::Error::Kind::invalid_input,
                                           fmt::format("no successful trial has metric '{}'", metric), "", 0, 0});
      return;
    }
    auto imp = campaign::improvement(l->trials, *idx, metric);
    if (best_opts->json) {
      nlohmann::json j = campaign::to_json(l->trials[*idx]);
      j["objective"] = {{"metric", metric}, {"direction", maximize ? "maximize" : "minimize"}};
      if (imp) j["improvement"] = {{"ratio", imp->ratio}, {"ci95", {imp->lo, imp->hi}}, {"method", imp->method}, {"n", imp->n}};
      else j["improvement"] = nullptr;
      std::cout << j.dump(2) << "\n";
      return;
    }
    nlohmann::json defaults = nlohmann::json::object();
    for (const auto& t : l->trials)
      if (t.kind == "baseline") { defaults = t.params; break; }
    print_best(l->trials[*idx], metric, maximize, imp, defaults);
  });
}

}  // namespace kerntune::cli
