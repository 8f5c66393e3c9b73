#include "kerntune/campaign/results.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

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
  return j;
}

std::optional<std::size_t> best_index(const std::vector<TrialSummary>& trials, const std::string& metric,
                                      bool maximize) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    if (t.status != "ok" || t.kind == "rebaseline") continue;
    auto it = t.metrics.find(metric);
    if (it == t.metrics.end()) continue;
    if (!best) { best = i; continue; }
    double b = trials[*best].metrics.at(metric);
    if (maximize ? it->second > b : it->second < b) best = i;
  }
  return best;
}

std::optional<Improvement> improvement(const std::vector<TrialSummary>& trials, std::size_t best,
                                       const std::string& metric) {
  const TrialSummary& cand = trials.at(best);
  std::string key = cand.params.dump();
  std::vector<double> a, b;
  // Paired: each confirm trial of this configuration with the rebaseline just before it.
  for (std::size_t i = 1; i < trials.size(); ++i) {
    const auto& t = trials[i];
    const auto& prev = trials[i - 1];
    if (t.kind != "confirm" || t.status != "ok" || t.params.dump() != key) continue;
    if (prev.kind != "rebaseline" || prev.status != "ok") continue;
    auto ti = t.samples.find(metric);
    auto pi = prev.samples.find(metric);
    if (ti == t.samples.end() || pi == prev.samples.end()) continue;
    std::size_t n = std::min(ti->second.size(), pi->second.size());
    for (std::size_t k = 0; k < n; ++k) {
      a.push_back(pi->second[k]);
      b.push_back(ti->second[k]);
    }
  }
  Improvement imp;
  if (a.size() >= 3) {
    imp.method = "paired (interleaved confirmation)";
  } else {
    a.clear();
    b.clear();
    for (const auto& t : trials) {
      if ((t.kind != "baseline" && t.kind != "rebaseline") || t.status != "ok") continue;
      if (auto it = t.samples.find(metric); it != t.samples.end()) a.insert(a.end(), it->second.begin(), it->second.end());
    }
    for (const auto& t : trials) {
      if (t.status != "ok" || t.params.dump() != key || t.kind == "rebaseline" || t.kind == "baseline") continue;
      if (auto it = t.samples.find(metric); it != t.samples.end()) b.insert(b.end(), it->second.begin(), it->second.end());
    }
    if (cand.kind == "baseline") return std::nullopt;
    imp.method = "unpaired";
  }
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() < 2 || b.size() < 2) {
    // One measurement a side: a ratio, but no interval to speak of.
    imp.ratio = stats::median(b) / stats::median(a);
    imp.lo = imp.hi = std::nan("");
    imp.n = 1;
    imp.method = "single measurement, no interval";
    return imp;
  }
  bool paired = imp.method != "unpaired";
  auto ci = stats::bootstrap_ratio_ci(a, b, paired, 0.95, 10000, 12345);
  if (!ci) return std::nullopt;
  imp.ratio = ci->ratio;
  imp.lo = ci->lo;
  imp.hi = ci->hi;
  imp.n = static_cast<int>(std::min(a.size(), b.size()));
  return imp;
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
