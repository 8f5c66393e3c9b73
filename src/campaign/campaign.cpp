#include "kerntune/campaign/campaign.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

#include "kerntune/campaign/kernel_stage.hpp"
#include "kerntune/campaign/problem.hpp"
#include "kerntune/campaign/progress.hpp"
#include "kerntune/campaign/realize.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/campaign/slurm_executor.hpp"
#include "runner.hpp"
#include "scheduler.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {
namespace fs = std::filesystem;
using detail::counts_toward_budget;
namespace {

/// The optimizer's view of a stored trial. Objective values are medians over
/// repeats (negated when maximized), corrected for drift by `drift` (the
/// ratio of the nearest earlier baseline re-measurement to the first baseline).
bo::Observation observe(const Recipe& recipe, const TrialSummary& t, double drift) {
  bo::Observation o;
  // Learn from what was applied when the target reports it, else what was proposed.
  nlohmann::json merged = t.params;
  for (const auto& p : recipe.space.parameters())
    if (t.effective.contains(p.name) && merged.contains(p.name)) merged[p.name] = t.effective[p.name];
  auto a = recipe.space.from_json(merged);
  if (!a) a = recipe.space.from_json(t.params);
  o.x = recipe.space.encode(a ? *a : recipe.space.defaults());
  o.ok = t.status == "ok";
  if (!o.ok) return o;
  for (const auto& obj : recipe.objectives) {
    auto it = t.samples.find(obj.metric);
    if (it == t.samples.end() || it->second.empty()) {
      o.ok = false;  // an ok trial without the metric cannot be learned from as a value
      return o;
    }
    const auto& v = it->second;
    double med = stats::median(v) / drift;
    double var = v.size() >= 2 ? stats::variance(v) / static_cast<double>(v.size()) / (drift * drift) : std::nan("");
    if (obj.is_objective) {
      o.objectives.push_back(obj.maximize ? -med : med);
      o.noise_var.push_back(var);
    }
    if (!obj.limit_op.empty()) o.constraints.push_back(obj.limit_op == "<=" ? med - obj.limit : obj.limit - med);
  }
  return o;
}

}  // namespace

nlohmann::json campaign_metadata(const Recipe& recipe, const std::string& target_kind) {
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : recipe.space.parameters()) {
    nlohmann::json j;
    j["name"] = p.name;
    j["domain"] = space::to_string(p.domain);
    j["type"] = space::to_string(p.type);
    j["default"] = space::to_json(p.default_value);
    if (p.type == space::Type::integer || p.type == space::Type::real) {
      j["range"] = {p.lo, p.hi};
      j["scale"] = p.log_scale ? "log" : "linear";
    }
    if (!p.values.empty()) j["values"] = p.values;
    if (!p.when_text.empty()) j["when"] = p.when_text;
    params.push_back(j);
  }
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : recipe.objectives) {
    nlohmann::json j{{"metric", o.metric}};
    if (o.is_objective) j["direction"] = o.maximize ? "maximize" : "minimize";
    if (!o.limit_op.empty()) j["limit"] = fmt::format("{} {}", o.limit_op, o.limit);
    objectives.push_back(j);
  }
  return {{"kerntune_version", KERNTUNE_VERSION_STRING},
          {"parameters", params},
          {"objectives", objectives},
          {"target", target_kind},
          {"workload", recipe.workload},
          {"defaults", space::to_json(recipe.space.defaults())}};
}

