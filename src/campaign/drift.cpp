#include "kerntune/campaign/drift.hpp"

#include <cmath>
#include <optional>

#include "kerntune/stats/stats.hpp"

namespace kerntune::campaign {
namespace {

bool is_baseline_measurement(const results::Trial& t) {
  return results::measures_defaults(t.kind) && t.ok;
}

/// The metric's own drift before `seq` (1 when it cannot be computed).
double own_drift(const std::vector<results::Trial>& trials, const std::string& metric, int seq) {
  // (seq, value) of the first and of the latest baseline measurement below seq.
  std::optional<std::pair<int, double>> first, latest;
  for (const auto& t : trials) {
    if (t.seq >= seq || !is_baseline_measurement(t)) continue;
    auto it = t.metrics.find(metric);
    if (it == t.metrics.end()) continue;
    if (!first || t.seq < first->first) first = {t.seq, it->second};
    if (!latest || t.seq > latest->first) latest = {t.seq, it->second};
  }
  if (!first || first->second == 0) return 1.0;
  double ratio = latest->second / first->second;
  return std::isfinite(ratio) && ratio > 0 ? ratio : 1.0;
}

}  // namespace

std::map<std::string, double> drift_factors(const Recipe& recipe, const std::vector<results::Trial>& trials, int seq) {
  std::map<std::string, double> out;
  for (const auto& o : recipe.objectives) {
    bool correct = recipe.baseline_every > 0 && o.drift == Objective::Drift::correct;
    out[o.metric] = correct ? own_drift(trials, o.metric, seq) : 1.0;
  }
  return out;
}

std::map<std::string, double> baseline_levels(const Recipe& recipe, const std::vector<results::Trial>& trials, int seq) {
  std::map<std::string, double> out;
  for (const auto& o : recipe.objectives) {
    if (!o.limit_relative) continue;
    std::vector<double> v;
    for (const auto& t : trials) {
      if (t.seq > seq || !is_baseline_measurement(t)) continue;
      if (auto it = t.metrics.find(o.metric); it != t.metrics.end()) v.push_back(it->second);
    }
    if (!v.empty()) out[o.metric] = stats::median(v);
  }
  return out;
}

}  // namespace kerntune::campaign
