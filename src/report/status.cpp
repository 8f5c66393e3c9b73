// `kerntune status`: progress of a campaign from its stored rows.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include <map>

#include "kerntune/report/report.hpp"
#include "kerntune/results/cost.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::report {

StatusSnapshot status(const results::CampaignView& view, double now) {
  StatusSnapshot s;
  s.campaign = view.campaign.name;
  s.state = view.campaign.status;
  s.budget = view.budget;
  s.objective = main_objective(view);
  const auto& trials = view.trials;
  double first_start = 0, last_end = 0;
  for (const auto& v : trials) {
    (results::is_search(v.kind) ? s.done : s.extra) += 1;
    s.failed += !v.ok;
    if (first_start == 0 || (v.started_at > 0 && v.started_at < first_start)) first_start = v.started_at;
    if (v.finished_at >= last_end) {
      last_end = v.finished_at;
      s.last = v;
    }
    if (v.kind == results::TrialKind::baseline && !s.baseline && v.metrics.contains(s.objective.metric))
      s.baseline = v.metrics.at(s.objective.metric);
  }
  if (auto b = best_index(view, s.objective)) s.best = trials[*b];
  bool running = s.state == "running";
  if (!trials.empty()) {
    s.elapsed_seconds = std::max(0.0, (running ? std::max(now, last_end) : last_end) - first_start);
    s.since_last_seconds = std::max(0.0, now - last_end);
  }
  // The cost model (results/cost.hpp): what a trial costs by what it had to
  // do, and the trials still to come, the confirmation phase included.
  s.costs = results::trial_costs(trials);
  const auto& conf = view.metadata.contains("confirmation") ? view.metadata["confirmation"] : nlohmann::json::object();
  const results::Remaining left = results::remaining(trials, s.budget, conf.value("top", 0), conf.value("rounds", 0), now);
  s.confirmation_left = left.confirmation_left;
  if (running) s.eta_seconds = left.eta_seconds;
  return s;
}

namespace {
nlohmann::json trial_brief(const Trial& v) {
  const nlohmann::json full = results::to_json(v);
  nlohmann::json j = nlohmann::json::object();
  for (const char* key : {"seq", "kind", "status", "metrics", "started_at", "finished_at", "failure"}) j[key] = full[key];
  return j;
}
std::string metric_text(const Trial& v, const std::string& metric) {
  auto it = v.metrics.find(metric);
  std::string unit = v.units.contains(metric) ? " " + v.units.at(metric) : "";
  return it == v.metrics.end() ? "—" : fmt::format("{:.6g}{}", it->second, unit);
}
}  // namespace

nlohmann::json to_json(const StatusSnapshot& s) {
  nlohmann::json j;
  j["campaign"] = s.campaign;
  j["state"] = s.state;
  j["done"] = s.done;
  j["extra"] = s.extra;
  j["budget"] = s.budget ? nlohmann::json(*s.budget) : nlohmann::json(nullptr);
  j["failed"] = s.failed;
  j["objective"] = {{"metric", s.objective.metric}, {"direction", s.objective.maximize ? "maximize" : "minimize"}};
  j["baseline"] = s.baseline ? nlohmann::json(*s.baseline) : nlohmann::json(nullptr);
  j["last_trial"] = s.last ? trial_brief(*s.last) : nlohmann::json(nullptr);
  if (s.best) {
    auto b = trial_brief(*s.best);
    b["params"] = s.best->params;
    b["value"] = s.best->metrics.at(s.objective.metric);
    if (s.baseline && *s.baseline != 0) b["ratio_to_baseline"] = b["value"].get<double>() / *s.baseline;
    j["best"] = b;
  } else {
    j["best"] = nullptr;
  }
  j["elapsed_seconds"] = s.elapsed_seconds;
  j["since_last_trial_seconds"] = s.since_last_seconds;
  j["eta_seconds"] = s.eta_seconds ? nlohmann::json(*s.eta_seconds) : nlohmann::json(nullptr);
  j["confirmation_left"] = s.confirmation_left;
  j["trial_cost"] = nlohmann::json::array();
  for (const auto& c : s.costs)
    j["trial_cost"].push_back({{"kind", c.kind}, {"trials", c.trials}, {"median_seconds", c.median_seconds}});
  return j;
}

std::string format_status(const StatusSnapshot& s) {
  std::string out = fmt::format("campaign '{}' — {}\n", s.campaign, s.state);
  std::string progress = s.budget ? fmt::format("{} / {}", s.done, *s.budget) : fmt::format("{}", s.done);
  if (s.budget && *s.budget > 0)
    progress += fmt::format(" ({:.0f}%)", 100.0 * std::min(s.done, *s.budget) / *s.budget);
  if (s.extra) progress += fmt::format(", plus {} baseline re-measurements/confirmations", s.extra);
  out += fmt::format("  trials    {}\n", progress);
  out += fmt::format("  failed    {}\n", s.failed);
  out += fmt::format("  elapsed   {}", util::format_duration(s.elapsed_seconds));
  if (s.eta_seconds) out += fmt::format(", ETA {}", util::format_duration(*s.eta_seconds));
  if (s.eta_seconds && s.confirmation_left > 0) out += fmt::format(" (with {} confirmation trials)", s.confirmation_left);
  out += "\n";
  if (!s.costs.empty()) {
    out += "  cost      median per trial:";
    for (std::size_t i = 0; i < s.costs.size(); ++i)
      out += fmt::format("{} {} {} ({} trial{})", i ? "," : "", s.costs[i].kind, util::format_duration(s.costs[i].median_seconds),
                         s.costs[i].trials, s.costs[i].trials == 1 ? "" : "s");
    out += "\n";
  }
  if (s.last) {
    out += fmt::format("  last      trial {} ({}) {} ", s.last->seq, results::to_string(s.last->kind), s.last->status());
    out += s.last->ok ? fmt::format("{} = {}", s.objective.metric, metric_text(*s.last, s.objective.metric))
                                  : fmt::format("at {}: {}", s.last->failure_stage, s.last->failure_reason.substr(0, 120));
    out += fmt::format(", {} ago\n", util::format_duration(s.since_last_seconds));
  }
  if (s.baseline) out += fmt::format("  baseline  {} = {:.6g}\n", s.objective.metric, *s.baseline);
  if (s.best) {
    double v = s.best->metrics.at(s.objective.metric);
    out += fmt::format("  best      trial {}: {} = {} ({})", s.best->seq, s.objective.metric, metric_text(*s.best, s.objective.metric),
                       s.objective.maximize ? "maximize" : "minimize");
    if (s.baseline && *s.baseline != 0) out += fmt::format(", {:+.1f}% vs baseline", (v / *s.baseline - 1) * 100);
    out += "\n";
  }
  return out;
}

}  // namespace kerntune::report
