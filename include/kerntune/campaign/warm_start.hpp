#pragma once
// Warm start (recipe `warm_start:`): the trials of an earlier campaign,
// re-expressed in this recipe's search space by name, as prior knowledge for
// the optimizer. A prior trial that the new space cannot represent exactly is
// dropped with a reason, never moved to another point (docs/recipes.md,
// "Warm start").
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::campaign {

/// Why one prior trial is not used.
struct DroppedTrial {
  enum class Why {
    not_in_space,   ///< a parameter this space lacks, set to a value other than its default
    invalid_value,  ///< a value outside this space's range or values, or of another type
    inactive_here,  ///< inactive in this space (its `when:`) but set to a value other than its default
    constraint,     ///< the mapped point breaks a constraint of this space
  };
  int seq = 0;
  Why why = Why::invalid_value;
  std::string parameter;  ///< empty for `constraint`
  std::string detail;     ///< e.g. "'x' = -7.5 is outside its range [-5, 10]"
};

struct WarmStartMapping {
  /// Used prior trials, re-expressed in the new space: `params` is the mapped
  /// assignment (valid in the new space), `effective` is empty (the values
  /// applied in the prior run were already taken into the mapping).
  std::vector<results::Trial> used;
  std::vector<DroppedTrial> dropped;
  int without_value = 0;  ///< failed, or ok without a value of every objective metric
  /// Parameters of the new space that the prior campaign did not have: its
  /// trials are taken at their defaults (the rule in docs/recipes.md).
  std::vector<std::string> defaulted;

  /// One line for the log and the campaign's events: counts, and the
  /// parameters that did not fit.
  std::string summary(const std::string& prior_campaign, const std::string& db) const;
};

/// Maps prior trials (those of kind baseline/proposal) into `space`. The rule:
/// a parameter that a campaign does not set stays at its default, so
/// * a new-space parameter the prior trial does not set (not in the prior
///   space, or inactive in that trial) is taken at its default here;
/// * a value set by the prior trial must be of the right type and inside the
///   new range (never clamped), and a parameter the new campaign would not
///   set (absent from this space, or inactive here) must have been at its
///   default — else the trial is dropped;
/// * the mapped point must satisfy this space's constraints.
/// `prior_parameters` is the prior campaign's metadata "parameters" list
/// (name, default, …); `metrics` the objective metrics a used trial must have.
/// The value a trial applied (its effective value) is used when it parses as
/// the new parameter's type, else the proposed one.
WarmStartMapping map_prior_trials(const space::Space& space, const nlohmann::json& prior_parameters,
                                  const std::vector<results::Trial>& prior_trials, const std::vector<std::string>& metrics);

/// Refuses a prior campaign that did not measure an optimized metric of
/// `recipe` as one of its objectives, or optimized it the other way.
/// `prior_objectives`: the prior campaign's, as its read model has them
/// (results::CampaignView::objectives). The error is located at the recipe's
/// `warm_start:` key. Precondition: recipe.warm_start.
util::Status check_prior_objectives(const Recipe& recipe, const std::string& prior_campaign,
                                    const std::vector<results::Objective>& prior_objectives);

}  // namespace kerntune::campaign
