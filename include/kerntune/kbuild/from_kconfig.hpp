#pragma once
// `kerntune space from-kconfig`: search-space YAML for Kconfig symbols or for
// every settable symbol of a menu (docs/kconfig.md).
//
// * type: bool → bool, tristate → tristate, int/hex → int with the active
//   `range` (symbols without a range are skipped with a warning), a choice →
//   `choice` whose values are its members' symbol names. A choice is named by
//   its own name, else by its members' common prefix + "_CHOICE" (HZ_CHOICE,
//   PREEMPT_CHOICE).
// * default: the value Kconfig gives the symbol when the user sets nothing,
//   evaluated against the base configuration (no base: Kconfig's own
//   defaults, as `make alldefconfig`).
// * when: the prompt's visibility (its `depends on`, enclosing if/menu) with
//   every symbol that is not tuned replaced by its base value, and tuned
//   symbols written in space syntax (`TCP_CONG_ADVANCED == true`,
//   `HZ_CHOICE == HZ_1000`, `FOO != n`).
// Symbols that are not settable under the base (prompt invisible), string
// symbols and compiler-probe symbols are skipped with a warning.
#include <string>
#include <vector>

#include "kerntune/kbuild/kconfig.hpp"
#include "kerntune/kbuild/kconfig_eval.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

struct FromKconfigOptions {
  std::vector<std::string> symbols;  ///< symbols (a choice member stands for its choice)
  std::string menu;                  ///< or: a menu title ("Processor type and features")
  std::string header;                ///< comment lines written at the top
};

struct GeneratedParameter {
  std::string name;
  std::string type;                  ///< bool, tristate, int, choice
  std::vector<std::string> values;   ///< choice members
  long long lo = 0, hi = 0;          ///< int range
  std::string default_text;          ///< true/false, n/m/y, 250, HZ_250
  std::string when;                  ///< empty: always active
  std::string description;
};

struct GeneratedSpace {
  std::vector<GeneratedParameter> parameters;
  std::vector<std::string> warnings;
  std::string yaml() const;
  std::string header;
};

/// Errors (invalid_input): an unknown symbol (with a did-you-mean), an unknown
/// menu title, neither symbols nor menu given, nothing tunable selected.
util::Result<GeneratedSpace> space_from_kconfig(KconfigEval& base, const FromKconfigOptions& options);

/// The parameter name of a choice group (see above).
std::string choice_parameter_name(const KconfigTree& tree, int choice);

}  // namespace kerntune::kbuild
