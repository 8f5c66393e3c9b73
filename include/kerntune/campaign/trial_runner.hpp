#pragma once
// The one trial runner: what `tune`, `gate` and `verify` use to turn an
// assignment of a recipe's space into a measured run.
//
//   recipe ─ TrialRunner::create ──► workload (loaded once)
//          ├ KernelStage::create ─► the kernel stage (with `kernel_source:`)
//          └ make_target(worker) ──► the worker's target, made from the
//              recipe's parsed target spec (Recipe::target_spec; or, with
//              `executor: slurm`, one Slurm job per run)
//   TrialSpec ─ run(target, spec) ──► realize (cmdline, sysctl, sysfs,
//              params) + workload, repeats, warm-up → [with `kernel_source:`
//              the kernel stage builds the assignment's Kconfig values through
//              the build cache, and that image boots (kernel_stage.hpp; all
//              workers share its one builder)] → Target::run_trial →
//              TrialOutcome
//
// A spec that names its own kernel image (a gate side `kernel PATH`) boots
// that image as given; the kernel stage builds nothing for it.
// The runner holds no target: each worker thread owns its own (tune's worker
// pool shuts it down on the thread that spawned its VMs); run() touches no
// shared state and may be called from several threads at once.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/campaign/kernel_stage.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {

/// Makes the target of worker ctx.worker_index in place of the recipe's
/// `target:`/`executor:` (in-process tests); run() still builds kernels for it.
using MakeTarget = std::function<util::Result<std::unique_ptr<targets::Target>>(const targets::TargetContext&)>;

/// One run of one configuration.
struct TrialSpec {
  int seq = 0;
  space::Assignment assignment;  ///< active parameters of the recipe's space
  /// Write nothing, read the knobs' current values (`baseline: target`).
  bool read_current = false;
  /// An independent replicate: boot afresh (TrialRequest::independent).
  bool independent = false;
  std::optional<int> repeats;  ///< measured repeats; nullopt: the recipe's `repeats:`, else the workload's
  std::optional<int> warmup;   ///< warm-up repeats; nullopt: the recipe's `warmup:`, else the workload's
  /// A kernel image to boot as given (no build); empty: the target's own, or
  /// the one the kernel stage builds for the assignment's Kconfig values.
  std::string kernel;
  /// Told each stage the run enters (TrialRequest::on_stage); may be empty.
  std::function<void(const std::string&)> on_stage;
  /// Asked after each repeat whether to stop (TrialRequest::stop_after_repeat); may be empty.
  std::function<std::string(const std::map<std::string, std::vector<double>>&)> stop_after_repeat;
};

class TrialRunner {
 public:
  struct Options {
    std::string work_dir;               ///< must exist; worker folders go inside when workers > 1
    int workers = 1;                    ///< targets the caller will make (their work folders)
    std::vector<std::string> metrics;   ///< what the targets must report (TargetContext::required_metrics)
    MakeTarget make_target;             ///< empty: from the recipe's `target:` and `executor:`
  };

  /// Loads the recipe's workload and, with `kernel_source:`, makes the
  /// kernel stage (KernelStage::create: bad input located in the recipe, a
  /// kernel tree that cannot be prepared). The recipe must outlive the runner.
  static util::Result<TrialRunner> create(const Recipe& recipe, Options options);

  /// Worker `index`'s target, in its own work folder (<work>/worker-<index>
  /// with several workers, else the work folder): local, or Slurm jobs with
  /// `executor: slurm`. Errors: bad input
  /// (invalid_input, located in the recipe), a folder that cannot be made (io).
  util::Result<std::unique_ptr<targets::Target>> make_target(int index) const;

  /// The request `spec` becomes (no I/O).
  targets::TrialRequest request(const TrialSpec& spec) const;

  /// Realizes `spec` and runs it on `target` (one of make_target's); with
  /// `kernel_source:` through the kernel stage (the kernel of the
  /// assignment's Kconfig values first, unless spec.kernel names one). A failed
  /// run (a failed build too) is an outcome; an Error is infrastructure (io, timeout), a stop
  /// (interrupted) or bad input found only at run time.
  util::Result<targets::TrialOutcome> run(targets::Target& target, const TrialSpec& spec) const;

  const workloads::Workload* workload() const { return workload_ ? &*workload_ : nullptr; }
  const Recipe& recipe() const { return *recipe_; }
  /// The kernel provenance for the campaign metadata (KernelStage::metadata);
  /// null without `kernel_source:`.
  nlohmann::json kernel_source_metadata() const { return kernel_ ? kernel_->metadata() : nlohmann::json(nullptr); }

 private:
  TrialRunner(const Recipe& recipe, Options options) : recipe_(&recipe), options_(std::move(options)) {}
  const Recipe* recipe_;
  Options options_;
  std::optional<workloads::Workload> workload_;
  std::shared_ptr<const KernelStage> kernel_;  ///< null: no kernel builds
};

}  // namespace kerntune::campaign
