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
// nodes share (executor.shared_dir). docs/workers.md has an example.
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

/// The one-trial recipe a Slurm job runs (YAML text): the recipe's target
/// with absolute paths, its workload file, repeats/warmup, objectives, and
/// one parameter per active value of `params` with that value as default.
util::Result<std::string> one_trial_recipe(const Recipe& recipe, const targets::TargetContext& ctx,
                                           const nlohmann::json& params, const std::string& name);

}  // namespace kerntune::campaign
