// The best trial of a campaign and its improvement over the baseline
// (include/kerntune/stats/best.hpp): the one definition every reader uses.
#include "kerntune/stats/best.hpp"

#include <cmath>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {

std::optional<std::size_t> best_trial(const std::vector<TrialMetric>& trials, bool maximize) {
  std::optional<std::size_t> best;
  double best_median = 0;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    if (!t.ok || t.samples.empty()) continue;
    if (t.kind != "baseline" && t.kind != "proposal" && t.kind != "confirm") continue;
    double m = median(t.samples);
    if (!best || (maximize ? m > best_median : m < best_median)) {
      best = i;
      best_median = m;
    }
  }
  return best;
}

std::optional<Improvement> improvement(const std::vector<TrialMetric>& trials, std::size_t index) {
  if (index >= trials.size()) return std::nullopt;
  const TrialMetric& cand = trials[index];
  if (!cand.ok || cand.kind == "baseline" || cand.kind == "rebaseline") return std::nullopt;
  std::vector<double> a, b;
  // Paired: each confirm trial of this configuration with the rebaseline just before it.
  for (std::size_t i = 1; i < trials.size(); ++i) {
    const auto& t = trials[i];
    const auto& prev = trials[i - 1];
    if (t.kind != "confirm" || !t.ok || t.config != cand.config) continue;
    if (prev.kind != "rebaseline" || !prev.ok) continue;
    std::size_t n = std::min(t.samples.size(), prev.samples.size());
    for (std::size_t k = 0; k < n; ++k) {
      a.push_back(prev.samples[k]);
      b.push_back(t.samples[k]);
    }
  }
  Improvement imp;
  imp.paired = a.size() >= 3;
  if (imp.paired) {
    imp.method = "paired (interleaved confirmation)";
  } else {
    a.clear();
    b.clear();
    for (const auto& t : trials) {
      if (!t.ok) continue;
      bool base = t.kind == "baseline" || t.kind == "rebaseline";
      if (base) a.insert(a.end(), t.samples.begin(), t.samples.end());
      else if (t.config == cand.config) b.insert(b.end(), t.samples.begin(), t.samples.end());
    }
    imp.method = "unpaired";
  }
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() < 2 || b.size() < 2) {
    // One measurement on a side: a ratio, but no interval to speak of.
    imp.ratio = median(b) / median(a);
    imp.lo = imp.hi = std::nan("");
    imp.n = 1;
    imp.method = "single measurement, no interval";
    return imp;
  }
  auto ci = bootstrap_ratio_ci(a, b, imp.paired, 0.95, 10000, 12345);
  if (!ci) return std::nullopt;
  imp.ratio = ci->ratio;
  imp.lo = ci->lo;
  imp.hi = ci->hi;
  imp.n = static_cast<int>(std::min(a.size(), b.size()));
  return imp;
}

}  // namespace kerntune::stats
