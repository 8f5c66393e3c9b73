#pragma once
// The kernel stage of a Kconfig campaign (docs/kconfig.md, "Campaigns"): a
// recipe with `kernel_source:` builds, for every trial, the kernel its
// kconfig-domain values describe, and that image becomes the trial's boot
// kernel. The trial runner owns the stage and hands it each run's assignment
// (KernelStage::run) with the worker's target:
//
//   trial → Builder::build(kconfig values of the assignment)
//         ├ configure/build failed → a `failed` trial (stage configure|build),
//         │                          which the optimizer's feasibility model learns
//         └ ok → request.boot.kernel = the cached bzImage → the target
//   a request that already names a kernel image (TrialSpec::kernel, a gate
//   side `kernel PATH`) goes to the target as it is: nothing is built.
//
// What each trial records (beside the target's own outcome):
//   effective[SYMBOL]          the value Kconfig kept (proposed stays in params)
//   effective["kconfig_not_stuck"]  ["SYM: proposed y, effective n", …] when any
//   timings["build"]           configure + build seconds (0.x on a cache hit)
//   timings["cache_hit"]       1 when the image came from the build cache, else 0
//   timings["kernel_builds"]   1 when this trial ran make, else 0
//   artifacts "build.log"      the make output (the last 512 KiB), when it built
//             "kernel.config"  the full resolved .config (export reads it)
// and the campaign metadata key `kernel_source` (KernelStage::metadata).
// The trial runner (trial_runner.hpp) owns the stage and runs every trial
// through it, so tune, gate and verify build kernels the same way. Workers
// share the stage's one Builder (one build at a time). No process-global
// state: two runners of one recipe build apart.
//
// Bad input is refused before the campaign is created (invalid_input, exit
// code 2): kconfig parameters without `kernel_source:`, a folder that is not a
// kernel tree, a git ref that does not exist, an unknown symbol, a value of
// the wrong type. A dirty git tree is warned about and recorded.
#include <memory>
#include <nlohmann/json.hpp>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::campaign {

/// The kernel stage of one trial runner (trial_runner.hpp owns it): the
/// recipe's `kernel_source:` (parsed once, with the recipe) made into a
/// Builder once — source, Kconfig tree, base config, every kconfig
/// parameter's values checked against its symbol — and shared by the
/// targets of all the runner's workers (one build at a time).
class KernelStage {
 public:
  /// Null (no stage) for a recipe without `kernel_source:` and without
  /// kconfig parameters; bad input (located in the recipe) for kconfig
  /// parameters without `kernel_source:`, a folder that is not a kernel tree,
  /// an unknown symbol, a value of the wrong type.
  static util::Result<std::shared_ptr<const KernelStage>> create(const Recipe& recipe);

  /// Builds the kernel of the assignment's kconfig values (through the build
  /// cache), then runs `request` on `target` booting that image; a request
  /// that names its own kernel runs as it is. A failed configure or build is
  /// a failed outcome (stage configure|build), not an error. Safe to call
  /// from several workers at once (one build at a time).
  util::Result<targets::TrialOutcome> run(const space::Assignment& assignment, const targets::TrialRequest& request,
                                          targets::Target& target) const;

  /// The kernel provenance for the campaign metadata key `kernel_source`:
  /// {tree, identity, commit, dirty, tarball_sha256, compiler, base,
  /// cache_dir, and git/ref for a git source}.
  nlohmann::json metadata() const;

  struct SharedBuilder;

 private:
  explicit KernelStage(const space::Space& space) : space_(&space) {}
  const space::Space* space_;
  std::shared_ptr<SharedBuilder> shared_;
};

}  // namespace kerntune::campaign
