#pragma once
// What a target applied, in the search space's types: parsing the values a
// target reports (kernel text such as "1", "131072\n", "madvise"), comparing
// them with the proposal, and the assignment an optimizer learns from
// (docs/search-spaces.md, "Effective values").
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/space/space.hpp"

namespace kerntune::space {

/// Parses a value a target reported for `p` into p's type. A JSON value of
/// the type itself passes. Text is read as the kernel prints it, surrounding
/// whitespace ignored: bool "1"/"0" (also "true"/"false", and "Y"/"N" as
/// module parameters print them), int in decimal, real, choice/tristate one
/// of p.values (a JSON number for a choice such as 250 is its text). The
/// range is not checked: the kernel may hold a value the space excludes.
/// When the type cannot hold the value: an Error (invalid input) located at
/// p's definition, naming the parameter, its type and the value.
util::Result<Value> parse_reported(const Parameter& p, const nlohmann::json& reported);

/// A parameter whose effective value is not the proposed one.
struct Adjustment {
  enum class How {
    clamped,     ///< written, but the kernel holds another value (clamped, rounded; Kconfig kept another)
    refused,     ///< the kernel refused the write (e.g. EINVAL): the value in force stayed
    unreadable,  ///< the reported value is not of the parameter's type (`reason` says why)
  };
  std::string parameter;
  Value proposed;
  nlohmann::json effective;  ///< typed; the reported text when unreadable; null when unknown
  How how = How::clamped;
  std::string reason;        ///< the kernel's message (refused), the parse error (unreadable)
};
std::string to_string(Adjustment::How how);
/// {"parameter", "proposed", "effective", "how", "reason"} (docs/json-output.md).
nlohmann::json to_json(const Adjustment& a);
/// One line for people, from the JSON form (as stored): "fs.pipe-max-size
/// 100000 → 131072 (clamped)", "vm.swappiness 250 refused, kept 60 (…)".
std::string describe_adjustment(const nlohmann::json& a);

struct Effective {
  /// Every proposed parameter: the effective value when the target reported
  /// one the type holds, else the proposed value.
  Assignment values;
  /// Parameters whose effective value differs from the proposed one (or could
  /// not be read), in space order.
  std::vector<Adjustment> adjusted;
};

/// Compares a proposal with what a target reported. `reported`: name → JSON
/// value or kernel text (names outside the proposal, such as "cmdline", are
/// ignored); `refused`: parameter → the kernel's message for each write it
/// refused (the reported value is then the one that stayed in force).
Effective compare_effective(const Space& space, const Assignment& proposed, const nlohmann::json& reported,
                            const std::map<std::string, std::string>& refused = {});

/// The assignment an optimizer learns for a stored trial: the proposal
/// (`params`, name → value) with each parameter whose `effective` value the
/// type holds replaced by it; a number outside its parameter's range is
/// moved to the nearest end of the range (where the model's domain ends).
/// Effective values stored as kernel text (older stores) parse as well.
/// nullopt when `params` itself is not an assignment of this space.
std::optional<Assignment> learned_assignment(const Space& space, const nlohmann::json& params,
                                             const nlohmann::json& effective);

}  // namespace kerntune::space
