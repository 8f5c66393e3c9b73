// gate: the statistical A/B regression gate for CI.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "cmd_export_gate.hpp"
#include "commands.hpp"
#include "kerntune/gate/gate.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::cli {
namespace fs = std::filesystem;

util::Result<double> parse_fraction(const std::string& text) {
  std::string t = util::trim(text);
  bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
    return util::invalid_input(fmt::format("'{}' is not a fraction (write 2% or 0.02)", text));
  if (percent) v /= 100.0;
  if (v < 0 || v >= 1) return util::invalid_input(fmt::format("'{}' must lie in [0%, 100%)", text));
  return v;
}

void add_gate_commands(CLI::App& app, int& exit_code) {
  struct Args {
    std::string recipe, baseline = "default", candidate, max_regression = "2%", junit, summary, db, campaign, metric,
        work_dir;
    int repeats = 10;
    int warmup = -1;
    std::uint64_t seed = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("gate", "A/B regression gate: candidate vs baseline, interleaved, with a 95% interval");
  cmd->add_option("--recipe", args->recipe, "Recipe naming the target, workload and objective")->required();
  cmd->add_option("--baseline", args->baseline, "default | BUNDLE (folder or .tar.gz) | KERNEL-IMAGE (default: default)");
  cmd->add_option("--candidate", args->candidate, "BUNDLE | KERNEL-IMAGE | TRIAL (a trial number of the campaign in --db)")->required();
  cmd->add_option("--repeats", args->repeats, "Measured runs per side, interleaved A B B A … (default 10)")->check(CLI::Range(3, 100000));
  cmd->add_option("--max-regression", args->max_regression, "Allowed regression of the objective (default 2%)");
  cmd->add_option("--metric", args->metric, "Objective to judge (default: the recipe's first)");
  cmd->add_option("--junit", args->junit, "Write JUnit XML here");
  cmd->add_option("--summary", args->summary, "Write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)");
  cmd->add_option("--db", args->db, "Campaign database, for --candidate TRIAL");
  cmd->add_option("--campaign", args->campaign, "Campaign name, for --candidate TRIAL");
  cmd->add_option("--warmup", args->warmup, "Warm-up repeats before each measured run (default: the recipe's)");
  cmd->add_option("--seed", args->seed, "Bootstrap seed (default 0)");
  cmd->add_option("--work-dir", args->work_dir, "Scratch folder kept after the run (default: a temporary one)");
  cmd->add_flag("--json", args->json, "Print the result as JSON on stdout");
  cmd->footer(
      "Exit codes: 0 pass, 1 regression (the 95% interval lies beyond --max-regression),\n"
      "2 error or bad input (a tampered bundle, a failed run), 3 inconclusive (with the repeats that would settle it).\n"
      "Examples:\n"
      "  kerntune gate --recipe ci.yaml --candidate out/bundle --repeats 20\n"
      "  kerntune gate --recipe ci.yaml --baseline base.tar.gz --candidate arch/x86/boot/bzImage --junit gate.xml\n"
      "  kerntune gate --recipe demo.yaml --db kt.db --candidate 17 --max-regression 1%\n"
      "Docs: docs/gate.md.");
  cmd->callback([args, &exit_code] {
    auto fail = [&](const util::Error& e) { exit_code = report_error(e); };
    auto maxreg = parse_fraction(args->max_regression);
    if (!maxreg) return fail(maxreg.error());
    auto recipe = campaign::load_recipe(args->recipe);
    if (!recipe) return fail(recipe.error());
    auto made = util::make_temp_dir("kerntune-gate-sides");
    if (!made) return fail(made.error());
    util::TempDirGuard rm(*made);
    const std::string& scratch = rm.path();
    gate::SideContext ctx{args->db, args->campaign, scratch, false};
    auto base = gate::resolve_side(*recipe, args->baseline, ctx);
    if (!base) return fail(base.error());
    ctx.allow_trial = true;
    auto cand = gate::resolve_side(*recipe, args->candidate, ctx);
    if (!cand) return fail(cand.error());
    gate::GateOptions o;
    o.repeats = args->repeats;
    o.max_regression = *maxreg;
    o.metric = args->metric;
    o.warmup = args->warmup;
    o.seed = args->seed;
    o.work_dir = args->work_dir;
    auto r = gate::run_gate(*recipe, *base, *cand, o);
    if (!r) return fail(r.error());
    if (!args->junit.empty())
      if (auto w = util::write_file(args->junit, gate::junit_xml(*r)); !w) return fail(w.error());
    if (!args->summary.empty()) {
      // Append, as GitHub's $GITHUB_STEP_SUMMARY expects.
      std::string prior = fs::exists(args->summary) ? util::read_file(args->summary).value_or("") : "";
      if (auto w = util::write_file(args->summary, prior + gate::markdown_summary(*r)); !w) return fail(w.error());
    }
    if (args->json) std::cout << util::dump_json(r->to_json(), 2) << "\n";
    else std::cout << r->brief() << "\n  " << r->message << "\n";
    exit_code = static_cast<int>(r->decision);
  });
}

}  // namespace kerntune::cli
