#pragma once
// Metric regexes with named groups on top of std::regex (ECMAScript), which
// has none: `(?<name>…)` is rewritten to a plain capturing group and its
// number remembered; `\k<name>` becomes the numbered back-reference.
// Lookbehind (`(?<=`, `(?<!`) is not ECMAScript and is rejected by std::regex.
#include <optional>
#include <regex>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::workloads {

struct MetricRegex {
  std::string pattern;                          ///< as written by the user
  std::string rewritten;                        ///< what std::regex compiled
  std::regex re;
  std::map<std::string, std::size_t> groups;    ///< group name → capture index
  std::size_t value_group = 0;                  ///< index of (?<value>…)
};

/// Compiles a metric regex. Errors (invalid_input, no location — the loader
/// adds it): syntax errors, a bad or duplicate group name, no (?<value>…) group.
util::Result<MetricRegex> compile_metric_regex(std::string_view pattern);

/// Lines longer than this are searched only in their last part (keeps
/// std::regex's recursive matcher within its stack on runaway output).
inline constexpr std::size_t kMaxSearchedLine = 64 * 1024;

/// The text of the `value` group in the last match of the output (see
/// extract_metrics for the line rules), or nullopt when nothing matches.
std::optional<std::string> last_value_match(const MetricRegex& regex, std::string_view output);

/// Every match in the output, line by line in output order (the same line
/// rules): for each, the text of each named group that took part (name → text).
std::vector<std::map<std::string, std::string>> all_matches(const MetricRegex& regex, std::string_view output);

}  // namespace kerntune::workloads
