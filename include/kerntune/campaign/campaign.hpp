#pragma once
// The campaign loop: baseline, then ask → realize → run → record → tell until
// the budget is spent; resume from the store; stop cleanly on SIGINT/SIGTERM.
#include <functional>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/campaign/trial_runner.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/clock.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/util/stop_token.hpp"

namespace kerntune::campaign {

struct TuneOptions {
  std::optional<int> trials;      ///< overrides the recipe's budget.trials
  std::string campaign_name;      ///< overrides the recipe's name
  std::string work_dir;           ///< scratch; default: <db folder>/.kerntune-work/<campaign>
  bool allow_recipe_change = false;
  enum class Progress { auto_detect, tty, lines, quiet };
  Progress progress = Progress::auto_detect;
  bool verbose = false;
};

/// The campaign's side effects an in-process caller may replace (the campaign
/// test suite runs the real loop with a fake target, clock and stop token).
/// Every default is the real one; what is given must outlive tune().
struct TuneEnvironment {
  using MakeTarget = campaign::MakeTarget;  // trial_runner.hpp
  /// Stored start/finish times, trial and optimizer seconds, the progress ETA.
  const util::Clock* clock = nullptr;  ///< null: util::real_clock()
  /// Polled between trials and stages; null: the SIGINT/SIGTERM flag
  /// (util::signal_stop(), whose handlers tune() installs).
  util::StopToken* stop = nullptr;
  /// Makes worker ctx.worker_index's target (the trial runner's kernel stage
  /// still wraps it); empty: from the recipe's `target:` and `executor:`.
  MakeTarget make_target;
};

struct TuneSummary {
  std::int64_t campaign_id = 0;
  std::string campaign;
  int trials_total = 0;       ///< counted toward the budget (baseline + proposals)
  int trials_run_now = 0;     ///< executed in this invocation
  int trials_failed = 0;
  bool stopped = false;       ///< interrupted by a signal
  bool finished = false;      ///< budget reached
};

/// What a campaign stores as its metadata_json (export, report and gate read
/// it without the recipe file): kerntune_version, parameters (name, domain,
/// type, default, range/values, when), objectives (metric, direction, limit),
/// target kind, workload, defaults (the baseline assignment). Later steps add
/// keys (e.g. kernel provenance); readers ignore keys they do not know.
nlohmann::json campaign_metadata(const Recipe& recipe, const std::string& target_kind);

/// Runs (or resumes) the campaign a recipe describes, storing every trial.
util::Result<TuneSummary> tune(const Recipe& recipe, store::Store& store, const TuneOptions& options,
                               const TuneEnvironment& env = {});

}  // namespace kerntune::campaign
