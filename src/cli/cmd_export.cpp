// export and verify: deployable bundles.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <memory>

#include "cmd_export_gate.hpp"
#include "commands.hpp"
#include "kerntune/export/bundle.hpp"
#include "kerntune/gate/gate.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::cli {
namespace fs = std::filesystem;

void add_export_commands(CLI::App& app, int& exit_code) {
  struct Args {
    std::string db = default_db(), campaign, objective, out, git, name;
    int trial = -1;
    bool best = false;
    bool json = false;
    bool force = false;
    bool allow_unsafe = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* ex = app.add_subcommand("export", "Write a deployable bundle (.config fragment, sysctl.d, cmdline, TuneD, manifest)");
  ex->add_option("--db", args->db, "SQLite database (default ./kerntune.db or $KERNTUNE_DB)");
  ex->add_option("--campaign", args->campaign, "Campaign name (may be left out when the database holds one)");
  auto* trial = ex->add_option("--trial", args->trial, "Export this trial (its seq number, as `kerntune trials` shows)");
  ex->add_flag("--best", args->best, "Export the best trial (the default)")->excludes(trial);
  ex->add_option("--objective", args->objective, "With --best: the metric to rank by (default: the first objective)");
  ex->add_option("--out", args->out, "Output folder (new or empty) or FILE.tar.gz")->required();
  ex->add_flag("--force", args->force, "Replace an existing archive, or a folder that holds a kerntune bundle");
  ex->add_flag("--allow-unsafe", args->allow_unsafe,
               "Export a trial with a value outside a parameter's documented safe_range (refused otherwise)");
  ex->add_option("--git", args->git, "Also commit the bundle into this git repository (created if needed)");
  ex->add_option("--name", args->name, "Bundle name (default CAMPAIGN-trial-SEQ)");
  ex->add_flag("--json", args->json, "Print the manifest on stdout");
  ex->footer("Examples:\n"
             "  kerntune export --out tuned-bundle\n"
             "  kerntune export --db lab.db --campaign redis --trial 42 --out redis.tar.gz --git ~/kernel-tunings\n"
             "  kerntune export --out tuned-bundle --force     replace the bundle exported there before\n"
             "A non-empty --out is refused (exit 2); --force replaces an archive or an older bundle folder,\n"
             "never a folder that holds anything else.\n"
             "Docs: docs/export.md.");
  ex->callback([args, &exit_code] {
    if (!fs::exists(args->db)) {
      exit_code = report_error(util::Error{util::Error::Kind::invalid_input, "database not found (pass --db)", args->db, 0, 0});
      return;
    }
    auto st = store::Store::open(args->db, {.create = false, .read_only = true});
    if (!st) { exit_code = report_error(st.error()); return; }
    bundle::ExportOptions o;
    o.campaign = args->campaign;
    if (args->trial >= 0) o.trial_seq = args->trial;
    o.objective = args->objective;
    o.out = args->out;
    o.force = args->force;
    o.allow_unsafe = args->allow_unsafe;
    o.git_repo = args->git;
    o.name = args->name;
    auto s = bundle::export_bundle(*st, o);
    if (!s) { exit_code = report_error(s.error()); return; }
    if (args->json) { std::cout << util::dump_json(s->manifest, 2) << "\n"; return; }
    std::cout << util::printable(fmt::format("bundle '{}' (trial {}) written to {}\n  {}", s->name, s->seq, s->path, s->headline), true) << "\n";
    for (const auto& [file, sum] : s->manifest["files"].items()) std::cout << "  " << file << "\n";
    if (!s->git_commit.empty()) std::cout << fmt::format("  committed to {} as {}\n", args->git, s->git_commit);
  });

  struct VArgs {
    std::string bundle, recipe, max_regression = "2%";
    int repeats = 10;
    int warmup = -1;
    bool json = false;
  };
  auto vargs = std::make_shared<VArgs>();
  CLI::App* ver = app.add_subcommand("verify", "Check a bundle's checksums and re-measure it against the baseline");
  ver->add_option("bundle", vargs->bundle, "Bundle folder or .tar.gz")->required();
  ver->add_option("--recipe", vargs->recipe, "Recipe whose target and workload re-measure the bundle (without it: checksums only)");
  ver->add_option("--repeats", vargs->repeats, "Measured runs per side (default 10)")->check(CLI::Range(3, 100000));
  ver->add_option("--max-regression", vargs->max_regression, "Allowance used for the verdict line (default 2%)");
  ver->add_option("--warmup", vargs->warmup, "Warm-up repeats before each measured run");
  ver->add_flag("--json", vargs->json, "Print the verified manifest (and the measurement) as JSON");
  ver->footer("Exit codes: 0 checksums verified (and measured), 2 missing or tampered manifest / bad input, 1 failure.\n"
              "Examples:\n  kerntune verify out/bundle\n  kerntune verify out/bundle --json | jq .manifest.headline\n  kerntune verify redis.tar.gz --recipe recipes/redis.yaml --repeats 20");
  ver->callback([vargs, &exit_code] {
    auto made = util::make_temp_dir("kerntune-verify");
    if (!made) { exit_code = report_error(made.error()); return; }
    util::TempDirGuard rm(*made);
    const std::string& scratch = rm.path();
    auto dir = bundle::open_bundle(vargs->bundle, scratch);
    if (!dir) { exit_code = report_error(dir.error()); return; }
    auto manifest = bundle::verify_bundle(*dir);
    if (!manifest) { exit_code = report_error(manifest.error()); return; }
    // --json: one object (docs/schemas/verify.schema.json) — the verified
    // manifest and, with --recipe, the measurement (the gate's result shape).
    nlohmann::json out{{"bundle", manifest->value("name", "")}, {"files", (*manifest)["files"].size()},
                       {"checksums", "ok"}, {"manifest", *manifest}, {"measurement", nullptr}};
    if (!vargs->json)
      std::cout << fmt::format("checksums ok: {} files of bundle '{}' match manifest.json\n", (*manifest)["files"].size(),
                               manifest->value("name", ""));
    if (vargs->recipe.empty()) {
      if (vargs->json) std::cout << util::dump_json(out, 2) << "\n";
      return;
    }
    auto maxreg = parse_fraction(vargs->max_regression);
    if (!maxreg) { exit_code = report_error(maxreg.error()); return; }
    auto recipe = campaign::load_recipe(vargs->recipe);
    if (!recipe) { exit_code = report_error(recipe.error()); return; }
    gate::SideContext ctx{"", "", scratch + "/sides", false};
    auto base = gate::resolve_side(*recipe, "default", ctx);
    auto cand = gate::resolve_side(*recipe, *dir, ctx);
    if (!base) { exit_code = report_error(base.error()); return; }
    if (!cand) { exit_code = report_error(cand.error()); return; }
    gate::GateOptions o;
    o.repeats = vargs->repeats;
    o.max_regression = *maxreg;
    o.warmup = vargs->warmup;
    auto r = gate::run_gate(*recipe, *base, *cand, o);
    if (!r) { exit_code = report_error(r.error()); return; }
    if (vargs->json) {
      out["measurement"] = r->to_json();
      std::cout << util::dump_json(out, 2) << "\n";
    }
    else std::cout << "re-measured: " << r->brief() << "\n  " << r->message << "\n";
    if (r->decision == gate::Decision::error) exit_code = 1;
  });
}

}  // namespace kerntune::cli
