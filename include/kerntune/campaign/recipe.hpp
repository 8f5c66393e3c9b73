#pragma once
// A recipe is a whole campaign: parameters (inline or from search-space
// files), target, workload, objectives, budget, optimizer, noise control.
// Format reference: docs/recipes.md.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/kbuild/builder.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {

struct Objective {
  std::string metric;
  bool maximize = false;
  /// Outcome constraint instead of (or beside) an objective: "<=" or ">=" with a threshold.
  std::string limit_op;   ///< empty: none
  double limit = 0;       ///< the bound; with limit_relative, a fraction of the baseline (0.95)
  /// `limit: ">= 95% baseline"`: judged against the campaign's baseline
  /// measurements (docs/recipes.md, "Limits relative to the baseline").
  bool limit_relative = false;
  /// The limit as the store and a worker's recipe hold it: ">= 1120", ">= 95% baseline".
  std::string limit_text() const;
  bool is_objective = true;  ///< false: constraint only (no direction given)
  /// With `noise.baseline_every`: divide this metric by its own drift (the
  /// latest earlier baseline over the first) before the optimizer sees it, or
  /// not at all. Recipe key `drift: auto|none`; default auto for an entry with
  /// a direction, none for a limit-only entry (docs/recipes.md, "Drift").
  enum class Drift { correct, none };
  Drift drift = Drift::correct;
};

/// `warm_start: {db, campaign}`; file/line/column locate the key for errors
/// found when the prior campaign is read (docs/recipes.md, "Warm start").
struct WarmStart {
  std::string db;
  std::string campaign;
  std::string file;
  int line = 0;
  int column = 0;
};

/// Where trials run (recipe `executor:`). local: on this machine (default);
/// slurm: each trial is a Slurm batch job (docs/workers.md).
struct ExecutorSpec {
  std::string kind = "local";              ///< local | slurm
  std::string partition;                   ///< slurm: sbatch --partition (empty: the default one)
  std::vector<std::string> sbatch_args;    ///< slurm: extra sbatch arguments, one argv element each
  std::chrono::milliseconds poll{1000};    ///< slurm: how often a job's state is read
  std::chrono::milliseconds job_timeout{std::chrono::hours(2)};  ///< slurm: queue + run limit of one trial
  std::string shared_dir;                  ///< slurm: job folders (must be visible to the nodes); "" = the work folder
};

struct Recipe {
  std::string file;        ///< absolute path
  std::string dir;         ///< folder of the recipe (relative paths resolve here)
  std::string text;        ///< the recipe's bytes (stored with the campaign)
  std::string hash;        ///< sha256 of text
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  space::Space space;
  /// `target:` parsed with the recipe (targets::parse_target: kind and typed
  /// options, paths resolved and checked); the trial runner makes each
  /// worker's target from it without reading YAML again.
  targets::TargetSpec target_spec;
  /// The same mapping as written: its portable form, which the Slurm
  /// executor copies into a job's one-trial recipe.
  YAML::Node target;
  /// `kernel_source:` of a Kconfig campaign, parsed with the recipe (paths
  /// resolved, base and fragments checked); nullopt without one.
  std::optional<kbuild::BuilderConfig> kernel_build;
  /// The same mapping as written: its portable form, which the Slurm
  /// executor copies into a job's one-trial recipe (null without one).
  YAML::Node kernel_source;
  std::string workload;    ///< workload name or path ("" for the command target)
  int repeats = -1;        ///< -1: the workload's own
  int warmup = -1;
  std::vector<Objective> objectives;
  int budget_trials = 0;
  bo::Options::Kind optimizer = bo::Options::Kind::bo;
  int initial_trials = 0;  ///< optimizer n_initial (0 = automatic)
  bo::Options::TrustRegion trust_region = bo::Options::TrustRegion::automatic;  ///< optimizer.trust_region
  /// Several objectives: EHVI (default) or ParEGO (docs/recipes.md, `optimizer`).
  bo::Options::MultiObjective multi_objective = bo::Options::MultiObjective::ehvi;
  /// optimizer.cost_aware (docs/bo.md §16): weigh each proposal's
  /// acquisition by what it costs (a reboot, a build) against staying on the
  /// target's current boot. auto: on with kind bo when the space mixes
  /// run-time parameters with boot parameters or Kconfig symbols.
  enum class CostAware { automatic, on, off };
  CostAware cost_aware = CostAware::automatic;
  int baseline_every = 0;  ///< re-measure the baseline every K trials (0 = never)
  int confirm_top = 0;     ///< confirm the best K candidates against the baseline at the end
  int confirm_rounds = 0;  ///< ABAB rounds per confirmed candidate
  /// When every confirmed candidate broke a limit on its confirmation runs:
  /// how many more to confirm, each the one `best` would then recommend.
  int confirm_fallback = 2;
  bool confirm_by_default = false;  ///< confirm_top/rounds came from the kernel-target default
  /// `noise.early_stop`: a proposal whose first repeats are clearly worse than
  /// the incumbent stops (stats::early_stop); baselines and confirmation
  /// runs always run every repeat. Off by default (docs/recipes.md).
  struct EarlyStop {
    bool on = false;
    double alpha = 0.05;
    int min_repeats = 2;
    /// Adaptive repeats: a proposal still indistinguishable from the incumbent
    /// after its planned repeats (the two-sided test at `alpha` undecided)
    /// runs more, up to this many; 0: never more than planned.
    int max_repeats = 0;
  } early_stop;
  int workers = 1;         ///< trials in flight at once (docs/workers.md)
  int workers_line = 0;    ///< where `workers:` stands (0: absent), for located errors
  int workers_column = 0;
  /// `baseline: target`: trial 0 measures the target as it is and its
  /// assignment is the values read back from it; rebaselines, `best`, export
  /// and gate use that assignment (docs/recipes.md, "Baseline").
  bool baseline_from_target = false;
  int baseline_line = 0;
  int baseline_column = 0;
  ExecutorSpec executor;
  std::optional<WarmStart> warm_start;

  /// Objectives that are optimized (not constraint-only), in order.
  std::vector<Objective> optimized() const;
  /// Every metric name the recipe needs.
  std::vector<std::string> metric_names() const;
};

/// Loads and validates a recipe. Every fault is a located Error (FILE:LINE:COL)
/// with Kind::invalid_input.
util::Result<Recipe> load_recipe(const std::string& path);

/// The recipe's `workload:` loaded: a name is looked up in RECIPE_DIR/workloads,
/// RECIPE_DIR and RECIPE_DIR/../recipes/workloads (the shipped ones); a
/// relative path resolves against the recipe's folder (like every other path
/// in a recipe), falling back to the working directory for recipes written
/// before that rule. Precondition: !recipe.workload.empty().
util::Result<workloads::Workload> load_recipe_workload(const Recipe& recipe);

}  // namespace kerntune::campaign
