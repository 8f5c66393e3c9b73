#pragma once
// Internal to the campaign module: the baseline assignment of a campaign —
// the search space's defaults, or with `baseline: target` the values trial 0
// read back from the running system (docs/recipes.md, "Baseline").
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::campaign::detail {

/// Parameters whose current value the target must report: with the command
/// target every active one; with a kernel target the sysctl and sysfs knobs
/// (boot parameters, Kconfig symbols and generic parameters keep the defaults).
std::vector<std::string> readable_parameters(const space::Space& space, const space::Assignment& defaults,
                                             bool command_target);

/// The defaults with every readable parameter replaced by the target's report
/// (`effective`: name → value or its text, "60", "madvise", "1"), parsed to
/// the parameter's type. Error (invalid_input, located at the recipe's
/// `baseline:`) when a value is missing, does not parse, or lies outside the
/// parameter's range or values — the optimizer's space must hold the
/// baseline, so the message says how to widen it with `override:`. A value
/// outside a safe_range is accepted (the system runs it already) and named in
/// `warnings`.
util::Result<space::Assignment> baseline_from_target(const Recipe& recipe, const nlohmann::json& effective,
                                                     bool command_target, std::vector<std::string>& warnings);

}  // namespace kerntune::campaign::detail