namespace detail {

bool counts_toward_budget(const std::string& kind) { return kind == "baseline" || kind == "proposal"; }

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Runner::Runner(const Recipe& r, store::Store& s, const TuneOptions& o) : recipe_(r), store_(s), opts_(o) {}
Runner::~Runner() = default;

int count_budget(const std::vector<TrialSummary>& trials) {
  int n = 0;
  for (const auto& t : trials) n += counts_toward_budget(t.kind) ? 1 : 0;
  return n;
}

double Runner::drift_factor(std::size_t upto) const {
  if (recipe_.baseline_every <= 0) return 1.0;
  const Objective obj = recipe_.optimized().front();
  std::optional<double> first, latest;
  for (std::size_t i = 0; i < upto && i < trials_.size(); ++i) {
    const auto& t = trials_[i];
    if ((t.kind != "baseline" && t.kind != "rebaseline") || t.status != "ok") continue;
    auto it = t.metrics.find(obj.metric);
    if (it == t.metrics.end()) continue;
    if (!first) first = it->second;
    latest = it->second;
  }
  if (!first || !latest || *first == 0 || !std::isfinite(*latest / *first)) return 1.0;
  return *latest / *first;
}

util::Status Runner::setup() {
  std::string name = opts_.campaign_name.empty() ? recipe_.name : opts_.campaign_name;
  // Everything that can refuse the recipe runs before the campaign is created,
  // so a bad recipe never leaves a half-made campaign behind.
  work_dir_ = opts_.work_dir;
  if (work_dir_.empty()) work_dir_ = (fs::temp_directory_path() / fmt::format("kerntune-{}", ::getpid())).string();
  std::error_code ec;
  fs::create_directories(work_dir_, ec);
  if (ec) return util::io_error(fmt::format("cannot create work folder '{}': {}", work_dir_, ec.message()));
  // One target per worker, each with its own work folder (VM, console log,
  // parameter files). With one worker this is the campaign's work folder.
  const int workers = std::max(1, recipe_.workers);
  std::vector<std::unique_ptr<targets::Target>> worker_targets;
  for (int i = 0; i < workers; ++i) {
    KT_TRY(auto t, make_worker_target(i, workers));
    KT_TRY(t, with_kernel_builds(recipe_, std::move(t)));  // kernel_source: build each trial's kernel
    target_kind_ = t->kind();
    worker_targets.push_back(std::move(t));
  }
  if (workers == 1) target_ = std::move(worker_targets.front());
  else {
    pool_ = std::make_unique<WorkerPool>(std::move(worker_targets));
    pool_->set_execute([this](targets::Target& t, TrialJob job, int w) { return execute(t, std::move(job), w, {}); });
  }
  if (!recipe_.workload.empty()) {
    KT_TRY(auto w, load_recipe_workload(recipe_));
    workload_ = std::move(w);
  }

  KT_TRY(auto existing, store_.find_campaign(name));
  if (existing) {
    if (existing->recipe_hash != recipe_.hash && !opts_.allow_recipe_change)
      return util::fail(fmt::format(
          "campaign '{}' was started from a different version of {} (the file changed). "
          "Resume with the original recipe, start a new campaign with --name NEW, or pass "
          "--allow-recipe-change if the change does not affect the search space",
          name, recipe_.file));
    campaign_ = *existing;
  } else {
    store::CampaignRow row;
    row.name = name;
    row.recipe_path = recipe_.file;
    row.recipe_text = recipe_.text;
    row.recipe_hash = recipe_.hash;
    row.seed = recipe_.seed;
    row.status = "running";
    KT_TRY(campaign_, store_.create_campaign(row));
  }
  summary_.campaign_id = campaign_.id;
  summary_.campaign = campaign_.name;
  nlohmann::json metadata = campaign_metadata(recipe_, target_kind_);
  if (auto k = kernel_source_metadata(recipe_); !k.is_null()) metadata["kernel_source"] = k;
  // The budget in force (a --trials override included), rewritten at every start.
  metadata["budget"] = opts_.trials.value_or(recipe_.budget_trials);
  KT_TRY_STATUS(store_.set_campaign_metadata(campaign_.id, metadata.dump()));

  KT_TRY(auto stored, store_.trials(campaign_.id));
  for (const auto& t : stored) {
    trials_.push_back(summarize(t));
    next_seq_ = std::max(next_seq_, t.seq + 1);
  }

  problem_ = make_problem(recipe_.space);
  bo::Options bo_opts;
  bo_opts.kind = recipe_.optimizer;
  bo_opts.seed = recipe_.seed;
  bo_opts.n_objectives = static_cast<int>(recipe_.optimized().size());
  for (const auto& o : recipe_.objectives) bo_opts.n_constraints += o.limit_op.empty() ? 0 : 1;
  bo_opts.n_initial = recipe_.initial_trials;
  bo_opts.trust_region = recipe_.trust_region;
  if (recipe_.warm_start) {
    KT_TRY(store::Store prior_db, store::Store::open(recipe_.warm_start->db, {.create = false, .read_only = true}));
    KT_TRY(auto prior_row, resolve_campaign(prior_db, recipe_.warm_start->campaign));
    KT_TRY(auto prior_trials, prior_db.trials(prior_row.id));
    for (const auto& t : prior_trials) {
      auto s = summarize(t);
      if (counts_toward_budget(s.kind)) bo_opts.prior.push_back(observe(recipe_, s, 1.0));
    }
    util::log_info("warm start: {} trials from campaign '{}' in {}", bo_opts.prior.size(), prior_row.name,
                   recipe_.warm_start->db);
  }
  KT_TRY(optimizer_, bo::make_optimizer(bo_opts, problem_));
  // Replay history: the optimizer's state is a function of its trials.
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    if (!counts_toward_budget(trials_[i].kind)) continue;
    optimizer_->tell(observe(recipe_, trials_[i], drift_factor(i)));
  }

