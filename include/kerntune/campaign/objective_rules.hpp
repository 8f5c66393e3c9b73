#pragma once
// The objective rule (docs/objectives.md): no objective whose definition
// contains a tuned knob. A few metrics are known to be computed from values
// that kernel knobs set; tuning such a knob "improves" the metric by moving
// its definition, not the workload. The table lives here, in one place.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kerntune::campaign {

struct Recipe;

/// A metric (by prefix) whose definition contains a knob (by exact name).
struct Redefinition {
  std::string_view metric_prefix;  ///< e.g. "sys.mem_available"
  std::string_view knob;           ///< a parameter name, e.g. "vm.min_free_kbytes"
  std::string_view why;            ///< how the knob enters the metric
};

/// The known pairs (docs/objectives.md, "Metrics a knob redefines").
std::span<const Redefinition> redefinitions();

/// One message per (objective or limit metric, tuned parameter) pair of the
/// recipe that the table lists; empty when the recipe follows the rule.
std::vector<std::string> redefined_metric_warnings(const Recipe& recipe);

}  // namespace kerntune::campaign
