#pragma once
// The kernel stage of a Kconfig campaign (docs/kconfig.md, "Campaigns"): a
// recipe with `kernel_source:` builds, for every trial, the kernel its
// kconfig-domain values describe, and that image becomes the trial's boot
// kernel. The stage wraps the recipe's target, so the campaign loop calls it
// once (KernelStage::wrap) and runs trials as before:
//
//   trial → Builder::build(kconfig values of the trial)
//         ├ configure/build failed → a `failed` trial (stage configure|build),
//         │                          which the optimizer's feasibility model learns
//         └ ok → request.boot.kernel = the cached bzImage → inner target
//   a request that already names a kernel image (TrialSpec::kernel, a gate
//   side `kernel PATH`) goes to the inner target as it is: nothing is built.
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
// The trial runner (trial_runner.hpp) owns the stage and wraps every target it
// makes, so tune, gate and verify build kernels the same way. Workers each
// wrap their own target; they share the stage's one Builder (one build at a
// time). No process-global state: two runners of one recipe build apart.
//
// Bad input is refused before the campaign is created (invalid_input, exit
// code 2): kconfig parameters without `kernel_source:`, a folder that is not a
// kernel tree, a git ref that does not exist, an unknown symbol, a value of
// the wrong type. A dirty git tree is warned about and recorded.
#include <memory>
#include <nlohmann/json.hpp>

#include "kerntune/campaign/recipe.hpp"
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

  /// A target that builds each run's kernel first (from the request's
  /// kconfig values) and boots it on `inner`; it reports inner's kind().
  std::unique_ptr<targets::Target> wrap(std::unique_ptr<targets::Target> inner) const;

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
