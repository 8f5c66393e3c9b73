#pragma once
// Internal to the campaign module: the Runner that tune() drives. campaign.cpp
// holds setup, recording and the sequential phases; scheduler.cpp the worker
// pool and the parallel proposal loop (recipe `workers: N`, N > 1).
//
// Threading contract: only the coordinating thread (the one that called
// tune()) touches the store, the optimizer, the progress display and the
// trial history. Worker threads run execute() on their own Target and nothing
// else; they hand back a TrialResult.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/campaign/campaign.hpp"
#include "kerntune/campaign/progress.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign::detail {

/// One trial to run: its seq is fixed when it is dispatched.
struct TrialJob {
  int seq = 0;
  space::Assignment assignment;
  std::string kind;              ///< baseline | proposal | rebaseline | confirm
  double optimizer_seconds = 0;  ///< time ask() took for it
  int attempts = 0;              ///< earlier attempts lost to a worker error
};

/// A trial as a worker hands it back.
struct TrialResult {
  TrialJob job;
  util::Result<targets::TrialOutcome> outcome;
  double started_at = 0;  ///< unix seconds
  double seconds = 0;     ///< wall time of realize + target
  int worker = 0;         ///< index of the worker that ran it
};

class WorkerPool;

class Runner {
 public:
  Runner(const Recipe& r, store::Store& s, const TuneOptions& o);
  ~Runner();

  util::Result<TuneSummary> run();

 private:
  util::Status setup();
  /// The target of worker `index` (its own work folder: <work>/worker-<index>
  /// when there are several workers, else the campaign's work folder).
  util::Result<std::unique_ptr<targets::Target>> make_worker_target(int index, int count);
  /// Runs one trial on `target`: realize → (per-trial preparation) → target.
  /// Touches no shared state, so it is safe on a worker thread. `on_stage`
  /// (may be empty) is told the stage names as they start.
  TrialResult execute(targets::Target& target, TrialJob job, int worker,
                      const std::function<void(const std::string&)>& on_stage) const;
  /// Stores a finished trial (one store transaction), tells the optimizer,
  /// updates progress. Coordinating thread only. false: interrupted, not stored.
  util::Result<bool> record(const TrialResult& r);
  /// One trial at a time: on worker 0 of the pool when there is one, else here.
  util::Result<bool> run_trial(const space::Assignment& a, const std::string& kind, double optimizer_seconds);
  /// The proposal loop with several trials in flight (scheduler.cpp).
  util::Status run_parallel(int& since_baseline);
  /// Drift of the main metric before trial index `upto`: the latest baseline
  /// re-measurement over the first baseline (1 when re-baselining is off).
  double drift_factor(std::size_t upto) const;
  util::Status confirm_phase();

  const Recipe& recipe_;
  store::Store& store_;
  const TuneOptions& opts_;
  store::CampaignRow campaign_;
  std::vector<TrialSummary> trials_;
  std::unique_ptr<targets::Target> target_;  ///< the only target when workers == 1
  std::unique_ptr<WorkerPool> pool_;         ///< workers > 1: one target per worker thread
  std::optional<workloads::Workload> workload_;
  std::unique_ptr<bo::Optimizer> optimizer_;
  bo::Problem problem_;
  std::unique_ptr<Progress> progress_;
  std::string work_dir_;
  std::string target_kind_;
  int next_seq_ = 0;
  int budget_ = 0;
  TuneSummary summary_;
};

bool counts_toward_budget(const std::string& kind);
int count_budget(const std::vector<TrialSummary>& trials);
double unix_now();

}  // namespace kerntune::campaign::detail
