#include "kerntune/campaign/campaign.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <set>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kerntune/campaign/drift.hpp"
#include "kerntune/campaign/kernel_stage.hpp"
#include "kerntune/campaign/trial_runner.hpp"
#include "kerntune/campaign/observe.hpp"
#include "kerntune/campaign/objective_rules.hpp"
#include "kerntune/campaign/problem.hpp"
#include "kerntune/campaign/progress.hpp"
#include "kerntune/campaign/realize.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/campaign/warm_start.hpp"
#include "kerntune/results/recommend.hpp"
#include "kerntune/results/cost.hpp"
#include "baseline.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/space/effective.hpp"
#include "runner.hpp"
#include "scheduler.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {
namespace fs = std::filesystem;
namespace {

/// An event per parameter the kernel did not take as proposed: info for a
/// clamped value, warn (also on stderr) for a refused or unreadable one.
util::Status note_adjusted(store::Store& store, std::int64_t campaign_id, int seq,
                           const std::vector<space::Adjustment>& adjusted) {
  for (const auto& a : adjusted) {
    bool warn = a.how != space::Adjustment::How::clamped;
    std::string msg = fmt::format("trial {}: {}", seq, space::describe_adjustment(space::to_json(a)));
    if (a.how == space::Adjustment::How::unreadable) msg += fmt::format(": {}; learned at the proposed value", a.reason);
    if (warn) util::log_warn("{}", msg);
    KT_TRY_STATUS(store.add_event(campaign_id, warn ? "warn" : "info", msg));
  }
  return {};
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
    if (p.safe_range) j["safe_range"] = space::safe_range_json(p);
    params.push_back(j);
  }
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : recipe.objectives) {
    nlohmann::json j{{"metric", o.metric}};
    if (o.is_objective) j["direction"] = o.maximize ? "maximize" : "minimize";
    if (!o.limit_op.empty()) j["limit"] = o.limit_text();
    j["drift"] = o.drift == Objective::Drift::none ? "none" : "auto";
    objectives.push_back(j);
  }
  return {{"kerntune_version", KERNTUNE_VERSION_STRING},
          {"parameters", params},
          {"objectives", objectives},
          {"target", target_kind},
          {"workload", recipe.workload},
          {"baseline", recipe.baseline_from_target ? "target" : "defaults"},
          {"defaults", space::to_json(recipe.space.defaults())}};
}

