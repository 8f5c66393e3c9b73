// The worker pool and the proposal loop: up to N trials in flight (recipe
// `workers: N`; N = 1 is the sequential case). docs/workers.md describes the behaviour.
#include "scheduler.hpp"

#include <signal.h>

#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "kerntune/campaign/problem.hpp"
#include "kerntune/results/cost.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"

namespace kerntune::campaign::detail {

using namespace std::chrono_literals;

WorkerPool::WorkerPool(std::vector<std::unique_ptr<targets::Target>> targets) {
  for (auto& t : targets) {
    auto w = std::make_unique<Worker>();
    w->target = std::move(t);
    workers_.push_back(std::move(w));
  }
  // Threads start after every Worker exists (loop() reads workers_).
  for (std::size_t i = 0; i < workers_.size(); ++i)
    workers_[i]->thread = std::thread([this, i] { loop(static_cast<int>(i)); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void WorkerPool::loop(int index) {
  // Signals go to the coordinating thread; workers poll the stop flag.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Worker& w = *workers_[static_cast<std::size_t>(index)];
  while (true) {
    TrialJob job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return closing_ || w.job.has_value(); });
      if (!w.job) break;  // closing with nothing to do
      job = std::move(*w.job);
      w.job.reset();
    }
    // An exception escaping a thread would end the process: a bug in a
    // target becomes this trial's error instead (retried, then stored failed).
    TrialResult r{job, util::fail("not run", util::Error::Kind::internal), 0, 0, index};
    try {
      r = execute_(*w.target, std::move(job), index);
    } catch (const std::exception& e) {
      r.outcome = util::fail(fmt::format("internal error in worker {}: {}", index, e.what()), util::Error::Kind::internal);
    }
    {
      std::lock_guard lock(mu_);
      done_.push_back(std::move(r));
    }
    done_cv_.notify_all();
  }
  // The target's VMs were spawned by this thread: release them here.
  w.target->shutdown();
  w.target.reset();
}

std::optional<int> WorkerPool::idle_worker() const {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < workers_.size(); ++i)
    if (!workers_[i]->busy && !workers_[i]->retired) return static_cast<int>(i);
  return std::nullopt;
}

int WorkerPool::busy() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& w : workers_) n += w->busy ? 1 : 0;
  return n;
}

int WorkerPool::usable() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& w : workers_) n += w->retired ? 0 : 1;
  return n;
}

void WorkerPool::submit(int worker, TrialJob job) {
  {
    std::lock_guard lock(mu_);
    Worker& w = *workers_.at(static_cast<std::size_t>(worker));
    if (w.busy) throw std::logic_error("WorkerPool::submit to a busy worker");
    w.busy = true;
    w.job = std::move(job);
  }
  work_cv_.notify_all();
}

std::optional<TrialResult> WorkerPool::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!done_cv_.wait_for(lock, timeout, [&] { return !done_.empty(); })) return std::nullopt;
  TrialResult r = std::move(done_.front());
  done_.pop_front();
  workers_.at(static_cast<std::size_t>(r.worker))->busy = false;
  return r;
}

TrialResult WorkerPool::run_on(int worker, TrialJob job) {
  int seq = job.seq;
  submit(worker, std::move(job));
  while (true) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] {
      for (const auto& r : done_)
        if (r.job.seq == seq) return true;
      return false;
    });
    for (auto it = done_.begin(); it != done_.end(); ++it) {
      if (it->job.seq != seq) continue;
      TrialResult r = std::move(*it);
      done_.erase(it);
      workers_.at(static_cast<std::size_t>(r.worker))->busy = false;
      return r;
    }
  }
}

void WorkerPool::retire(int worker) {
  std::lock_guard lock(mu_);
  workers_.at(static_cast<std::size_t>(worker))->retired = true;
}

std::string Runner::run_stage(int worker) const {
  return pool_->size() > 1 ? fmt::format("starting (worker {})", worker) : "starting";
}

// The next trial to dispatch, or nullopt when the budget is spent (stored
// plus in-flight proposals): a trial to retry first, then a rebaseline when
// `noise.baseline_every` proposals were dispatched since the last one, else
// the optimizer's next point asked with the in-flight points as pending.
void Runner::tell_cost_context(const Dispatch& d, int worker) {
  bo::CostContext c;
  const auto& held = d.held.at(static_cast<std::size_t>(worker));
  if (held) c.state = recipe_.space.encode(*held);
  const space::Space& s = recipe_.space;
  c.cost = results::change_costs(trials_, [&s](const std::string& name) {
    const space::Parameter* p = s.find(name);
    return p ? cost_tier(p->domain) : 0;
  });
  optimizer_->set_cost_context(std::move(c));
}

