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
#include "kerntune/results/recommend.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/space/effective.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::cli {
namespace {

std::string format_value(const nlohmann::json& v) {
  if (v.is_string()) return util::printable(v.get<std::string>());
  if (v.is_number_float()) return fmt::format("{:.6g}", v.get<double>());
  return util::printable(util::dump_json(v));
}

std::string unit_of(const results::Trial& t, const std::string& metric) {
  auto it = t.units.find(metric);
  return it == t.units.end() ? "" : " " + util::printable(it->second);
}

std::string limits_text(const results::Candidate& c) {
  std::string out;
  for (const auto& l : c.limits)
    out += fmt::format("{}{} = {:.6g} {} {}{}", out.empty() ? "" : "; ", l.metric, l.value, l.met ? "keeps" : "BREAKS",
                       l.bound_text(), l.on_confirmation ? " (on the confirmation runs)" : "");
  return out;
}

/// The recommendation in plain words: the pick, why, its interval over
/// independent rounds, the caveats, the front, and the configuration.
void print_recommendation(const results::CampaignView& v, const results::Recommendation& rec) {
  const auto& obj = rec.objective;
  if (!rec.pick) {
    std::cout << fmt::format("no recommendation for {} ({} configuration(s) measured, {} break a limit)\n", obj.metric,
                             rec.candidates, rec.infeasible);
    for (const auto& n : rec.notes) std::cout << "  " << n << "\n";
    return;
  }
  const auto& t = v.trials[*rec.pick];
  const auto& c = *rec.chosen;
  std::cout << fmt::format("recommended: trial {} ({}): {} = {:.6g}{} (median over {} independent run(s){})\n", t.seq,
                           results::to_string(t.kind), obj.metric, c.value.at(obj.metric), unit_of(t, obj.metric),
                           c.confirm_runs > 0 ? c.confirm_runs : c.search_runs,
                           c.confirm_runs > 0 ? ", the confirmation runs" : "");
  std::cout << "  chosen by: " << rec.rule << "\n";
  if (!c.limits.empty()) std::cout << "  limits: " << limits_text(c) << "\n";
  if (rec.infeasible > 0)
    std::cout << fmt::format("  {} of {} configurations break a limit and are never recommended\n", rec.infeasible, rec.candidates);
  if (rec.interval) {
    const auto& iv = *rec.interval;
    double pct = (iv.ratio - 1.0) * 100.0;
    if (iv.has_interval())
      std::cout << fmt::format("  vs baseline: ratio {:.4f} ({:+.1f}%), 95% CI [{:.4f}, {:.4f}] over {} independent rounds — {}\n",
                               iv.ratio, pct, iv.lo, iv.hi, iv.rounds, iv.verdict(obj.maximize));
    else
      std::cout << fmt::format("  vs baseline: ratio {:.4f} ({:+.1f}%), no confidence interval\n", iv.ratio, pct);
    std::cout << "  interval: " << iv.method << "\n";
    if (!iv.confirmed) std::cout << "  UNCONFIRMED: no confirmation runs of this configuration\n";
  }
  for (const auto& n : rec.notes) std::cout << "  note: " << n << "\n";
  auto optimized = v.optimized();
  if (!rec.front.empty()) {
    std::cout << fmt::format("  feasible Pareto front ({} configurations; * = recommended):\n", rec.front.size());
    std::string head = "     trial";
    for (const auto& o : optimized) head += fmt::format("  {:>14}", o.metric);
    std::cout << head << "\n";
    for (const auto& f : rec.front) {
      std::string row = fmt::format("   {} {:>5}", f.config == c.config ? "*" : " ", v.trials[f.trial].seq);
      for (const auto& o : optimized) row += fmt::format("  {:>14.6g}", f.value.contains(o.metric) ? f.value.at(o.metric) : NAN);
      std::cout << row << "\n";
    }
  }
  std::cout << "  configuration (changes from the baseline marked *):\n";
  for (const auto& [k, val] : t.params.items()) {
    bool changed = !v.defaults.contains(k) || v.defaults[k] != val;
    std::cout << fmt::format("   {} {} = {}\n", changed ? "*" : " ", util::printable(k), format_value(val));
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

/// The campaign's read model: every reader below reads through it.
util::Result<results::CampaignView> load(const ReadOptions& o) {
  if (!std::filesystem::exists(o.db))
    return util::fail(util::Error{util::Error::Kind::invalid_input, "database not found (run 'kerntune tune RECIPE' first, or pass --db)", o.db, 0, 0});
  KT_TRY(store::Store st, store::Store::open(o.db, {.create = false, .read_only = true}));
  KT_TRY(auto row, campaign::resolve_campaign(st, o.campaign));
  return results::load_view(st, row);
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
    if (auto why = targs->name.empty() ? std::nullopt : util::name_text_problem(targs->name)) {
      exit_code = report_error(util::Error{util::Error::Kind::invalid_input,
                                           fmt::format("--name '{}' cannot name a campaign: {}", targs->name, *why), "", 0, 0});
      return;
    }
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
    auto rec = results::recommend(*loaded);
    if (!rec) { exit_code = report_error(rec.error()); return; }
    print_recommendation(*loaded, *rec);
    if (!rec->pick) exit_code = 1;
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
      for (const auto& t : l->trials) out.push_back(results::to_json(t));
      std::cout << util::dump_json(out, 2) << "\n";
      return;
    }
    std::cout << fmt::format("campaign '{}' ({}), {} trials\n", util::printable(l->campaign.name), l->campaign.status,
                             l->trials.size());
    std::cout << fmt::format("{:>5}  {:<10}  {:<6}  {:<30}  {}\n", "seq", "kind", "status", "metrics", "params / failure");
    for (const auto& t : l->trials) {
      std::string metrics;
      for (const auto& [k, v] : t.metrics) metrics += fmt::format("{}={:.5g} ", util::printable(k), v);
      std::string rest = !t.ok ? fmt::format("{}: {}", t.failure_stage, t.failure_reason) : util::dump_json(t.params);
      if (rest.size() > 100) rest = rest.substr(0, 97) + "...";
      rest = util::printable(rest);
      std::cout << fmt::format("{:>5}  {:<10}  {:<6}  {:<30}  {}\n", t.seq, results::to_string(t.kind), t.status(),
                               util::trim(metrics), rest);
      for (const auto& a : t.adjusted) std::cout << fmt::format("{:>5}  adjusted: {}\n", "", space::describe_adjustment(a));
      if (!t.early_stop.is_null())
        std::cout << fmt::format("{:>5}  stopped early: {}\n", "", util::printable(results::describe_early_stop(t.early_stop)));
      if (!t.extra_repeats.is_null())
        std::cout << fmt::format("{:>5}  extra repeats: {}\n", "", util::printable(results::describe_extra_repeats(t.extra_repeats)));
    }
  });

