#pragma once
// The statistical regression gate: baseline A and candidate B run interleaved
// (A B B A A B B A …, one measured repeat per run) on a recipe's target and
// workload; the per-pair ratios B/A give a bootstrap 95% interval (median of
// pair ratios, stats::bootstrap_pair_ratio_ci) and a Wilcoxon signed-rank
// test; the decision is direction-aware:
//   regression    (exit 1) the whole interval is worse than the allowed
//                          regression (minimize: lo > 1 + max; maximize: hi < 1 − max)
//   pass          (exit 0) the whole interval is within the allowance
//   inconclusive  (exit 3) neither: with stats::required_repeats' estimate
//   error         (exit 2) a run failed or the input is unusable
// Method and examples: docs/gate.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::gate {

/// One side of the comparison: an assignment of the recipe's space and,
/// optionally, a kernel image that replaces the target's own.
struct Side {
  std::string label;            ///< "default", "bundle NAME", "trial 12", "kernel PATH"
  space::Assignment assignment;
  std::string kernel;           ///< empty: the target's kernel
  /// `default` with a recipe's `baseline: target`: the target measured as it
  /// runs, nothing written (TrialRequest::read_current).
  bool as_is = false;
};

/// `default` | a bundle (folder or .tar.gz with a verified manifest) |
/// a kernel image file | a trial seq of a campaign in `db` (only when
/// `allow_trial`). `scratch` receives unpacked archives. Bad input is
/// invalid_input (a tampered bundle included).
struct SideContext {
  std::string db;
  std::string campaign;
  std::string scratch;
  bool allow_trial = false;
};
util::Result<Side> resolve_side(const campaign::Recipe& recipe, const std::string& spec, const SideContext& ctx);

/// A JSON object of parameter values (a bundle's, a trial's) as a valid
/// assignment of `space`: unknown names are ignored, missing ones take their
/// defaults, inactive ones are dropped; types/ranges/constraints checked.
util::Result<space::Assignment> assignment_from_values(const space::Space& space, const nlohmann::json& values);

struct GateOptions {
  int repeats = 10;              ///< measured runs per side (pairs)
  double max_regression = 0.02;  ///< allowed relative regression (0.02 = 2%)
  std::string metric;            ///< default: the recipe's first objective
  int warmup = -1;               ///< warm-up repeats per run (-1: recipe/workload setting)
  double level = 0.95;
  std::uint64_t seed = 0;        ///< bootstrap seed
  std::string work_dir;          ///< target scratch; default: a temporary folder removed afterwards
};

enum class Decision { pass = 0, regression = 1, error = 2, inconclusive = 3 };
std::string to_string(Decision d);

struct GateResult {
  Decision decision = Decision::error;
  std::string metric;
  bool maximize = false;
  double max_regression = 0.02;
  std::string baseline_label, candidate_label;
  std::vector<double> a, b;      ///< per-pair values (same index = same round)
  std::optional<stats::RatioCI> ci;
  std::optional<stats::TestResult> test;
  std::optional<stats::RepeatsEstimate> needed;  ///< inconclusive: what would settle it
  std::string message;           ///< one paragraph: why this decision
  double seconds = 0;
  std::string unit;
  /// "REGRESSION: y ratio 1.083 [1.041, 1.127] …"
  std::string brief() const;
  nlohmann::json to_json() const;
};

/// The decision from per-pair measurements alone (no I/O; deterministic for
/// a given seed). Fewer than 3 pairs or unusable values → error.
GateResult decide(const std::vector<double>& a, const std::vector<double>& b, bool maximize,
                  const GateOptions& options);

/// Runs the interleaved comparison on the recipe's target. Error (Result)
/// only for infrastructure failures; a failed run is a result with decision
/// error naming the side, stage and reason.
util::Result<GateResult> run_gate(const campaign::Recipe& recipe, const Side& baseline, const Side& candidate,
                                  const GateOptions& options);

/// JUnit XML (one testsuite, one testcase; <failure> for a regression,
/// <error> for an error, <skipped> for inconclusive) and a Markdown summary
/// (for $GITHUB_STEP_SUMMARY and GitLab job artifacts).
std::string junit_xml(const GateResult& r);
std::string markdown_summary(const GateResult& r);

}  // namespace kerntune::gate
