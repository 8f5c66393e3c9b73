#pragma once
// A workload: what runs on the target per repeat and how its metrics are read
// from the output. Files live in recipes/workloads/NAME.yaml.
// Format reference: docs/workloads.md.
//
// Contract with targets (qemu, ssh, lava, command): run every `setup` argv once
// per boot (in order, each bounded by `timeout`), then `warmup` + `repeats`
// runs of `command`, each bounded by `timeout`; the output handed to
// extract_metrics is the repeat's stdout and stderr merged (stress-ng, for one,
// reports on stderr). No argv ever passes through a shell.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::workloads {

struct MetricRegex;  // compiled metric regex (metric_regex.hpp)

struct MetricSpec {
  std::string name;
  /// regex: one value per repeat from the last match; kerntune_metric: the
  /// KERNTUNE_METRIC line; distribution: a percentile of the latency (or any)
  /// distribution the tool prints, one line per point (docs/workloads.md,
  /// "Distribution metrics"): per repeat that repeat's percentile, per trial
  /// the percentile of all repeats' points pooled (pooled_percentile).
  enum class Source { regex, kerntune_metric, distribution };
  Source source = Source::regex;
  std::string regex;                  ///< ECMAScript regex with a named group (?<value>…) — see docs
  /// distribution: the percentile read (0 < percentile <= 100), and whether the
  /// (?<count>…) group is a cumulative count (requests at or below the value,
  /// as HdrHistogram tools print it) or the count of one bucket ending there.
  double percentile = 0;
  bool cumulative = true;
  std::string unit;
  std::string direction = "minimize"; ///< minimize | maximize (a hint for recipes)
  double scale = 1.0;                 ///< multiply the extracted value (unit conversion)
  /// Compiled form of `regex`, filled by load_workload. Null when the spec was
  /// built by hand: extract_metrics then compiles `regex` itself.
  std::shared_ptr<const MetricRegex> compiled;
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

  const MetricSpec* find_metric(std::string_view metric_name) const;
};

/// Loads recipes/workloads/NAME.yaml or a path. `name_or_path` is a path when
/// it contains '/' or ends in .yaml/.yml; otherwise each of `search_dirs` is
/// tried, in order, for NAME.yaml and NAME.yml — in DIR/workloads/ when DIR
/// has such a folder, else in DIR itself (so both "recipes/workloads" and
/// "recipes" work as a search dir, and recipes are never taken for workloads).
/// Every fault in the file is an Error located at FILE:LINE:COL: unknown keys
/// (with did-you-mean), a missing or non-list command, a bad duration, an
/// unknown direction, a regex that does not compile or lacks (?<value>…).
/// A relative path is taken from `base_dir` when given (a recipe's folder)
/// if the file is there or not in the working directory.
util::Result<Workload> load_workload(const std::string& name_or_path,
                                     const std::vector<std::string>& search_dirs,
                                     const std::string& base_dir = {});

/// Parses a workload from YAML text; `file` names it in errors and in Workload::file.
util::Result<Workload> parse_workload(const std::string& text, const std::string& file);

/// Names (file stems) of the workloads found in `search_dirs` (same folder
/// rule as load_workload), sorted, unique.
std::vector<std::string> available_workloads(const std::vector<std::string>& search_dirs);

/// One point of a distribution as a tool prints it: `count` observations
/// (requests) at or below `value`.
struct CdfPoint {
  double value = 0;
  double count = 0;
};
/// A repeat's distribution: points sorted by value, counts non-decreasing
/// (cumulative).
using Distribution = std::vector<CdfPoint>;

/// The p-th percentile (0 < p <= 100) of the observations of all `parts`
/// pooled, as if every repeat's requests were one run: the smallest printed
/// value at which the pooled count is known to reach p% of the total (each
/// part counting its observations at or below its own largest point not above
/// that value). Where a tool prints the percentile itself that is its value;
/// between printed points it is the next point above — never an
/// interpolation between sparse points, which can miss a tail or a mode. A
/// single part gives that part's percentile. nullopt when the parts hold no
/// observation.
std::optional<double> pooled_percentile(std::span<const Distribution> parts, double p);

/// The distribution a `distribution` metric reads from one repeat's output:
/// every match of its regex, in every line, as (value × scale, count); bucket
/// counts (cumulative: false) are summed into cumulative ones. An Error when
/// nothing matches or a count is not a non-negative number, or a cumulative
/// count falls as the value rises (not a distribution).
util::Result<Distribution> extract_distribution(const MetricSpec& metric, std::string_view output,
                                                const std::string& workload_name);

/// Extracts every metric of the workload from one repeat's output (stdout and
/// stderr merged). A regex metric takes the LAST match in the output: the
/// output is split into lines at '\n' and '\r' (progress lines that end in '\r'
/// count as lines), the regex is searched in each line, and the last match of
/// the last matching line wins; its (?<value>…) text is parsed by
/// parse_number and multiplied by `scale`. A kerntune_metric metric takes the
/// last `KERNTUNE_METRIC <name> <value>` line for its name. A distribution
/// metric gives this repeat's percentile (extract_distribution, then
/// pooled_percentile of the one part).
/// A metric missing from the output, or whose captured text is not a number,
/// is an Error naming it and showing the last lines of the output (the trial
/// fails at `parse`).
util::Result<std::map<std::string, double>> extract_metrics(const Workload& workload,
                                                            std::string_view output);

/// The grammar of a metric name, wherever it is defined or reported (a
/// workload file, a recipe objective, a KERNTUNE_METRIC line): 1–128 of
/// [A-Za-z0-9_.-]. So a name is safe in JSON, HTML, a terminal and a file name.
bool valid_metric_name(std::string_view name);

/// Reads `KERNTUNE_METRIC <name> <value> [unit]` lines (the command target's protocol).
/// Returns name → (value, unit); later lines with the same name win.
/// Tokens are separated by any run of spaces/tabs; leading whitespace and a
/// trailing '\r' are ignored; the marker must be the line's first token. A line
/// whose value parse_number rejects (e.g. "nan", "12abc") or whose name is not
/// a valid_metric_name (e.g. invalid UTF-8, an escape sequence) is not recorded.
/// Unit: the rest of the line after the value (trimmed; may be empty), as
/// util::printable text (invalid UTF-8 → U+FFFD, control characters escaped).
std::map<std::string, std::pair<double, std::string>> parse_metric_lines(std::string_view output);

/// Parses a number as tools print it: optional sign, digits, optional
/// fraction and exponent ("1.5e+10"), and thousands separators only in their
/// proper place ("1,234,567.5" → 1234567.5; "1,23" is rejected, since it may be
/// a decimal comma). Surrounding whitespace is ignored; nan/inf are rejected.
util::Result<double> parse_number(std::string_view text);

}  // namespace kerntune::workloads
