// report, status, show trial: read-only views of a stored campaign.
#include "cmd_report.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::cli {
namespace {

struct Source {
  std::string db = default_db();
  std::string campaign;
  bool json = false;
};

void add_source(CLI::App* cmd, Source& s, bool json) {
  cmd->add_option("--db", s.db, "SQLite database (default ./kerntune.db or $KERNTUNE_DB)");
  cmd->add_option("--campaign", s.campaign, "Campaign name (may be left out when the database holds one)");
  if (json) cmd->add_flag("--json", s.json, "Print JSON on stdout (schema in docs/schemas/)");
}

struct Opened {
  store::Store store;
  results::CampaignView view;  ///< the campaign's read model
};

/// Read-only: never migrates, never takes a write lock, never blocks `tune`.
util::Result<Opened> open(const Source& s) {
  if (!std::filesystem::exists(s.db))
    return util::fail(util::Error{util::Error::Kind::invalid_input,
                                  "database not found (run 'kerntune tune RECIPE' first, or pass --db)", s.db, 0, 0});
  KT_TRY(store::Store st, store::Store::open(s.db, {.create = false, .read_only = true}));
  KT_TRY(auto row, campaign::resolve_campaign(st, s.campaign));
  KT_TRY(auto view, results::load_view(st, row));
  return Opened{std::move(st), std::move(view)};
}

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// `report -o FILE` never replaces an existing file (or symlink, even a
/// dangling one) without --force; with it, the file or link itself is
/// replaced (rename), never what a link points to.
util::Status check_report_output(const std::string& out, bool force) {
  std::error_code ec;
  auto st = std::filesystem::symlink_status(out, ec);
  if (ec || !std::filesystem::exists(st)) return {};
  if (std::filesystem::is_directory(st))
    return util::fail(util::Error{util::Error::Kind::invalid_input, "the output is a folder (pass a file name)", out, 0, 0});
  if (force) return {};
  return util::fail(util::Error{util::Error::Kind::invalid_input,
                                std::filesystem::is_symlink(st) ? "the output exists as a symbolic link (pass --force to replace the link)"
                                                                : "the output exists (pass --force to replace it)",
                                out, 0, 0});
}

util::Status write_report(const Source& s, const std::string& out, const report::RenderOptions& ro, bool force) {
  if (out != "-") KT_TRY_STATUS(check_report_output(out, force));
  KT_TRY(auto o, open(s));
  report::ReportInput in;
  in.view = std::move(o.view);
  KT_TRY(in.events, o.store.events(in.view.campaign.id));
  // The recommendation and its interval: render_html asks results::recommend, as `kerntune best` does.
  std::string html = report::render_html(in, ro);
  if (out == "-") {
    std::cout << html;
    return {};
  }
  KT_TRY_STATUS(util::write_file(out, html));
  util::log_info("report of campaign '{}' ({} trials) written to {}", in.view.campaign.name, in.view.trials.size(), out);
  return {};
}

util::Result<report::StatusSnapshot> snapshot(const Source& s) {
  KT_TRY(auto o, open(s));
  return report::status(o.view, now_unix());
}

util::Status show_trial(const Source& s, int seq, bool no_artifacts) {
  KT_TRY(auto o, open(s));
  const auto& trials = o.view.trials;
  const results::Trial* found = o.view.trial_by_seq(seq);
  if (!found)
    return util::fail(util::Error{util::Error::Kind::invalid_input,
                                  fmt::format("campaign '{}' has no trial {} (it has {} trials, 0 to {})", o.view.campaign.name, seq,
                                              trials.size(), trials.empty() ? 0 : trials.back().seq),
                                  "", 0, 0});
  const results::Trial& sum = *found;
  std::vector<store::ArtifactRow> artifacts;
  if (!no_artifacts) {
    KT_TRY(artifacts, o.store.trial_artifacts(sum.id));
  }
  if (s.json) {
    nlohmann::json j = results::to_json(sum);
    j["campaign"] = o.view.campaign.name;
    j["id"] = sum.id;
    j["artifacts"] = nlohmann::json::array();
    for (const auto& a : artifacts) j["artifacts"].push_back(results::to_json(a));
    std::cout << util::dump_json(j, 2) << "\n";
    return {};
  }
  using util::printable;
  std::cout << fmt::format("trial {} of campaign '{}' ({}) — {}\n", sum.seq, printable(o.view.campaign.name),
                           results::to_string(sum.kind), sum.status());
  if (!sum.ok)
    std::cout << fmt::format("  failed at {}: {}\n", printable(sum.failure_stage), printable(sum.failure_reason, true));
  if (!sum.early_stop.is_null())
    std::cout << fmt::format("  stopped early: {}\n", printable(results::describe_early_stop(sum.early_stop)));
  if (!sum.extra_repeats.is_null())
    std::cout << fmt::format("  extra repeats: {}\n", printable(results::describe_extra_repeats(sum.extra_repeats)));
  std::cout << fmt::format("  worker {}, {:.1f} s\n", sum.worker.empty() ? "-" : printable(sum.worker), sum.finished_at - sum.started_at);
  std::cout << "parameters (proposed → effective):\n";
  for (const auto& [k, v] : sum.params.items()) {
    std::string eff = sum.effective.contains(k) ? util::dump_json(sum.effective[k]) : "";
    std::string proposed = util::dump_json(v);
    std::string how;  // why the kernel holds another value
    if (const auto* a = sum.adjustment(k))
      how = fmt::format("  ({}{})", a->value("how", ""), a->contains("reason") ? ": " + a->value("reason", "") : "");
    std::cout << printable(fmt::format("  {} = {}{}{}", k, proposed, !eff.empty() && eff != proposed ? "  → " + eff : "", how)) << "\n";
  }
  if (!sum.samples.empty())
    std::cout << (sum.pooled.empty() ? "metrics (median; repeats):\n"
                                     : "metrics (median, or pooled: the percentile of all repeats' requests; repeats):\n");
  for (const auto& [m, v] : sum.samples) {
    std::string reps;
    for (double x : v) reps += fmt::format("{}{:.6g}", reps.empty() ? "" : ", ", x);
    std::string unit = sum.units.contains(m) ? " " + printable(sum.units.at(m)) : "";
    std::cout << fmt::format("  {} = {:.6g}{}{}  [{}]\n", printable(m), sum.metrics.count(m) ? sum.metrics.at(m) : std::nan(""),
                             unit, sum.pooled.contains(m) ? " (pooled)" : "", reps);
  }
  if (!sum.timings.empty()) {
    std::cout << "timings (s):";
    for (const auto& [k, v] : sum.timings) std::cout << fmt::format(" {}={:.3f}", k, v);
    std::cout << "\n";
  }
  for (const auto& a : artifacts) {
    std::cout << fmt::format("---- artifact {} ({} bytes) ----\n", printable(a.name), a.content.size()) << printable(a.content, true);
    if (!a.content.empty() && a.content.back() != '\n') std::cout << "\n";
  }
  if (!no_artifacts && artifacts.empty()) std::cout << "(no artifacts stored)\n";
  return {};
}

}  // namespace

