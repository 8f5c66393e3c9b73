#pragma once
// The kernel stage of a Kconfig campaign (docs/kconfig.md, "Campaigns"): a
// recipe with `kernel_source:` builds, for every trial, the kernel its
// kconfig-domain values describe, and that image becomes the trial's boot
// kernel. The stage wraps the recipe's target, so the campaign loop calls it
// once (with_kernel_builds) and runs trials as before:
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
// and the campaign metadata key `kernel_source` (kernel_source_metadata).
// The trial runner (trial_runner.hpp) wraps every target it makes, so tune,
// gate and verify build kernels the same way. Workers each wrap their own
// target; they share one Builder per kernel_source (one build at a time).
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

/// Returns `inner` unchanged when the recipe has no `kernel_source:` (and no
/// kconfig parameters); otherwise a target that builds each trial's kernel
/// first (the Builder is created here, once: source, Kconfig tree, base
/// config). The wrapper reports inner's kind().
util::Result<std::unique_ptr<targets::Target>> with_kernel_builds(const Recipe& recipe,
                                                                  std::unique_ptr<targets::Target> inner);

/// The kernel provenance for the campaign metadata key `kernel_source`, from
/// the builder with_kernel_builds made for this recipe (while a target it
/// wrapped lives): {tree, identity, commit, dirty, tarball_sha256, compiler,
/// base, cache_dir, and git/ref for a git source}; null for a recipe without
/// `kernel_source:`.
nlohmann::json kernel_source_metadata(const Recipe& recipe);

}  // namespace kerntune::campaign
