#include "kerntune/campaign/results.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "kerntune/stats/best.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::campaign {

TrialSummary summarize(const store::TrialRecord& t) {
  TrialSummary s;
  s.seq = t.seq;
  s.kind = t.kind;
  s.status = t.status;
  s.params = nlohmann::json::parse(t.params_json, nullptr, false);
  s.effective = nlohmann::json::parse(t.effective_json, nullptr, false);
  if (s.params.is_discarded()) s.params = nlohmann::json::object();
  if (s.effective.is_discarded()) s.effective = nlohmann::json::object();
  for (const auto& m : t.measurements) {
    auto& v = s.samples[m.metric];
    if (v.size() <= static_cast<std::size_t>(m.repeat)) v.resize(static_cast<std::size_t>(m.repeat) + 1, std::nan(""));
    v[static_cast<std::size_t>(m.repeat)] = m.value;
    if (!m.unit.empty()) s.units[m.metric] = m.unit;
  }
  for (auto& [name, v] : s.samples) {
    std::erase_if(v, [](double x) { return std::isnan(x); });
    if (!v.empty()) s.metrics[name] = stats::median(v);
  }
  if (t.status != "ok") s.failure = std::make_pair(t.failure_stage, t.failure_reason);
  s.timings = t.timings;
  s.worker = t.worker;
  s.started_at = t.started_at;
  s.finished_at = t.finished_at;
  return s;
}

nlohmann::json to_json(const TrialSummary& t) {
  nlohmann::json j;
  j["seq"] = t.seq;
  j["kind"] = t.kind;
  j["status"] = t.status;
  j["params"] = t.params;
  j["effective"] = t.effective;
  j["metrics"] = nlohmann::json::object();
  for (const auto& [k, v] : t.metrics) j["metrics"][k] = v;
  j["samples"] = nlohmann::json::object();
  for (const auto& [k, v] : t.samples) j["samples"][k] = v;
  j["units"] = t.units;
  if (t.failure) j["failure"] = {{"stage", t.failure->first}, {"reason", t.failure->second}};
  else j["failure"] = nullptr;
  j["timings"] = nlohmann::json::object();
  for (const auto& [k, v] : t.timings) j["timings"][k] = v;
  j["worker"] = t.worker;
  j["started_at"] = t.started_at;
  j["finished_at"] = t.finished_at;
  return j;
}

namespace {
/// The trials as the shared best-trial rule (stats/best.hpp) sees them.
std::vector<stats::TrialMetric> metric_view(const std::vector<TrialSummary>& trials, const std::string& metric) {
  std::vector<stats::TrialMetric> out;
  out.reserve(trials.size());
  for (const auto& t : trials) {
    stats::TrialMetric m{t.kind, t.status == "ok", t.params.dump(), {}};
    if (auto it = t.samples.find(metric); it != t.samples.end()) m.samples = it->second;
    out.push_back(std::move(m));
  }
  return out;
}
}  // namespace

std::optional<std::size_t> best_index(const std::vector<TrialSummary>& trials, const std::string& metric,
                                      bool maximize) {
  return stats::best_trial(metric_view(trials, metric), maximize);
}

std::optional<Improvement> improvement(const std::vector<TrialSummary>& trials, std::size_t best,
                                       const std::string& metric) {
  auto imp = stats::improvement(metric_view(trials, metric), best);
  if (!imp) return std::nullopt;
  return Improvement{imp->ratio, imp->lo, imp->hi, imp->n, imp->method};
}

util::Result<store::CampaignRow> resolve_campaign(store::Store& store, const std::string& name) {
  if (!name.empty()) {
    KT_TRY(auto row, store.find_campaign(name));
    if (!row) {
      KT_TRY(auto all, store.campaigns());
      std::vector<std::string> names;
      for (const auto& c : all) names.push_back(c.name);
      return util::fail(fmt::format("no campaign named '{}' in the database{}", name,
                                    names.empty() ? std::string(" (it holds none)")
                                                  : fmt::format(" (it holds: {})", fmt::join(names, ", "))));
    }
    return *row;
  }
  KT_TRY(auto all, store.campaigns());
  if (all.empty()) return util::fail("the database holds no campaign yet (run 'kerntune tune RECIPE' first)");
  if (all.size() > 1) {
    std::vector<std::string> names;
    for (const auto& c : all) names.push_back(c.name);
    return util::fail(fmt::format("the database holds several campaigns; choose one with --campaign ({})", fmt::join(names, ", ")));
  }
  return all.front();
}

}  // namespace kerntune::campaign