void add_report_commands(CLI::App& app, int& exit_code) {
  // ---- report -----------------------------------------------------------
  struct ReportArgs {
    Source src;
    std::string out = "report.html";
    int pd = 3;
    bool force = false;
  };
  auto ra = std::make_shared<ReportArgs>();
  CLI::App* rep = app.add_subcommand("report", "Write a self-contained HTML report of a campaign");
  add_source(rep, ra->src, false);
  rep->add_option("-o,--out", ra->out, "Output file ('-' for stdout; default report.html)");
  rep->add_flag("--force", ra->force, "Replace an existing output file (or symlink: the link itself is replaced)");
  rep->add_option("--pd-plots", ra->pd, "Partial-dependence plots for the top N parameters (default 3)")->check(CLI::Range(0, 50));
  rep->footer("Examples:\n"
              "  kerntune report --out report.html               the only campaign in ./kerntune.db\n"
              "  kerntune report --db lab.db --campaign qs-2 -o qs-2.html\n"
              "  kerntune report -o report.html --force          replace the report written before\n"
              "The page needs no network: open it offline or as a CI artifact. Reading guide: docs/report.md.");
  rep->callback([ra, &exit_code] {
    report::RenderOptions ro;
    ro.partial_dependence_plots = ra->pd;
    if (auto st = write_report(ra->src, ra->out, ro, ra->force); !st) exit_code = report_error(st.error());
  });

  // ---- status -----------------------------------------------------------
  struct StatusArgs {
    Source src;
    bool watch = false;
    double interval = 2.0;
  };
  auto sa = std::make_shared<StatusArgs>();
  CLI::App* status = app.add_subcommand("status", "Progress of a campaign (read-only; safe while 'tune' runs)");
  add_source(status, sa->src, true);
  status->add_flag("-w,--watch", sa->watch, "Refresh until the campaign stops running or Ctrl-C");
  status->add_option("--interval", sa->interval, "Seconds between refreshes with --watch (default 2)")->check(CLI::Range(0.1, 3600.0));
  status->footer("Examples:\n"
                 "  kerntune status                                 one snapshot\n"
                 "  kerntune status --watch                         follow a running 'kerntune tune' from another shell\n"
                 "  kerntune status --json | jq .best               machine-readable (one JSON object per refresh with --watch)\n"
                 "Opens the database read-only: it never blocks or slows the campaign.");
  status->callback([sa, &exit_code] {
    if (sa->watch) util::install_stop_handlers();
    bool tty = isatty(STDOUT_FILENO) != 0;
    for (;;) {
      auto snap = snapshot(sa->src);
      if (!snap) { exit_code = report_error(snap.error()); return; }
      if (sa->src.json) {
        std::cout << util::dump_json(report::to_json(*snap), sa->watch ? -1 : 2) << "\n";
      } else {
        if (sa->watch && tty) std::cout << "\x1b[H\x1b[2J";  // home + clear: redraw in place
        std::cout << util::printable(report::format_status(*snap), true);
        if (sa->watch && !tty) std::cout << "\n";
      }
      std::cout.flush();
      if (!sa->watch || snap->state != "running") return;
      auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(sa->interval);
      while (std::chrono::steady_clock::now() < until) {
        if (util::stop_requested()) { exit_code = 0; return; }  // Ctrl-C ends a watch normally
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });

  // ---- show trial N ---------------------------------------------------------
  CLI::App* show = app.add_subcommand("show", "Show one stored object in full");
  show->require_subcommand(1);
  struct ShowArgs {
    Source src;
    int seq = 0;
    bool no_artifacts = false;
  };
  auto sh = std::make_shared<ShowArgs>();
  CLI::App* trial = show->add_subcommand("trial", "Everything about one trial: parameters, repeats, timings, failure, logs");
  trial->add_option("seq", sh->seq, "Trial sequence number (0 = the baseline), as 'kerntune trials' lists")->required()->check(CLI::NonNegativeNumber);
  add_source(trial, sh->src, true);
  trial->add_flag("--no-artifacts", sh->no_artifacts, "Leave out the stored logs and outputs");
  trial->footer("Examples:\n"
                "  kerntune show trial 0                           the baseline, with its logs\n"
                "  kerntune show trial 17 --json | jq -r '.artifacts[] | select(.name==\"stderr\").content'");
  show->footer("Examples:\n  kerntune show trial 3\n  kerntune show trial 3 --json");
  trial->callback([sh, &exit_code] {
    if (auto st = show_trial(sh->src, sh->seq, sh->no_artifacts); !st) exit_code = report_error(st.error());
  });
}

}  // namespace kerntune::cli
