#pragma once
// Internal to the campaign module: the Runner that tune() drives. campaign.cpp
// holds setup, recording and the sequential phases (baseline, confirmation);
// scheduler.cpp the worker pool and the proposal loop, one loop for every
// recipe `workers: N` (N = 1 is the sequential case: one trial in flight).
//
// Threading contract: only the coordinating thread (the one that called
// tune()) touches the store, the optimizer, the progress display and the
// trial history. Worker threads run execute() on their own Target and nothing
// else; they hand back a TrialResult.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/campaign/campaign.hpp"
#include "kerntune/campaign/progress.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/campaign/trial_runner.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign::detail {

/// One trial to run: its seq is fixed when it is dispatched.
struct TrialJob {
  int seq = 0;
  space::Assignment assignment;
  results::TrialKind kind = results::TrialKind::proposal;
  double optimizer_seconds = 0;  ///< time ask() took for it
  int attempts = 0;              ///< earlier attempts lost to a worker error
  /// `noise.early_stop`: the incumbent's repeats of the objective (drift-
  /// adjusted to this trial's time) a proposal is tested against after each
  /// repeat; empty: every repeat runs (baselines, confirmation, no incumbent).
  std::vector<double> incumbent;
  int incumbent_seq = -1;
  /// Set when the trial runs: its planned repeats, and the most it may run
  /// (noise.early_stop.max_repeats; = planned when it gets no extra repeats).
  int planned_repeats = 0;
  int max_repeats = 0;
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

/// The proposal loop's dispatch state (scheduler.cpp).
struct Dispatch {
  std::map<int, TrialJob> in_flight;  ///< seq → job
  std::deque<TrialJob> retry;         ///< lost to a worker error, to run again once
  int since_baseline = 0;             ///< budget trials dispatched since the last (re)baseline
  std::vector<int> errors_in_a_row;   ///< per worker: infrastructure errors since its last good trial
  /// Per worker: the assignment of the last trial it ran or runs, whose boot
  /// its target holds (cost-aware search, docs/bo.md §16); nullopt: none yet.
  std::vector<std::optional<space::Assignment>> held;
};

class Runner {
 public:
  Runner(const Recipe& r, store::Store& s, const TuneOptions& o, const TuneEnvironment& env);
  ~Runner();

  util::Result<TuneSummary> run();

