#pragma once
// What the optimizer is told about a stored trial (its replay on resume, each
// new trial, a warm start's mapped prior trials). docs/recipes.md, "Resume".
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/results/view.hpp"

namespace kerntune::campaign {

/// The optimizer's view of a stored trial: its point is the applied
/// assignment (the typed effective values, else the proposed ones); objective
/// values are medians over repeats (negated when maximized), each metric
/// divided by its own factor in `drift` (drift_factors; a metric not in it is
/// not corrected). nullopt when the trial's assignment is not one of
/// `recipe.space` (a value outside a narrowed range, a parameter the space
/// lacks: a campaign resumed with --allow-recipe-change): such a trial is
/// never encoded as another point (the defaults or any other).
/// `baseline`: each metric's baseline level (baseline_levels) for limits
/// relative to the baseline; such a constraint is NaN (infeasible, not
/// modeled) before any baseline of its metric was measured.
std::optional<bo::Observation> observation(const Recipe& recipe, const results::Trial& t,
                                           const std::map<std::string, double>& drift,
                                           const std::map<std::string, double>& baseline = {});

/// The one warning for stored trials that observation() could not place in
/// the space, naming their seqs (the first 20 of them).
std::string unplaced_trials_warning(const std::vector<int>& seqs);

/// The `--verbose` line of what the optimizer was told: the values exactly as
/// told (minimized; constraints satisfied when <= 0), then each metric's
/// measured median and the drift it was divided by.
std::string describe_observation(const Recipe& recipe, const results::Trial& t, const bo::Observation& o,
                                 const std::map<std::string, double>& drift);

}  // namespace kerntune::campaign