  budget_ = opts_.trials.value_or(recipe_.budget_trials);
  Progress::Mode mode = Progress::Mode::lines;
  switch (opts_.progress) {
    case TuneOptions::Progress::auto_detect: mode = isatty(2) ? Progress::Mode::tty : Progress::Mode::lines; break;
    case TuneOptions::Progress::tty: mode = Progress::Mode::tty; break;
    case TuneOptions::Progress::lines: mode = Progress::Mode::lines; break;
    case TuneOptions::Progress::quiet: mode = Progress::Mode::quiet; break;
  }
  const Objective main = recipe_.optimized().front();
  progress_ = std::make_unique<Progress>(mode, budget_, main.metric, main.maximize);
  for (const auto& t : trials_) {
    auto it = t.metrics.find(main.metric);
    if (t.kind == "baseline" && t.status == "ok" && it != t.metrics.end()) progress_->set_baseline(it->second);
  }
  return {};
}

util::Result<std::unique_ptr<targets::Target>> Runner::make_worker_target(int index, int count) {
  std::string dir = count == 1 ? work_dir_ : (fs::path(work_dir_) / fmt::format("worker-{}", index)).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create work folder '{}': {}", dir, ec.message()));
  targets::TargetContext ctx{recipe_.file, recipe_.dir, dir, recipe_.metric_names()};
  if (recipe_.executor.kind == "slurm") return make_slurm_target(recipe_, ctx, index);
  return targets::make_target(recipe_.target, ctx);
}

