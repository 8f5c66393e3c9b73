#pragma once
// One definition, shared by `kerntune best`, `tune`'s closing line, `export`
// (the manifest's evidence) and `report` (the summary card): which trial of a
// campaign is the best for a metric, and how much better than the baseline it
// is, with a 95% interval. It lives here, below campaign/export/report, so
// that every reader computes the same numbers from the same trials.
//
// The trials are plain data (no store types): the callers map their rows.
// Trial kinds are the campaign's: "baseline" (trial 0, the defaults),
// "proposal", and the confirmation phase's interleaved "rebaseline" (the
// defaults again) / "confirm" (a top proposal again) pairs.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace kerntune::stats {

/// One trial as the best-trial rule sees it, for one metric.
struct TrialMetric {
  std::string kind;             ///< baseline | proposal | rebaseline | confirm
  bool ok = false;              ///< the trial succeeded
  std::string config;           ///< identifies the configuration: equal strings = same configuration
  std::vector<double> samples;  ///< the metric's finite repeats, in repeat order (empty: not measured)
};

/// The best trial: among ok baseline/proposal/confirm trials with samples,
/// the one whose median is lowest (highest when `maximize`); the earliest
/// wins a tie. Rebaselines are measurements of the defaults, never
/// candidates. nullopt when no trial qualifies.
std::optional<std::size_t> best_trial(const std::vector<TrialMetric>& trials, bool maximize);

/// Trial `index` (any trial, not only the best) against the baseline:
/// the ratio median(trial side) / median(baseline side) with a percentile
/// bootstrap 95% interval (bootstrap_ratio_ci, 10000 resamples, fixed seed).
///  * paired, when the campaign confirmed this configuration: every ok
///    confirm trial of the same `config` with the ok rebaseline just before it,
///    repeat k with repeat k (at least 3 pairs);
///  * otherwise unpaired: every ok baseline/rebaseline sample against every
///    sample of the ok proposal/confirm trials of the same configuration
///    (trial `index` itself included).
/// With a single value on a side there is a ratio but no interval (lo and hi
/// NaN, method says so). nullopt for a failed trial, a baseline/rebaseline
/// trial (nothing to compare), or a side without samples.
struct Improvement {
  double ratio = 1;
  double lo = 1;
  double hi = 1;
  int n = 0;              ///< values on the smaller side (pairs when paired)
  bool paired = false;
  std::string method;     ///< "paired (interleaved confirmation)" | "unpaired" | "single measurement, no interval"
};
std::optional<Improvement> improvement(const std::vector<TrialMetric>& trials, std::size_t index);

}  // namespace kerntune::stats
