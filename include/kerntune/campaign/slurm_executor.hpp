#pragma once
// The Slurm executor (recipe `executor: slurm`): each trial is one Slurm batch
// job that runs the trial on a node with the recipe's own target (a QEMU VM).
//
// How a trial travels: the coordinator writes a job folder holding a
// one-trial recipe (the trial's values as the parameters' defaults, budget 1,
// paths made absolute) and submits a job script of constant text with
// `sbatch --chdir=FOLDER` (argv, no shell). The script reads everything it
// needs from files in its folder, so no value ever lands in script text. On
// the node, `kerntune tune` measures that one configuration into a store in
// the folder; the coordinator polls `scontrol show job` (no slurmdbd/sacct
// needed) and the folder's done-marker, then reads the trial back (samples,
// effective values, timings, artifacts) and adds the job's output as the
// artifact `slurm.log`. On stop, or past executor.job_timeout, the job is
// cancelled with `scancel`. The job folder must be on a file system the
// nodes share (executor.shared_dir). A run carries its own repeats and
// warm-up (a gate run measures one repeat), `baseline: target` when it reads
// the knobs as they are, and, for a qemu target, the kernel image the
// coordinator built or was given (copied into the job folder). `tune` and
// `gate` both reach it through the trial runner. docs/workers.md has an example.
#include <memory>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::campaign {

/// A Target that runs each trial as a Slurm job. Checks that sbatch, scontrol
/// and scancel exist and that the recipe's target parses. `worker` names the
/// job folders of this worker (several workers = several jobs in flight).
util::Result<std::unique_ptr<targets::Target>> make_slurm_target(const Recipe& recipe,
                                                                  const targets::TargetContext& ctx, int worker);

/// What of one run the job's recipe carries (from the TrialRequest).
struct OneTrial {
  nlohmann::json params;      ///< the run's active values
  int repeats = 0;            ///< measured repeats; 0: the recipe's
  int warmup = -1;            ///< warm-up repeats; -1: the recipe's
  bool read_current = false;  ///< `baseline: target`: the job reads the knobs, writes nothing
  /// A kernel image in the job folder for a qemu target to boot: the image
  /// the coordinator's kernel stage built (or a gate side's own), so the job
  /// gets neither kernel_source: nor the kconfig parameters. Empty: the
  /// recipe's kernel (and its kernel_source:, when it has one).
  std::string kernel;
};

/// The one-trial recipe a Slurm job runs (YAML text): the recipe's target
/// with absolute paths, its workload file, the run's repeats/warmup,
/// objectives, and one parameter per active value of `run.params` with that
/// value as default.
util::Result<std::string> one_trial_recipe(const Recipe& recipe, const OneTrial& run, const std::string& name);

}  // namespace kerntune::campaign
