#pragma once
// Drift correction (recipe `noise.baseline_every`, objective key `drift:`):
// how much each metric of the baseline configuration has moved since the
// first baseline, so that a slow phase of the host is not mistaken for a bad
// configuration. docs/recipes.md, "Drift correction".
#include <map>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/results/view.hpp"

namespace kerntune::campaign {

/// Metric name → the factor that the trial with sequence number `seq` is
/// divided by before the optimizer sees it, for every metric of
/// `recipe.objectives`. A metric with `drift: auto` is corrected by its OWN
/// drift: its median in the latest ok baseline/rebaseline with a seq below
/// `seq`, over its median in the first such trial that measured it. The
/// factor is 1 for `drift: none`, without `noise.baseline_every`, before a
/// second baseline measurement, and when the ratio is not positive and finite
/// (a multiplicative drift means nothing for a metric that crosses zero).
/// Only trials in `trials` count (with several workers, a re-baseline still
/// running when a trial is recorded is not known yet).
std::map<std::string, double> drift_factors(const Recipe& recipe, const std::vector<results::Trial>& trials, int seq);

/// Metric name → the baseline a relative limit (`limit: ">= 95% baseline"`)
/// of the trial with sequence number `seq` is judged against in the search:
/// the median of the metric over the ok baseline/rebaseline trials with a seq
/// at or below `seq` (the baseline trial judges itself). Only metrics with a
/// relative limit that such a trial measured are present.
std::map<std::string, double> baseline_levels(const Recipe& recipe, const std::vector<results::Trial>& trials, int seq);

}  // namespace kerntune::campaign
