#pragma once
// Internal to the campaign module: a pool of worker threads, each owning one
// Target for the whole campaign. The coordinating thread submits TrialJobs and
// collects TrialResults in the order trials finish.
//
// Why threads that live as long as the campaign: a target's children (QEMU)
// are spawned with PR_SET_PDEATHSIG, which fires when the spawning *thread*
// ends; a VM reused across trials must be driven by the thread that booted it.
// Workers block SIGINT/SIGTERM, so the signals reach the coordinating thread
// (which polls the campaign's StopToken); the targets notice a stop through
// util::stop_requested() (util::run polls it at least every 200 ms).
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "runner.hpp"

namespace kerntune::campaign::detail {

class WorkerPool {
 public:
  using Execute = std::function<TrialResult(targets::Target&, TrialJob, int worker)>;

  /// Starts one thread per target. `execute` must be set before submit().
  explicit WorkerPool(std::vector<std::unique_ptr<targets::Target>> targets);
  /// Finishes: each worker shuts its target down on its own thread; joins.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void set_execute(Execute execute) { execute_ = std::move(execute); }
  int size() const { return static_cast<int>(workers_.size()); }
  /// The lowest-numbered worker that is neither busy nor retired.
  std::optional<int> idle_worker() const;
  int busy() const;
  /// Number of workers not retired.
  int usable() const;
  /// Hands `job` to `worker` (which must be idle).
  void submit(int worker, TrialJob job);
  /// A finished trial, or nullopt when none finished within `timeout`.
  std::optional<TrialResult> wait(std::chrono::milliseconds timeout);
  /// submit + wait for that trial (the sequential phases: baseline, confirmation).
  TrialResult run_on(int worker, TrialJob job);
  /// A retired worker gets no more trials (its target kept failing).
  void retire(int worker);

 private:
  struct Worker {
    std::unique_ptr<targets::Target> target;
    std::optional<TrialJob> job;  ///< waiting to be picked up
    bool busy = false;            ///< submitted and not yet collected
    bool retired = false;
    std::thread thread;
  };
  void loop(int index);

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  ///< a job was submitted or the pool closes
  std::condition_variable done_cv_;  ///< a result arrived
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<TrialResult> done_;
  bool closing_ = false;
  Execute execute_;
};

}  // namespace kerntune::campaign::detail
