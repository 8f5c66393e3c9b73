#include "kerntune/campaign/observe.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kerntune/space/effective.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::campaign {
namespace {

/// The constraint value told to the optimizer (satisfied when <= 0): the
/// distance of `med` to the limit's bound; NaN for a relative limit before any
/// baseline of the metric was measured.
double constraint_value(const Objective& obj, double med, const std::map<std::string, double>& baseline) {
  double bound = obj.limit;
  if (obj.limit_relative) {
    auto it = baseline.find(obj.metric);
    if (it == baseline.end() || !(it->second > 0)) return std::nan("");
    bound = obj.limit * it->second;
  }
  return obj.limit_op == "<=" ? med - bound : bound - med;
}

}  // namespace

std::optional<bo::Observation> observation(const Recipe& recipe, const results::Trial& t,
                                           const std::map<std::string, double>& drift,
                                           const std::map<std::string, double>& baseline) {
  // Learn from what was applied (typed, docs/search-spaces.md "Effective values"), else what was proposed.
  auto a = space::learned_assignment(recipe.space, t.params, t.effective);
  if (!a) return std::nullopt;
  bo::Observation o;
  o.x = recipe.space.encode(*a);
  o.ok = t.ok;
  if (!o.ok) return o;
  for (const auto& obj : recipe.objectives) {
    auto it = t.samples.find(obj.metric);
    if (it == t.samples.end() || it->second.empty()) {
      o.ok = false;  // an ok trial without the metric cannot be learned from as a value
      return o;
    }
    const auto& v = it->second;
    const double f = drift.contains(obj.metric) ? drift.at(obj.metric) : 1.0;
    // The trial's value: the median of its repeats, or a distribution metric's pooled percentile.
    auto summary = t.metrics.find(obj.metric);
    double med = (summary != t.metrics.end() ? summary->second : stats::median(v)) / f;
    double var = v.size() >= 2 ? stats::variance(v) / static_cast<double>(v.size()) / (f * f) : std::nan("");
    if (obj.is_objective) {
      o.objectives.push_back(obj.maximize ? -med : med);
      o.noise_var.push_back(var);
    }
    if (!obj.limit_op.empty()) o.constraints.push_back(constraint_value(obj, med, baseline));
  }
  return o;
}

std::string unplaced_trials_warning(const std::vector<int>& seqs) {
  std::vector<int> shown(seqs.begin(), seqs.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(seqs.size(), 20)));
  return fmt::format("{} stored trial(s) (seq {}{}) have an assignment that is not a point of this recipe's search space "
                     "(a value outside a range, an unknown or missing parameter: was the space changed with "
                     "--allow-recipe-change?); the optimizer does not learn from them",
                     seqs.size(), fmt::join(shown, ", "), seqs.size() > shown.size() ? ", …" : "");
}

std::string describe_observation(const Recipe& recipe, const results::Trial& t, const bo::Observation& o,
                                 const std::map<std::string, double>& drift) {
  if (!o.ok) return "failed";
  std::vector<std::string> metrics;
  for (const auto& obj : recipe.objectives) {
    const double f = drift.contains(obj.metric) ? drift.at(obj.metric) : 1.0;
    std::string how = obj.drift == Objective::Drift::none ? "(drift: none)" : fmt::format("/ drift {:.6g}", f);
    metrics.push_back(fmt::format("{} {:.6g} {}", obj.metric, t.metrics.at(obj.metric), how));
  }
  return fmt::format("objectives [{:.6g}], constraints [{:.6g}]; {}", fmt::join(o.objectives, ", "),
                     fmt::join(o.constraints, ", "), fmt::join(metrics, ", "));
}

}  // namespace kerntune::campaign