util::Result<std::optional<TrialJob>> Runner::next_job(Dispatch& d, int worker) {
  if (!d.retry.empty()) {
    TrialJob job = std::move(d.retry.front());
    d.retry.pop_front();
    return job;
  }
  int in_flight_budget = 0;
  for (const auto& [seq, j] : d.in_flight) in_flight_budget += results::is_search(j.kind) ? 1 : 0;
  if (count_budget(trials_) + in_flight_budget >= budget_) return std::nullopt;
  if (recipe_.baseline_every > 0 && d.since_baseline >= recipe_.baseline_every) {
    d.since_baseline = 0;
    return TrialJob{next_seq_++, baseline_, results::TrialKind::rebaseline, 0.0, 0};
  }
  std::vector<bo::Point> pending;
  for (const auto& [seq, j] : d.in_flight) pending.push_back(recipe_.space.encode(j.assignment));
  progress_->stage(next_seq_, "optimizer");
  const double t0 = clock_.monotonic_seconds();
  if (cost_aware_) tell_cost_context(d, worker);
  KT_TRY(auto points, optimizer_->ask(1, pending));
  const double ask_seconds = clock_.monotonic_seconds() - t0;
  if (points.empty()) return util::fail("the optimizer proposed nothing", util::Error::Kind::internal);
  space::Assignment a = recipe_.space.decode(points.front());
  if (auto v = recipe_.space.validate(a); !v)
    return util::fail(fmt::format("internal error: the optimizer proposed an invalid configuration: {}", v.error().message),
                      util::Error::Kind::internal);
  ++d.since_baseline;
  TrialJob job{next_seq_++, std::move(a), results::TrialKind::proposal, ask_seconds, 0};
  set_incumbent(job);
  return job;
}

// The proposal loop, with up to N trials in flight (N = 1: one at a time).
// Each free worker gets next_job(); results are stored as they finish, in any
// order, by this (the coordinating) thread. A trial whose worker hit an
// infrastructure error (the target returned an Error, not a failed outcome) is
// retried once on the next free worker (with one worker: the same one); a
// second error stores it as failed at stage `worker`. A worker that errors
// twice in a row is retired; when none is left, the trial that found so is
// not stored and the campaign ends with its error (kind kept: io, timeout, …).
// A stop (SIGINT/SIGTERM, or a target that reports `interrupted`) dispatches
// nothing more and waits for the in-flight trials, which their targets end
// early (not stored).
util::Status Runner::run_proposals(int since_baseline) {
  WorkerPool& pool = *pool_;
  Dispatch d;
  d.since_baseline = since_baseline;
  d.errors_in_a_row.assign(static_cast<std::size_t>(pool.size()), 0);
  d.held.assign(static_cast<std::size_t>(pool.size()), std::nullopt);
  // Worker 0 ran the trial stored last (the sequential baseline, or the last
  // one before a resume): the state the cost-aware search starts from is a
  // function of the stored trials, so a resumed campaign proposes the same.
  for (auto it = trials_.rbegin(); it != trials_.rend() && !d.held.empty(); ++it)
    if (results::is_search(it->kind)) {
      if (auto a = recipe_.space.from_json(it->params)) d.held[0] = *a;  // as proposed: as dispatched
      break;
    }
  std::optional<util::Error> fatal;
  while (true) {
    bool dispatching = !stop_.requested() && !fatal;
    while (dispatching) {
      auto w = pool.idle_worker();
      if (!w) break;
      auto job = next_job(d, *w);
      if (!job) { fatal = job.error(); break; }
      if (!*job) break;
      progress_->stage((*job)->seq, run_stage(*w));
      d.in_flight[(*job)->seq] = **job;
      d.held[static_cast<std::size_t>(*w)] = (*job)->assignment;
      pool.submit(*w, std::move(**job));
    }
    if (pool.busy() == 0) {
      if (!d.retry.empty() && pool.usable() > 0 && dispatching) continue;
      break;
    }
    auto done = pool.wait(200ms);
    if (!done) continue;
    d.in_flight.erase(done->job.seq);
    if (done->outcome) d.errors_in_a_row[static_cast<std::size_t>(done->worker)] = 0;
    else if (!absorb_worker_error(*done, d, fatal)) continue;
    auto recorded = record(*done);
    if (!recorded) fatal = recorded.error();
  }
  if (fatal) return std::unexpected(*fatal);
  return {};
}

bool Runner::absorb_worker_error(TrialResult& done, Dispatch& d, std::optional<util::Error>& fatal) {
  const util::Error e = done.outcome.error();
  if (e.kind == util::Error::Kind::interrupted && !stop_.requested()) stop_.request(SIGINT);
  if (stop_.requested()) return false;
  auto& errs = d.errors_in_a_row[static_cast<std::size_t>(done.worker)];
  if (++errs >= 2) {
    util::log_warn("worker {}: retired after {} errors in a row (last: {})", done.worker, errs, e.message);
    pool_->retire(done.worker);
  }
  if (pool_->usable() == 0) {
    if (!fatal)
      fatal = util::Error{e.kind, fmt::format("no worker is left (each failed twice in a row); trial {} on worker {}: {}",
                                              done.job.seq, done.worker, e.message)};
    return false;  // its infrastructure failed, not the configuration: a resume runs it again
  }
  if (done.job.attempts == 0) {
    util::log_warn("trial {}: worker {} failed ({}); retrying it once", done.job.seq, done.worker, e.message);
    TrialJob again = done.job;
    again.attempts = 1;
    d.retry.push_back(std::move(again));
    return false;
  }
  // Stored as a failed trial: the optimizer learns that the point did not finish.
  done.outcome = targets::TrialOutcome::failure("worker", fmt::format("worker {}: {}", done.worker, e.message));
  done.outcome->worker = fmt::format("worker-{}", done.worker);
  return true;
}

}  // namespace kerntune::campaign::detail
