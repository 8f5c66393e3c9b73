#pragma once
// The cost model of a campaign, learned from its stored trials: what a trial
// costs by what it had to do (its stage timings), and the time the rest of
// the campaign will take. `status` (report), the live progress line
// (campaign) and the dashboard read the same figures.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/results/view.hpp"

namespace kerntune::results {

/// What a stored trial had to do: "kernel build" (a build stage), "reboot"
/// (a boot stage, no build), "restored" (the booted VM's snapshot loaded:
/// qemu's between_trials: restore) or "reused" (none: knobs applied on a
/// booted target).
std::string cost_kind(const Trial& t);

struct TrialCost {
  std::string kind;  ///< cost_kind()
  int trials = 0;
  double median_seconds = 0;
};
/// The kinds that occurred among trials with a known wall time, dearest first.
std::vector<TrialCost> trial_costs(const std::vector<Trial>& trials);

/// Cost-aware search (docs/bo.md §16): the expected wall time of a trial
/// by the dearest tier of parameters it changes from the trial before it on
/// the same worker — [0] run-time knobs only (the target keeps its boot:
/// restored or reused), [1] a new command line (a boot), [2] a new kernel
/// configuration (a build and a boot) — learned from the stored stage
/// timings: a trial's own work (its wall time less boot, build and snapshot
/// load) plus the median boot, build and snapshot load. A target that boots
/// even when the command line stays (between_trials: reboot) has [0] = [1]
/// once a trial shows so. `tier_of`: a parameter name's tier. Empty before
/// any trial has a wall time.
std::vector<double> change_costs(const std::vector<Trial>& trials, const std::function<int(const std::string&)>& tier_of);

/// What is left of a campaign and how long it should take.
struct Remaining {
  int search_left = 0;        ///< budget trials (baseline + proposals) not yet run
  int confirmation_left = 0;  ///< confirmation-phase trials not yet run (candidate and baseline runs)
  /// search_left × wall time per trial so far (the median time from one
  /// trial's end to the next: the optimizer and gaps included, a stop and
  /// resume not) + confirmation_left × a confirmation trial's median, less
  /// the time the running trial has already taken; nullopt before any trial
  /// has a wall time, or without a budget.
  std::optional<double> eta_seconds;
};
/// `budget`: the campaign's search trials; `confirm_top`/`confirm_rounds`:
/// its confirmation phase (0: none); `now`: unix seconds.
Remaining remaining(const std::vector<Trial>& trials, std::optional<int> budget, int confirm_top, int confirm_rounds,
                    double now);

}  // namespace kerntune::results