namespace detail {

Runner::Runner(const Recipe& r, store::Store& s, const TuneOptions& o, const TuneEnvironment& env)
    : recipe_(r),
      store_(s),
      opts_(o),
      clock_(env.clock ? *env.clock : util::real_clock()),
      stop_(env.stop ? *env.stop : util::signal_stop()),
      make_target_(env.make_target) {}
Runner::~Runner() = default;

int count_budget(const std::vector<results::Trial>& trials) {
  int n = 0;
  for (const auto& t : trials) n += results::is_search(t.kind) ? 1 : 0;
  return n;
}

bool Runner::tell(const results::Trial& t) {
  const auto drift = drift_factors(recipe_, trials_, t.seq);
  auto o = observation(recipe_, t, drift, baseline_levels(recipe_, trials_, t.seq));
  if (!o) {
    util::log_debug("optimizer not told trial {} ({}): its assignment is not a point of this space", t.seq,
                    results::to_string(t.kind));
    return false;
  }
  util::log_debug("optimizer sees trial {} ({}): {}", t.seq, results::to_string(t.kind),
                  describe_observation(recipe_, t, *o, drift));
  optimizer_->tell(std::move(*o));
  return true;
}

// Everything that can refuse the recipe runs before the campaign is created,
// so a bad recipe never leaves a half-made campaign behind.
util::Status Runner::setup() {
  KT_TRY_STATUS(make_workers());
  if (recipe_.baseline_from_target && target_kind_ == "lava")
    return util::fail_at(recipe_.file, recipe_.baseline_line, recipe_.baseline_column,
                         "baseline: target is not supported by the lava target (it cannot read a device's values "
                         "without a job); use baseline: defaults");
  std::vector<bo::Observation> prior;
  if (recipe_.warm_start) { KT_TRY(warm_start_note_, load_warm_start(prior)); }
  KT_TRY_STATUS(open_campaign());
  KT_TRY_STATUS(start_optimizer(std::move(prior)));
  start_progress();
  return {};
}

// The default work folder is private (mkdtemp, 0700) and removed on every way
// out; a --work-dir is the user's and kept. One target per worker, each with
// its own work folder (VM, console log, parameter files); with one worker this
// is the campaign's work folder.
util::Status Runner::make_workers() {
  work_dir_ = opts_.work_dir;
  if (work_dir_.empty()) {
    KT_TRY(work_dir_, util::make_temp_dir("kerntune"));
    work_guard_ = util::TempDirGuard(work_dir_);
  }
  std::error_code ec;
  fs::create_directories(work_dir_, ec);
  if (ec) return util::io_error(fmt::format("cannot create work folder '{}': {}", work_dir_, ec.message()));
  const int workers = std::max(1, recipe_.workers);
  TrialRunner::Options ro{work_dir_, workers, recipe_.metric_names(), make_target_};
  KT_TRY(auto runner, TrialRunner::create(recipe_, std::move(ro)));
  trial_runner_.emplace(std::move(runner));
  std::vector<std::unique_ptr<targets::Target>> worker_targets;
  for (int i = 0; i < workers; ++i) {
    KT_TRY(auto t, trial_runner_->make_target(i));
    target_kind_ = t->kind();
    worker_targets.push_back(std::move(t));
  }
  pool_ = std::make_unique<WorkerPool>(std::move(worker_targets));
  pool_->set_execute([this](targets::Target& t, TrialJob job, int w) { return execute(t, std::move(job), w); });
  return {};
}

// Finds (resume) or creates the campaign row, records its metadata and reads
// back its stored trials and baseline assignment.
util::Status Runner::open_campaign() {
  const std::string name = opts_.campaign_name.empty() ? recipe_.name : opts_.campaign_name;
  KT_TRY(auto existing, store_.find_campaign(name));
  if (existing) {
    if (existing->recipe_hash != recipe_.hash && !opts_.allow_recipe_change)
      return util::invalid_input(fmt::format(
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
  // The objective rule (objective_rules.hpp): warned at every start, stored once.
  for (const auto& w : redefined_metric_warnings(recipe_)) {
    util::log_warn("{}", w);
    if (!existing) KT_TRY_STATUS(store_.add_event(campaign_.id, "warn", w));
  }
  if (!existing && !warm_start_note_.empty()) KT_TRY_STATUS(store_.add_event(campaign_.id, "info", warm_start_note_));
  summary_.campaign_id = campaign_.id;
  summary_.campaign = campaign_.name;
  nlohmann::json metadata = campaign_metadata(recipe_, target_kind_);
  if (auto k = trial_runner_->kernel_source_metadata(); !k.is_null()) metadata["kernel_source"] = k;
  // The budget in force (a --trials override included), rewritten at every start.
  budget_ = opts_.trials.value_or(recipe_.budget_trials);
  metadata["budget"] = budget_;
  // The confirmation phase in force, for `status`'s ETA (docs/recommendation.md).
  metadata["confirmation"] = {{"top", recipe_.confirm_top}, {"rounds", recipe_.confirm_rounds}};
  KT_TRY_STATUS(store_.set_campaign_metadata(campaign_.id, util::dump_json(metadata)));

  KT_TRY(auto stored, results::load_view(store_, campaign_));
  trials_ = std::move(stored.trials);
  for (const auto& t : trials_) next_seq_ = std::max(next_seq_, t.seq + 1);
  baseline_ = recipe_.space.defaults();
  for (const auto& t : trials_)
    if (t.kind == results::TrialKind::baseline)
      if (auto a = recipe_.space.from_json(t.params); a && recipe_.space.validate(*a)) baseline_ = *a;
  return {};
}

// The optimizer, with the stored history replayed: its state is a function of
// its trials (same seed, same history, same proposals).
util::Status Runner::start_optimizer(std::vector<bo::Observation> prior) {
  problem_ = make_problem(recipe_.space);
  bo::Options bo_opts;
  bo_opts.kind = recipe_.optimizer;
  bo_opts.seed = recipe_.seed;
  bo_opts.n_objectives = static_cast<int>(recipe_.optimized().size());
  for (const auto& o : recipe_.objectives) bo_opts.n_constraints += o.limit_op.empty() ? 0 : 1;
  bo_opts.n_initial = recipe_.initial_trials;
  bo_opts.trust_region = recipe_.trust_region;
  bo_opts.multi_objective = recipe_.multi_objective;
  bo_opts.prior = std::move(prior);
  KT_TRY(optimizer_, bo::make_optimizer(bo_opts, problem_));
  // Cost-aware search (docs/bo.md §16): auto is on for the model-based
  // optimizer when some parameters change at run time and others need a
  // boot or a build.
  bool cheap = false, dear = false;
  for (const auto& dim : problem_.dims) (dim.cost_tier > 0 ? dear : cheap) = true;
  cost_aware_ = recipe_.cost_aware == Recipe::CostAware::on ||
                (recipe_.cost_aware == Recipe::CostAware::automatic && recipe_.optimizer == bo::Options::Kind::bo &&
                 cheap && dear);
  // Replay history: the optimizer's state is a function of its trials. A
  // stored trial this space cannot place is skipped (and said so, once).
  std::vector<int> unplaced;
  for (const auto& t : trials_)
    if (results::is_search(t.kind) && !tell(t)) unplaced.push_back(t.seq);
  if (!unplaced.empty()) {
    const std::string w = unplaced_trials_warning(unplaced);
    util::log_warn("{}", w);
    KT_TRY_STATUS(store_.add_event(campaign_.id, "warn", w));
  }
  return {};
}

void Runner::start_progress() {
  Progress::Mode mode = Progress::Mode::lines;
  switch (opts_.progress) {
    case TuneOptions::Progress::auto_detect: mode = isatty(2) ? Progress::Mode::tty : Progress::Mode::lines; break;
    case TuneOptions::Progress::tty: mode = Progress::Mode::tty; break;
    case TuneOptions::Progress::lines: mode = Progress::Mode::lines; break;
    case TuneOptions::Progress::quiet: mode = Progress::Mode::quiet; break;
  }
  progress_ = std::make_unique<Progress>(mode, budget_, recipe_.optimized().front().metric, clock_);
  if (mode != Progress::Mode::quiet) update_progress();
}

// What the progress line shows after each trial: the ETA from the stored
// timings (results/cost.hpp) and the pick as `best` would name it now, with
// its change from the defaults, confirmed or not.
void Runner::update_progress() {
  progress_->set_done(count_budget(trials_));
  const results::Remaining left =
      results::remaining(trials_, budget_, recipe_.confirm_top, recipe_.confirm_rounds, clock_.unix_seconds());
  progress_->set_eta(left.eta_seconds);
  std::optional<Progress::Best> best;
  auto view = results::load_view(store_, campaign_);
  auto rec = view ? results::recommend(*view) : util::Result<results::Recommendation>(util::fail(view.error()));
  if (rec && rec->chosen && rec->chosen->value.contains(rec->objective.metric)) {
    Progress::Best b;
    b.value = rec->chosen->value.at(rec->objective.metric);
    if (rec->interval && std::isfinite(rec->interval->ratio)) {
      b.ratio = rec->interval->ratio;
      if (rec->interval->has_interval()) {
        b.lo = rec->interval->lo;
        b.hi = rec->interval->hi;
      }
      b.confirmed = rec->interval->confirmed;
      b.rounds = rec->interval->rounds;
    }
    best = b;
  }
  progress_->set_best(best);
}

// The prior campaign's trials mapped into this space by name (warm_start.hpp),
// their values as measured (a prior campaign's drift is its own, not ours).
util::Result<std::string> Runner::load_warm_start(std::vector<bo::Observation>& prior_obs) {
  const WarmStart& ws = *recipe_.warm_start;
  KT_TRY(store::Store prior_db, store::Store::open(ws.db, {.create = false, .read_only = true}));
  KT_TRY(auto prior_row, resolve_campaign(prior_db, ws.campaign));
  KT_TRY(const results::CampaignView view, results::load_view(prior_db, prior_row));
  KT_TRY_STATUS(check_prior_objectives(recipe_, prior_row.name, view.objectives));
  // The prior GP models the objectives only: a constraint metric the prior
  // campaign did not measure does not disqualify its trials.
  Recipe objectives_only = recipe_;
  objectives_only.objectives = recipe_.optimized();
  std::vector<std::string> metrics;
  for (auto& o : objectives_only.objectives) {
    o.limit_op.clear();
    metrics.push_back(o.metric);
  }
  const nlohmann::json parameters = view.metadata.value("parameters", nlohmann::json::array());
  WarmStartMapping mapping = map_prior_trials(recipe_.space, parameters, view.trials, metrics);
  for (const auto& t : mapping.used)
    if (auto o = observation(objectives_only, t, {})) prior_obs.push_back(std::move(*o));  // mapped: always placed
  for (const auto& d : mapping.dropped) util::log_debug("warm start: prior trial {} dropped: {}", d.seq, d.detail);
  std::string line = mapping.summary(prior_row.name, ws.db);
  util::log_info("{}", line);
  return line;
}

void Runner::set_incumbent(TrialJob& job) const {
  if (!recipe_.early_stop.on) return;
  const auto optimized = recipe_.optimized();
  if (optimized.size() != 1) return;
  const Objective& main = optimized.front();
  auto factor = [&](int seq) {
    auto f = drift_factors(recipe_, trials_, seq);
    return f.contains(main.metric) ? f.at(main.metric) : 1.0;
  };
  // Meets every limit as the search judges it (relative ones against the baseline levels at its time).
  auto feasible = [&](const results::Trial& t) {
    std::map<std::string, double> levels;
    bool levels_read = false;
    for (const auto& o : recipe_.objectives) {
      if (o.limit_op.empty()) continue;
      auto v = t.value(o.metric);
      if (!v) return false;
      double bound = o.limit;
      if (o.limit_relative) {
        if (!levels_read) levels = baseline_levels(recipe_, trials_, t.seq), levels_read = true;
        if (!levels.contains(o.metric)) return false;
        bound *= levels.at(o.metric);
      }
      if (o.limit_op == "<=" ? !(*v <= bound) : !(*v >= bound)) return false;
    }
    return true;
  };
  const results::Trial* best = nullptr;
  double best_value = 0;
  for (const auto& t : trials_) {
    if (!t.ok || !t.early_stop.is_null()) continue;
    if (!results::is_search(t.kind) && t.kind != results::TrialKind::rebaseline) continue;
    auto it = t.samples.find(main.metric);
    if (it == t.samples.end() || it->second.size() < 2 || !feasible(t)) continue;
    const double v = t.metrics.at(main.metric) / factor(t.seq);
    if (!best || (main.maximize ? v > best_value : v < best_value)) {
      best = &t;
      best_value = v;
    }
  }
  if (!best) return;
  // The incumbent's repeats as they would read at this trial's time (drift).
  const double scale = factor(job.seq) / factor(best->seq);
  job.incumbent = best->samples.at(main.metric);
  for (double& v : job.incumbent) v *= scale;
  job.incumbent_seq = best->seq;
}

std::function<std::string(const std::map<std::string, std::vector<double>>&)> Runner::early_stop_test(
    const TrialJob& job) const {
  const int planned = job.planned_repeats;
  const int most = std::max(job.max_repeats, planned);
  // A look needs a repeat after it: with planned <= min_repeats and no extra repeats nothing can change.
  if (job.incumbent.empty() || job.kind != results::TrialKind::proposal ||
      (planned <= recipe_.early_stop.min_repeats && most <= planned))
    return {};
  const Objective main = recipe_.optimized().front();
  stats::EarlyStopOptions o{.alpha = recipe_.early_stop.alpha,
                            .min_repeats = recipe_.early_stop.min_repeats,
                            .planned_repeats = planned,
                            .maximize = main.maximize};
  // From the planned repeats on: one two-sided look at alpha (two one-sided halves).
  stats::EarlyStopOptions decide{.alpha = recipe_.early_stop.alpha / 2, .min_repeats = 2, .planned_repeats = 0,
                                 .maximize = main.maximize};
  return [incumbent = job.incumbent, seq = job.incumbent_seq, metric = main.metric, o, decide, planned,
          most](const std::map<std::string, std::vector<double>>& samples) -> std::string {
    auto it = samples.find(metric);
    if (it == samples.end()) return {};
    const int n = static_cast<int>(it->second.size());
    if (n < planned) {
      if (planned <= o.min_repeats) return {};
      auto d = stats::early_stop(incumbent, it->second, o);
      if (!d || !d->stop) return {};
      nlohmann::json j{{"after", d->n},
                       {"of", o.planned_repeats},
                       {"metric", metric},
                       {"incumbent", seq},
                       {"incumbent_repeats", d->incumbent_n},
                       {"test", "pooled t, one-sided"},
                       {"scale", d->log_scale ? "log" : "linear"},
                       {"statistic", std::isfinite(d->statistic) ? nlohmann::json(d->statistic) : nlohmann::json()},
                       {"threshold", d->threshold},
                       {"alpha", o.alpha},
                       {"looks", d->looks},
                       {"why", fmt::format("worse than trial {}: {}", seq, d->brief())}};
      return util::dump_json(j);
    }
    // Planned repeats done and more allowed: a close contender runs on.
    auto d = stats::early_stop(incumbent, it->second, decide);
    const bool decided = !d || !d->looked || std::fabs(d->statistic) > d->threshold;
    if (!decided && n < most) return {};
    nlohmann::json j{{"kind", "enough"},
                     {"after", n},
                     {"planned", planned},
                     {"max", most},
                     {"metric", metric},
                     {"incumbent", seq},
                     {"decided", decided}};
    if (d && std::isfinite(d->statistic)) {
      j["statistic"] = d->statistic;
      j["threshold"] = d->threshold;
    }
    j["why"] = !d ? std::string("no test possible")
               : decided ? fmt::format("{} than trial {} after {} repeats: |t| = {:.2f} > {:.2f} (two-sided, alpha {})",
                                       d->statistic > 0 ? "worse" : "better", seq, n, std::fabs(d->statistic),
                                       d->threshold, decide.alpha * 2)
                         : fmt::format("still as good as trial {} after {} repeats: |t| = {:.2f} <= {:.2f}", seq, n,
                                       std::fabs(d->statistic), d->threshold);
    return util::dump_json(j);
  };
}

TrialResult Runner::execute(targets::Target& target, TrialJob job, int worker) const {
  TrialResult r{std::move(job), util::fail("not run", util::Error::Kind::internal), clock_.unix_seconds(), 0, worker};
  const double t0 = clock_.monotonic_seconds();
  TrialSpec spec;
  spec.seq = r.job.seq;
  spec.assignment = r.job.assignment;
  spec.read_current = recipe_.baseline_from_target && r.job.kind == results::TrialKind::baseline;
  // A confirmation round's two runs are independent replicates: fresh boots.
  spec.independent = r.job.kind == results::TrialKind::confirm || r.job.kind == results::TrialKind::rebaseline;
  spec.on_stage = [this, seq = r.job.seq, worker](const std::string& stage) {
    progress_->stage(seq, pool_->size() > 1 ? fmt::format("{} (worker {})", stage, worker) : stage);
  };
  if (!r.job.incumbent.empty()) {
    r.job.planned_repeats = trial_runner_->request(spec).repeats;
    r.job.max_repeats = r.job.planned_repeats;
    // Adaptive repeats: room for more, which the test hands back unused unless the trial stays close.
    if (r.job.kind == results::TrialKind::proposal && recipe_.early_stop.max_repeats > r.job.planned_repeats) {
      r.job.max_repeats = recipe_.early_stop.max_repeats;
      spec.repeats = r.job.max_repeats;
    }
    spec.stop_after_repeat = early_stop_test(r.job);
  }
  r.outcome = trial_runner_->run(target, spec);
  r.seconds = clock_.monotonic_seconds() - t0;
  return r;
}

util::Result<bool> Runner::run_trial(const space::Assignment& a, results::TrialKind kind, double optimizer_seconds) {
  TrialJob job{next_seq_, a, kind, optimizer_seconds, 0};
  progress_->stage(job.seq, run_stage(0));
  TrialResult r = pool_->run_on(0, std::move(job));
  if (!r.outcome) return std::unexpected(r.outcome.error());
  if (kind == results::TrialKind::baseline && recipe_.baseline_from_target) KT_TRY_STATUS(adopt_target_baseline(r));
  KT_TRY(bool recorded, record(r));
  if (recorded) ++next_seq_;
  return recorded;
}

util::Result<bool> Runner::record(const TrialResult& r) {
  if (stop_.requested()) return false;  // an interrupted trial is not recorded
  const targets::TrialOutcome& out = *r.outcome;
  const results::TrialKind kind = r.job.kind;
  const int seq = r.job.seq;
  const double total = r.seconds;
  const double optimizer_seconds = r.job.optimizer_seconds;

  store::TrialRecord rec;
  rec.campaign_id = campaign_.id;
  rec.seq = seq;
  rec.kind = std::string(results::to_string(kind));
  rec.status = out.ok ? "ok" : "failed";
  rec.params_json = util::dump_json(space::to_json(r.job.assignment));
  const AppliedRecord applied = applied_record(recipe_.space, r.job.assignment, out);
  nlohmann::json effective = applied.effective;
  if (!out.stopped_early.empty()) {
    auto why = nlohmann::json::parse(out.stopped_early, nullptr, false);
    if (why.is_object() && why.value("kind", "") == "enough") {
      // Planned repeats ran; a record only when the trial got extra ones (a close contender).
      if (why.value("after", 0) > why.value("planned", 0)) {
        why.erase("kind");
        effective["extra_repeats"] = why;
      }
    } else {
      effective["early_stop"] = why.is_object() ? why : nlohmann::json{{"why", out.stopped_early}};
    }
  } else if (out.ok && r.job.max_repeats > r.job.planned_repeats && !recipe_.optimized().empty()) {
    // Every allowed repeat ran: still close to the incumbent at the last.
    const std::string metric = recipe_.optimized().front().metric;
    const int n = out.samples.contains(metric) ? static_cast<int>(out.samples.at(metric).size()) : 0;
    if (n > r.job.planned_repeats)
      effective["extra_repeats"] = {{"after", n},
                                    {"planned", r.job.planned_repeats},
                                    {"max", r.job.max_repeats},
                                    {"metric", metric},
                                    {"incumbent", r.job.incumbent_seq},
                                    {"decided", false},
                                    {"why", fmt::format("still as good as trial {} after all {} repeats allowed",
                                                        r.job.incumbent_seq, n)}};
  }
  rec.effective_json = util::dump_json(effective);
  rec.failure_stage = out.failure_stage;
  rec.failure_reason = out.failure_reason;
  rec.timings = out.timings;
  rec.timings["optimizer"] = optimizer_seconds;
  rec.timings["total"] = total + optimizer_seconds;
  rec.worker = out.worker;
  if (pool_->size() > 1) rec.worker = fmt::format("w{}:{}", r.worker, out.worker);
  rec.started_at = r.started_at;
  rec.finished_at = r.started_at + total;
  for (const auto& [metric, values] : out.samples) {
    std::string unit = out.units.contains(metric) ? out.units.at(metric) : "";
    for (std::size_t i = 0; i < values.size(); ++i)
      rec.measurements.push_back({metric, static_cast<int>(i), values[i], unit});
  }
  for (const auto& [metric, value] : out.pooled) {
    std::string unit = out.units.contains(metric) ? out.units.at(metric) : "";
    rec.measurements.push_back({metric, store::kPooledRepeat, value, unit});
  }
  std::vector<store::ArtifactRow> artifacts;
  for (const auto& art : out.artifacts) artifacts.push_back({art.name, art.content});
  progress_->stage(seq, "record");
  KT_TRY(std::int64_t id, store_.insert_trial(rec, artifacts));
  rec.id = id;
  KT_TRY_STATUS(note_adjusted(store_, campaign_.id, seq, applied.adjusted));
  if (effective.contains("extra_repeats")) {
    const auto& x = effective["extra_repeats"];
    KT_TRY_STATUS(store_.add_event(campaign_.id, "info",
                                   fmt::format("trial {}: {} repeats instead of {} (close to trial {}): {}", seq,
                                               x.value("after", 0), x.value("planned", 0), x.value("incumbent", -1),
                                               x.value("why", std::string()))));
  }
  if (effective.contains("early_stop")) {
    const auto& es = effective["early_stop"];
    std::string msg = fmt::format("trial {}: stopped early after {} of {} repeats, {}", seq, es.value("after", 0),
                                  es.value("of", 0), es.value("why", std::string()));
    util::log_debug("{}", msg);
    KT_TRY_STATUS(store_.add_event(campaign_.id, "info", msg));
  }
  ++summary_.trials_run_now;
  results::Trial s = results::make_trial(rec);
  trials_.push_back(s);
  if (results::is_search(kind) && !tell(s)) util::log_warn("{}", unplaced_trials_warning({seq}));
  if (!out.ok) ++summary_.trials_failed;

  const Objective main = recipe_.optimized().front();
  std::optional<double> value;
  if (s.metrics.contains(main.metric) && s.ok) value = s.metrics.at(main.metric);
  if (progress_shown()) update_progress();
  progress_->trial_finished(seq, kind, value,
                            out.ok ? "" : fmt::format("{}: {}", out.failure_stage, out.failure_reason), total);
  return true;
}

util::Status Runner::adopt_target_baseline(TrialResult& r) {
  if (stop_.requested()) return {};
  const targets::TrialOutcome& out = *r.outcome;
  // Not recorded: the next `tune` reads the target again.
  if (!out.ok)
    return util::fail(fmt::format("baseline: target: trial 0 failed at {}: {}; nothing was recorded (fix the target "
                                  "and run tune again)", out.failure_stage, out.failure_reason),
                      util::Error::Kind::io);
  std::vector<std::string> warnings;
  KT_TRY(r.job.assignment, baseline_from_target(recipe_, out.effective, target_kind_ == "command", warnings));
  baseline_ = r.job.assignment;
  for (const auto& w : warnings) {
    util::log_warn("{}", w);
    KT_TRY_STATUS(store_.add_event(campaign_.id, "warn", w));
  }
  return {};
}

// Final confirmation: the best `confirm_top` distinct proposals are re-measured
// interleaved with the baseline (A B A B …, one pair per candidate per round)
// so that `best` compares like with like in time. Resumable: pairs already
// stored are skipped (each confirm trial pairs with the rebaseline before it).
util::Status Runner::confirm_phase() {
  if (recipe_.confirm_top <= 0) return {};
  // The candidates are ranked as `best` ranks them (results::rank_candidates:
  // feasible first, then the surrogate's posterior mean) on the search
  // phase's trials: up to the last baseline/proposal, its `baseline_every`
  // re-measurements of the defaults included (a relative limit is judged
  // against them, as `best` judged it when the search ended), nothing of the
  // confirmation phase, so a resumed confirmation phase picks the same
  // candidates.
  KT_TRY(auto view, results::load_view(store_, campaign_));
  view.trials.erase(view.trials.begin() + static_cast<std::ptrdiff_t>(results::search_phase_end(view.trials)),
                    view.trials.end());
  const auto main = view.optimized();
  if (main.empty()) return {};
  std::string baseline_config;
  for (const auto& t : view.trials)
    if (t.kind == results::TrialKind::baseline) baseline_config = t.config;
  std::vector<space::Assignment> candidates;
  for (const auto& c : results::rank_candidates(view, main.front())) {
    if (!c.feasible || c.config == baseline_config) continue;
    auto a = recipe_.space.from_json(view.trials[c.trial].params);
    if (!a) continue;
    candidates.push_back(*a);
    if (static_cast<int>(candidates.size()) >= recipe_.confirm_top) break;
  }
  if (candidates.empty()) return {};
  std::size_t done = 0;
  for (const auto& t : trials_) done += t.kind == results::TrialKind::confirm ? 1 : 0;
  std::size_t total = candidates.size() * static_cast<std::size_t>(recipe_.confirm_rounds);
  if (done < total)
    progress_->note(fmt::format("confirming the best {} candidate(s) against the baseline, {} interleaved rounds{}",
                                candidates.size(), recipe_.confirm_rounds,
                                recipe_.confirm_by_default ? " (the kernel-target default; noise.confirm_top: 0 turns it off)" : ""));
  for (std::size_t k = done; k < total && !stop_.requested(); ++k) {
    KT_TRY(bool ran_a, run_trial(baseline_, results::TrialKind::rebaseline, 0.0));
    if (!ran_a) break;
    KT_TRY(bool ran_b, run_trial(candidates[k % candidates.size()], results::TrialKind::confirm, 0.0));
    if (!ran_b) break;
  }
  return confirm_fallbacks(static_cast<int>(candidates.size()));
}

// When every confirmed candidate broke a limit on its own confirmation runs,
// `best` would fall back to an unconfirmed pick (one lucky search run, no
// interval). Instead the pick `best` would make is confirmed in turn, up to
// `noise.confirm_fallback` more candidates, until it names a confirmed
// configuration. Resumable: what is confirmed is read back from the stored
// trials, and a candidate whose rounds were cut short gets the rest.
util::Status Runner::confirm_fallbacks(int planned) {
  while (!stop_.requested()) {
    KT_TRY(auto view, results::load_view(store_, campaign_));
    auto rec = results::recommend(view);
    if (!rec || !rec->pick) return {};  // nothing feasible is left to confirm
    const results::Trial& pick = view.trials[*rec->pick];
    if (results::measures_defaults(pick.kind)) return {};  // the defaults are best
    std::set<std::string> confirmed;
    int rounds_done = 0;
    for (const auto& t : view.trials) {
      if (t.kind != results::TrialKind::confirm) continue;
      confirmed.insert(t.config);
      rounds_done += t.config == pick.config;
    }
    if (rounds_done >= recipe_.confirm_rounds) return {};  // a confirmed pick
    // The fallback candidates confirmed so far, this pick included.
    const int extra = static_cast<int>(confirmed.size()) - planned + (rounds_done == 0 ? 1 : 0);
    if (extra > recipe_.confirm_fallback) return {};
    auto a = recipe_.space.from_json(pick.params);
    if (!a) return {};
    progress_->note(fmt::format("every confirmed candidate broke a limit on its confirmation runs; confirming the "
                                "next pick, trial {} ({} of at most {} more), {} interleaved rounds",
                                pick.seq, extra, recipe_.confirm_fallback, recipe_.confirm_rounds - rounds_done));
    for (int k = rounds_done; k < recipe_.confirm_rounds && !stop_.requested(); ++k) {
      KT_TRY(bool ran_a, run_trial(baseline_, results::TrialKind::rebaseline, 0.0));
      if (!ran_a) return {};
      KT_TRY(bool ran_b, run_trial(*a, results::TrialKind::confirm, 0.0));
      if (!ran_b) return {};
    }
  }
  return {};
}

util::Result<TuneSummary> Runner::run() {
  KT_TRY_STATUS(setup());
  if (&stop_ == &util::signal_stop()) util::install_stop_handlers();
  KT_TRY_STATUS(store_.set_campaign_status(campaign_.id, "running"));
  auto ran = run_campaign();
  if (ran) return finish();
  // SIGINT/SIGTERM while a trial ran (the target reports `interrupted`): a
  // clean stop like one between trials — `stopped`, resumable, exit 130.
  if (stop_.requested() || ran.error().kind == util::Error::Kind::interrupted) {
    if (!stop_.requested()) stop_.request(SIGINT);
    return finish();
  }
  // Any other error ends the campaign `failed` (best effort: the store may be
  // what failed); running the same command again resumes it.
  (void)store_.set_campaign_status(campaign_.id, "failed");
  (void)store_.add_event(campaign_.id, "error", util::valid_utf8(ran.error().format()));
  return std::unexpected(ran.error());
}

// A limit relative to the baseline (`>= 95% baseline`) is judged against ok
// runs of the defaults: when none succeeded (trial 0 failed, e.g. a boot that
// panicked on a starved host), the defaults are measured again as a
// rebaseline (not counted in the budget), at most twice per run.
util::Status Runner::remeasure_failed_baseline() {
  const bool relative = std::any_of(recipe_.objectives.begin(), recipe_.objectives.end(),
                                    [](const Objective& o) { return o.limit_relative; });
  auto measured = [&] {
    return std::any_of(trials_.begin(), trials_.end(),
                       [](const results::Trial& t) { return results::measures_defaults(t.kind) && t.ok; });
  };
  for (int attempt = 0; relative && attempt < 2 && !measured() && !trials_.empty() && !stop_.requested(); ++attempt) {
    progress_->note("no run of the defaults succeeded and a limit is relative to the baseline: measuring the defaults again");
    KT_TRY(bool ran, run_trial(baseline_, results::TrialKind::rebaseline, 0.0));
    if (!ran) break;
  }
  return {};
}

util::Status Runner::run_campaign() {
  int done = count_budget(trials_);
  progress_->set_done(done);
  if (done > 0) progress_->note(fmt::format("resuming campaign '{}': {} of {} trials done", campaign_.name, done, budget_));

  bool have_baseline = std::any_of(trials_.begin(), trials_.end(), [](const auto& t) { return t.kind == results::TrialKind::baseline; });
  if (!have_baseline && done < budget_ && !stop_.requested()) {
    KT_TRY(bool ran, run_trial(baseline_, results::TrialKind::baseline, 0.0));
    (void)ran;
  }
  KT_TRY_STATUS(remeasure_failed_baseline());
  int since_baseline = 0;
  for (auto it = trials_.rbegin(); it != trials_.rend(); ++it) {
    if (results::measures_defaults(it->kind)) break;
    if (results::is_search(it->kind)) ++since_baseline;
  }
  KT_TRY_STATUS(run_proposals(since_baseline));
  if (!stop_.requested() && count_budget(trials_) >= budget_) KT_TRY_STATUS(confirm_phase());
  return {};
}

util::Result<TuneSummary> Runner::finish() {
  progress_->finish();
  pool_.reset();  // each worker shuts its own target down on its thread

  summary_.trials_total = count_budget(trials_);
  summary_.stopped = stop_.requested();
  summary_.finished = !summary_.stopped && summary_.trials_total >= budget_;
  KT_TRY_STATUS(store_.set_campaign_status(campaign_.id, summary_.finished ? "finished" : "stopped"));
  if (summary_.stopped)
    KT_TRY_STATUS(store_.add_event(campaign_.id, "warn",
                                   fmt::format("stopped by signal {} after {} trials", stop_.signal(), summary_.trials_total)));
  return summary_;
}

}  // namespace detail

util::Result<TuneSummary> tune(const Recipe& recipe, store::Store& store, const TuneOptions& options,
                               const TuneEnvironment& env) {
  detail::Runner runner(recipe, store, options, env);
  return runner.run();
}

}  // namespace kerntune::campaign