TrialResult Runner::execute(targets::Target& target, TrialJob job, int worker,
                            const std::function<void(const std::string&)>& on_stage) const {
  TrialResult r{std::move(job), util::fail("not run", util::Error::Kind::internal), unix_now(), 0, worker};
  auto t0 = std::chrono::steady_clock::now();
  targets::TrialRequest req = realize(recipe_.space, r.job.assignment, r.job.seq);
  req.workload = workload_ ? &*workload_ : nullptr;
  req.repeats = recipe_.repeats > 0 ? recipe_.repeats : (workload_ ? workload_->repeats : 1);
  req.warmup = recipe_.warmup >= 0 ? recipe_.warmup : (workload_ ? workload_->warmup : 0);
  // Per-trial preparation before the target runs (e.g. a kernel build) goes here.
  if (on_stage) on_stage("run");
  r.outcome = target.run_trial(req);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

util::Result<bool> Runner::run_trial(const space::Assignment& a, const std::string& kind, double optimizer_seconds) {
  TrialJob job{next_seq_, a, kind, optimizer_seconds, 0};
  progress_->stage(job.seq, "start");
  TrialResult r = pool_ ? pool_->run_on(0, std::move(job))
                        : execute(*target_, std::move(job), 0, [&](const std::string& st) { progress_->stage(next_seq_, st); });
  if (pool_) progress_->stage(r.job.seq, "run");
  if (!r.outcome) return std::unexpected(r.outcome.error());
  KT_TRY(bool recorded, record(r));
  if (recorded) ++next_seq_;
  return recorded;
}

util::Result<bool> Runner::record(const TrialResult& r) {
  if (util::stop_requested()) return false;  // an interrupted trial is not recorded
  const targets::TrialOutcome& out = *r.outcome;
  const std::string& kind = r.job.kind;
  const int seq = r.job.seq;
  const double total = r.seconds;
  const double optimizer_seconds = r.job.optimizer_seconds;

  store::TrialRecord rec;
  rec.campaign_id = campaign_.id;
  rec.seq = seq;
  rec.kind = kind;
  rec.status = out.ok ? "ok" : "failed";
  rec.params_json = space::to_json(r.job.assignment).dump();
  rec.effective_json = out.effective.dump();
  rec.failure_stage = out.failure_stage;
  rec.failure_reason = out.failure_reason;
  rec.timings = out.timings;
  rec.timings["optimizer"] = optimizer_seconds;
  rec.timings["total"] = total + optimizer_seconds;
  rec.worker = out.worker;
  if (pool_) rec.worker = fmt::format("w{}:{}", r.worker, out.worker);
  rec.started_at = r.started_at;
  rec.finished_at = r.started_at + total;
  for (const auto& [metric, values] : out.samples) {
    std::string unit = out.units.contains(metric) ? out.units.at(metric) : "";
    for (std::size_t i = 0; i < values.size(); ++i)
      rec.measurements.push_back({metric, static_cast<int>(i), values[i], unit});
  }
  std::vector<store::ArtifactRow> artifacts;
  for (const auto& art : out.artifacts) artifacts.push_back({art.name, art.content});
  progress_->stage(seq, "record");
  KT_TRY(std::int64_t id, store_.insert_trial(rec, artifacts));
  rec.id = id;
  ++summary_.trials_run_now;
  TrialSummary s = summarize(rec);
  trials_.push_back(s);
  if (counts_toward_budget(kind)) optimizer_->tell(observe(recipe_, s, drift_factor(trials_.size() - 1)));
  if (!out.ok) ++summary_.trials_failed;

  const Objective main = recipe_.optimized().front();
  std::optional<double> value;
  if (s.metrics.contains(main.metric) && s.status == "ok") value = s.metrics.at(main.metric);
  if (kind == "baseline" && value) progress_->set_baseline(*value);
  progress_->set_done(count_budget(trials_));
  progress_->trial_finished(seq, kind, value,
                            out.ok ? "" : fmt::format("{}: {}", out.failure_stage, out.failure_reason), total);
  return true;
}

// Final confirmation: the best `confirm_top` distinct proposals are re-measured
// interleaved with the baseline (A B A B …, one pair per candidate per round)
// so that `best` compares like with like in time. Resumable: pairs already
// stored are skipped (each confirm trial pairs with the rebaseline before it).
util::Status Runner::confirm_phase() {
  if (recipe_.confirm_top <= 0) return {};
  const Objective main = recipe_.optimized().front();
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < trials_.size(); ++i)
    if (trials_[i].kind == "proposal" && trials_[i].status == "ok" && trials_[i].metrics.contains(main.metric))
      order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    double a = trials_[x].metrics.at(main.metric), b = trials_[y].metrics.at(main.metric);
    return main.maximize ? a > b : a < b;
  });
  std::vector<space::Assignment> candidates;
  std::vector<std::string> seen;
  for (std::size_t i : order) {
    std::string key = trials_[i].params.dump();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    auto a = recipe_.space.from_json(trials_[i].params);
    if (!a) continue;
    seen.push_back(key);
    candidates.push_back(*a);
    if (static_cast<int>(candidates.size()) >= recipe_.confirm_top) break;
  }
  if (candidates.empty()) return {};
  std::size_t done = 0;
  for (const auto& t : trials_) done += t.kind == "confirm" ? 1 : 0;
  std::size_t total = candidates.size() * static_cast<std::size_t>(recipe_.confirm_rounds);
  if (done < total)
    progress_->note(fmt::format("confirming the best {} candidate(s) against the baseline, {} interleaved rounds",
                                candidates.size(), recipe_.confirm_rounds));
  for (std::size_t k = done; k < total && !util::stop_requested(); ++k) {
    KT_TRY(bool ran_a, run_trial(recipe_.space.defaults(), "rebaseline", 0.0));
    if (!ran_a) break;
    KT_TRY(bool ran_b, run_trial(candidates[k % candidates.size()], "confirm", 0.0));
    if (!ran_b) break;
  }
  return {};
}

