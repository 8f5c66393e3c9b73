#pragma once
// A workload: what runs on the target per repeat and how its metrics are read
// from the output. Files live in recipes/workloads/NAME.yaml.
// Format reference: docs/workloads.md.
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::workloads {

struct MetricSpec {
  std::string name;
  enum class Source { regex, kerntune_metric };
  Source source = Source::regex;
  std::string regex;                  ///< ECMAScript regex with a named group (?<value>…) — see docs
  std::string unit;
  std::string direction = "minimize"; ///< minimize | maximize (a hint for recipes)
  double scale = 1.0;                 ///< multiply the extracted value (unit conversion)
};

struct Workload {
  std::string name;
  std::string file;
  std::string description;
  std::vector<std::string> binaries;               ///< host programs to ship into a guest (+ their libraries)
  std::vector<std::string> modules;                ///< kernel modules to load in a guest
  std::vector<std::vector<std::string>> setup;     ///< argv lists run once per boot, before repeats
  std::vector<std::string> command;                ///< argv run per repeat (no shell)
  int repeats = 5;
  int warmup = 1;
  std::chrono::milliseconds timeout{60000};        ///< per repeat
  std::vector<MetricSpec> metrics;
};

/// Loads recipes/workloads/NAME.yaml (searched in `search_dirs`) or a path.
util::Result<Workload> load_workload(const std::string& name_or_path,
                                     const std::vector<std::string>& search_dirs);

/// Extracts every metric of the workload from one repeat's output. A metric
/// missing from the output is an Error naming it (the trial fails at `parse`).
util::Result<std::map<std::string, double>> extract_metrics(const Workload& workload,
                                                            std::string_view output);

/// Reads `KERNTUNE_METRIC <name> <value> [unit]` lines (the command target's protocol).
/// Returns name → (value, unit); later lines with the same name win.
std::map<std::string, std::pair<double, std::string>> parse_metric_lines(std::string_view output);

}  // namespace kerntune::workloads