  // ---- best -------------------------------------------------------------
  auto best_opts = std::make_shared<ReadOptions>();
  auto objective = std::make_shared<std::string>();
  CLI::App* best = app.add_subcommand("best", "Show the recommended configuration, its gain over the baseline and the Pareto front");
  add_read_options(best, *best_opts);
  best->add_option("--objective", *objective, "Objective to rank by (default: the recipe's first objective)");
  best->footer(
      "The recommendation keeps every outcome limit (judged on the confirmation runs when there are any),\n"
      "ranks by the surrogate's posterior mean rather than the luckiest sample, and reports the gain over\n"
      "independent runs (fresh boots; docs/recommendation.md). Exit 1 when no trial keeps the limits.\n"
      "Examples:\n  kerntune best\n  kerntune best --json | jq .front          the feasible Pareto front (several objectives)\n"
      "  kerntune best --objective mem --json      rank by another objective");
  best->callback([best_opts, objective, &exit_code] {
    auto l = load(*best_opts);
    if (!l) { exit_code = report_error(l.error()); return; }
    auto rec = results::recommend(*l, {.metric = *objective});
    if (!rec) { exit_code = report_error(rec.error()); return; }
    if (best_opts->json) std::cout << util::dump_json(results::to_json(*l, *rec), 2) << "\n";
    else print_recommendation(*l, *rec);
    if (!rec->pick) exit_code = 1;
  });
}

}  // namespace kerntune::cli