 private:
  /// Everything before the first trial: workers, workload, warm start, the
  /// campaign row and its history, the optimizer, the progress display.
  util::Status setup();
  /// The work folder, the trial runner (it loads the workload) and one
  /// target per worker (the runner's), in the pool.
  util::Status make_workers();
  /// Finds (to resume) or creates the campaign; reads its stored trials.
  util::Status open_campaign();
  /// The optimizer with the warm start's `prior` and the stored history told.
  util::Status start_optimizer(std::vector<bo::Observation> prior);
  void start_progress();
  /// Tells the progress display the ETA and the recommendation so far.
  void update_progress();
  bool progress_shown() const { return opts_.progress != TuneOptions::Progress::quiet; }
  /// Recipe `warm_start:`: the prior campaign's usable trials as
  /// observations (into `prior`); logs and returns the line that says how
  /// many were used and why the others were not (stored as an event of a new
  /// campaign). Runs before the campaign row exists: a refusal leaves nothing.
  util::Result<std::string> load_warm_start(std::vector<bo::Observation>& prior);
  /// The trials after setup: baseline, proposals, re-baselines, confirmation.
  util::Status run_campaign();
  /// Shuts the targets down and records how the campaign ended (finished or stopped).
  util::Result<TuneSummary> finish();
  /// Runs one trial on `target` through the trial runner (realize → kernel
  /// stage → target). Touches no shared state: it runs on a worker thread.
  TrialResult execute(targets::Target& target, TrialJob job, int worker) const;
  /// Stores a finished trial (one store transaction), tells the optimizer,
  /// updates progress. Coordinating thread only. false: interrupted, not stored.
  util::Result<bool> record(const TrialResult& r);
  /// One trial of a sequential phase (baseline, confirmation) on worker 0;
  /// an infrastructure error ends the campaign. false: stopped, not stored.
  util::Result<bool> run_trial(const space::Assignment& a, results::TrialKind kind, double optimizer_seconds);
  /// The proposal loop until the budget is spent or a stop (scheduler.cpp).
  util::Status run_proposals(int since_baseline);
  /// The one "next job" decision of the proposal loop; nullopt: budget spent.
  util::Result<std::optional<TrialJob>> next_job(Dispatch& d, int worker);
  /// Cost-aware search: what a trial on `worker` costs by what it changes
  /// from the boot that worker holds (results::change_costs over the stored
  /// trials), told to the optimizer before it is asked.
  void tell_cost_context(const Dispatch& d, int worker);
  /// A trial whose worker returned an Error: queued for its one retry, or
  /// dropped (a stop; no worker left: `fatal` set), or made a failed outcome
  /// at stage `worker`. true: store `done`.
  bool absorb_worker_error(TrialResult& done, Dispatch& d, std::optional<util::Error>& fatal);
  /// The incumbent a proposal with sequence number `seq` is tested against
  /// (`noise.early_stop`), into `job`: the ok, fully measured baseline or
  /// proposal with the best median of the one optimized objective that meets
  /// every limit. Nothing when early stopping is off or there are several
  /// objectives, or no such trial has 2 repeats.
  void set_incumbent(TrialJob& job) const;
  /// The request's stop_after_repeat for `job` (empty without an incumbent):
  /// before its planned repeats the early-stopping test (a clearly worse
  /// trial stops, recorded as `early_stop`); from them on, with extra repeats
  /// allowed (job.max_repeats above job.planned_repeats), the two-sided test
  /// at `alpha`: a decided trial stops (answer `{"kind": "enough", …}`), a
  /// close contender runs on, up to max_repeats.
  std::function<std::string(const std::map<std::string, std::vector<double>>&)> early_stop_test(
      const TrialJob& job) const;
  /// The progress stage of a trial running on `worker`.
  std::string run_stage(int worker) const;
  /// A relative limit without an ok run of the defaults: measure them again (rebaseline).
  util::Status remeasure_failed_baseline();
  /// Tells the optimizer a stored trial, each metric corrected by its own
  /// drift (drift_factors); `--verbose` logs what the optimizer saw. false:
  /// the trial's assignment is not one of this space (observation()); it is
  /// not told, never encoded as another point.
  bool tell(const results::Trial& t);
  util::Status confirm_phase();
  /// After the confirmation phase, while `best` would pick an unconfirmed
  /// configuration: confirm it, up to `noise.confirm_fallback` more.
  util::Status confirm_fallbacks(int planned);
  /// `baseline: target`: trial 0's assignment becomes what the target reported
  /// (baseline.hpp); warnings go to the log and the campaign's events.
  util::Status adopt_target_baseline(TrialResult& r);

  const Recipe& recipe_;
  store::Store& store_;
  const TuneOptions& opts_;
  const util::Clock& clock_;
  util::StopToken& stop_;
  TuneEnvironment::MakeTarget make_target_;  ///< empty: the recipe's target
  std::optional<TrialRunner> trial_runner_;  ///< turns a job's assignment into a run (trial_runner.hpp)
  store::CampaignRow campaign_;
  util::TempDirGuard work_guard_;            ///< the default work folder; removed after the targets
  std::vector<results::Trial> trials_;
  std::unique_ptr<WorkerPool> pool_;  ///< one target per worker thread (workers: 1 → one)
  std::unique_ptr<bo::Optimizer> optimizer_;
  bo::Problem problem_;
  bool cost_aware_ = false;  ///< recipe optimizer.cost_aware, resolved (start_optimizer)
  std::unique_ptr<Progress> progress_;
  std::string work_dir_;
  std::string target_kind_;
  /// What every baseline/rebaseline trial runs: the defaults, or trial 0's
  /// assignment as stored (with `baseline: target`, the values read back).
  space::Assignment baseline_;
  std::string warm_start_note_;  ///< load_warm_start's line, for the new campaign's events
  int next_seq_ = 0;
  int budget_ = 0;
  TuneSummary summary_;
};

int count_budget(const std::vector<results::Trial>& trials);

}  // namespace kerntune::campaign::detail