util::Result<TuneSummary> Runner::run() {
  KT_TRY_STATUS(setup());
  util::install_stop_handlers();
  KT_TRY_STATUS(store_.set_campaign_status(campaign_.id, "running"));
  int done = count_budget(trials_);
  progress_->set_done(done);
  if (done > 0) progress_->note(fmt::format("resuming campaign '{}': {} of {} trials done", campaign_.name, done, budget_));

  bool have_baseline = std::any_of(trials_.begin(), trials_.end(), [](const auto& t) { return t.kind == "baseline"; });
  if (!have_baseline && done < budget_ && !util::stop_requested()) {
    KT_TRY(bool ran, run_trial(recipe_.space.defaults(), "baseline", 0.0));
    (void)ran;
  }
  int since_baseline = 0;
  for (auto it = trials_.rbegin(); it != trials_.rend(); ++it) {
    if (it->kind == "baseline" || it->kind == "rebaseline") break;
    if (counts_toward_budget(it->kind)) ++since_baseline;
  }
  if (pool_) KT_TRY_STATUS(run_parallel(since_baseline));
  while (!pool_ && count_budget(trials_) < budget_ && !util::stop_requested()) {
    if (recipe_.baseline_every > 0 && since_baseline >= recipe_.baseline_every) {
      KT_TRY(bool ran, run_trial(recipe_.space.defaults(), "rebaseline", 0.0));
      if (!ran) break;
      since_baseline = 0;
      continue;
    }
    progress_->stage(next_seq_, "optimizer");
    auto t0 = std::chrono::steady_clock::now();
    KT_TRY(auto points, optimizer_->ask(1, {}));
    double ask_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (points.empty()) return util::fail("the optimizer proposed nothing", util::Error::Kind::internal);
    space::Assignment a = recipe_.space.decode(points.front());
    if (auto v = recipe_.space.validate(a); !v) {
      return util::fail(fmt::format("internal error: the optimizer proposed an invalid configuration: {}", v.error().message),
                        util::Error::Kind::internal);
    }
    KT_TRY(bool ran, run_trial(a, "proposal", ask_seconds));
    if (!ran) break;
    ++since_baseline;
  }
  if (!util::stop_requested() && count_budget(trials_) >= budget_) KT_TRY_STATUS(confirm_phase());
  progress_->finish();
  if (target_) target_->shutdown();
  pool_.reset();  // each worker shuts its own target down on its thread

  summary_.trials_total = count_budget(trials_);
  summary_.stopped = util::stop_requested();
  summary_.finished = !summary_.stopped && summary_.trials_total >= budget_;
  KT_TRY_STATUS(store_.set_campaign_status(campaign_.id, summary_.finished ? "finished" : "stopped"));
  if (summary_.stopped)
    KT_TRY_STATUS(store_.add_event(campaign_.id, "warn",
                                   fmt::format("stopped by signal {} after {} trials", util::stop_signal(), summary_.trials_total)));
  std::error_code ec;
  if (opts_.work_dir.empty()) fs::remove_all(work_dir_, ec);
  return summary_;
}

}  // namespace detail

util::Result<TuneSummary> tune(const Recipe& recipe, store::Store& store, const TuneOptions& options) {
  detail::Runner runner(recipe, store, options);
  return runner.run();
}

}  // namespace kerntune::campaign
