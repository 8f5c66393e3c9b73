// The Slurm executor: see include/kerntune/campaign/slurm_executor.hpp.
#include "kerntune/campaign/slurm_executor.hpp"

#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <thread>

#include "kerntune/store/store.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::campaign {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The job script. Constant text: every value it uses comes from a file in the
// job folder (sbatch --chdir), so nothing from a recipe or a proposal is ever
// parsed by a shell.
constexpr const char* kJobScript = R"sh(#!/bin/sh
# kerntune trial job (docs/workers.md). Reads everything from this folder.
# Its output goes to slurm.out here (sbatch --output would expand '%' in the path).
exec > slurm.out 2>&1
bin=$(cat kerntune.path)
"$bin" tune recipe.yaml --db trial.db --work-dir "$PWD/work" --progress lines
rc=$?
echo "$rc" > exit.code.tmp && mv exit.code.tmp exit.code
exit "$rc"
)sh";

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("kerntune") : p.string();
}

std::string tail_text(const std::string& s, std::size_t n) {
  std::string t = util::trim(s);
  return t.size() <= n ? t : "…" + t.substr(t.size() - n);
}

// A value of a trial's parameters JSON as a YAML scalar of the right type.
void emit_value(YAML::Emitter& e, const nlohmann::json& v) {
  if (v.is_boolean()) e << v.get<bool>();
  else if (v.is_number_integer()) e << v.get<long long>();
  else if (v.is_number_float()) e << v.get<double>();
  else if (v.is_string()) e << YAML::DoubleQuoted << v.get<std::string>();
  else e << YAML::DoubleQuoted << v.dump();
}

// Relative paths of the recipe's target made absolute (the job's recipe lives elsewhere).
util::Result<YAML::Node> portable_target(const Recipe& recipe) {
  // The spec parsed with the recipe carries its portable form (paths absolute).
  if (!recipe.target_spec.portable())
    return util::fail_at(recipe.target, recipe.file,
                         fmt::format("executor: slurm runs qemu (or command) targets, not '{}'", recipe.target_spec.kind()));
  return YAML::Clone(recipe.target_spec.portable());
}

class SlurmTarget final : public targets::Target {
 public:
  SlurmTarget(const Recipe& recipe, targets::TargetContext ctx, std::string jobs_dir, std::string inner_kind)
      : recipe_(recipe), ctx_(std::move(ctx)), jobs_dir_(std::move(jobs_dir)), inner_kind_(std::move(inner_kind)) {}

  std::string kind() const override { return inner_kind_; }

  util::Result<targets::TrialOutcome> run_trial(const targets::TrialRequest& request) override {
    if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
    auto t0 = Clock::now();
    fs::path dir = fs::path(jobs_dir_) / fmt::format("trial-{}-{}", request.seq, ++submitted_);
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return util::io_error(fmt::format("cannot create job folder '{}': {}", dir.string(), ec.message()));
    std::string name = fmt::format("trial-{}", request.seq);
    OneTrial run{request.params, request.repeats, request.warmup, request.read_current, {}};
    if (!request.boot.kernel.empty() && inner_kind_ == "qemu") {
      // The image the coordinator built (or a gate side's) travels in the job
      // folder, which the nodes share; the job boots it and builds nothing.
      run.kernel = (dir / "bzImage").string();
      fs::copy_file(request.boot.kernel, run.kernel, fs::copy_options::overwrite_existing, ec);
      if (ec)
        return util::io_error(fmt::format("cannot copy the kernel image '{}' into the job folder: {}",
                                          request.boot.kernel, ec.message()));
    }
    KT_TRY(std::string text, one_trial_recipe(recipe_, run, name));
    KT_TRY_STATUS(util::write_file((dir / "recipe.yaml").string(), text));
    KT_TRY_STATUS(util::write_file((dir / "kerntune.path").string(), self_exe() + "\n"));
    KT_TRY_STATUS(util::write_file((dir / "job.sh").string(), kJobScript));
    fs::permissions(dir / "job.sh", fs::perms::owner_all, fs::perm_options::add, ec);

    util::RunOptions sb;
    sb.argv = {"sbatch", "--parsable", "--chdir=" + dir.string(), "--job-name=kerntune-" + name,
               "--output=/dev/null", "--ntasks=1"};
    if (!recipe_.executor.partition.empty()) sb.argv.push_back("--partition=" + recipe_.executor.partition);
    sb.argv.insert(sb.argv.end(), recipe_.executor.sbatch_args.begin(), recipe_.executor.sbatch_args.end());
    sb.argv.push_back((dir / "job.sh").string());
    sb.timeout = 60s;
    KT_TRY(util::RunResult sub, util::run(sb));
    if (!sub.ok())
      return util::io_error(fmt::format("sbatch failed ({}): {}", sub.describe(), tail_text(sub.err + sub.out, 400)));
    std::string job_id = util::trim(util::split(util::trim(sub.out), ';').front());
    util::log_info("slurm: trial {} is job {} ({})", request.seq, job_id, dir.string());

    // Poll until the job's script has written its exit code, or Slurm says the
    // job is over (or has forgotten it), or time runs out.
    std::string state, node;
    bool script_done = false;
    auto deadline = Clock::now() + recipe_.executor.job_timeout;
    while (true) {
      if (util::stop_requested()) {
        cancel(job_id);
        return util::fail("interrupted", util::Error::Kind::interrupted);
      }
      if (fs::exists(dir / "exit.code")) { script_done = true; }
      auto st = job_state(job_id);
      // A stop during scontrol ends it early (no state): cancel, never read that as "job over".
      if (util::stop_requested()) {
        cancel(job_id);
        return util::fail("interrupted", util::Error::Kind::interrupted);
      }
      if (st) {
        state = st->first;
        if (!st->second.empty()) node = st->second;
      }
      if (script_done) break;
      bool over = !st || state.empty() ||
                  (state != "PENDING" && state != "RUNNING" && state != "CONFIGURING" && state != "COMPLETING" &&
                   state != "REQUEUED" && state != "RESIZING" && state != "SUSPENDED");
      if (over) {
        // Give a shared file system a moment to show the exit code.
        for (int i = 0; i < 20 && !fs::exists(dir / "exit.code"); ++i) std::this_thread::sleep_for(100ms);
        script_done = fs::exists(dir / "exit.code");
        break;
      }
      if (Clock::now() > deadline) {
        cancel(job_id);
        auto out = util::read_file((dir / "slurm.out").string());
        targets::TrialOutcome o = targets::TrialOutcome::failure(
            "timeout", fmt::format("Slurm job {} did not finish within executor.job_timeout ({}); cancelled", job_id,
                                   util::format_duration(static_cast<double>(recipe_.executor.job_timeout.count()) / 1000.0)));
        o.artifacts.push_back({"slurm.log", out ? *out : ""});
        o.worker = fmt::format("slurm-{}", job_id);
        return o;
      }
      std::this_thread::sleep_for(recipe_.executor.poll);
    }
    auto log = util::read_file((dir / "slurm.out").string());
    std::string slurm_log = log ? *log : "";
    auto outcome = read_outcome(dir, name);
    if (!outcome) {
      return util::io_error(fmt::format("Slurm job {} ({}) left no trial result{}: {}; job output: {} (folder kept: {})",
                                        job_id, state.empty() ? "gone" : state, script_done ? "" : " (its script did not finish)",
                                        outcome.error().message, tail_text(slurm_log, 400), dir.string()));
    }
    outcome->artifacts.push_back({"slurm.log", slurm_log});
    outcome->worker = fmt::format("slurm-{}@{}/{}", job_id, node.empty() ? "?" : node, outcome->worker);
    outcome->timings["slurm_total"] = std::chrono::duration<double>(Clock::now() - t0).count();
    fs::remove_all(dir, ec);
    return outcome;
  }

 private:
  // (JobState, BatchHost) from `scontrol show job -o ID`; nullopt when Slurm no longer knows the job.
  std::optional<std::pair<std::string, std::string>> job_state(const std::string& id) {
    util::RunOptions o;
    o.argv = {"scontrol", "show", "job", "-o", id};
    o.timeout = 30s;
    auto r = util::run(o);
    if (!r || !r->ok()) return std::nullopt;
    std::string state, host;
    for (const auto& field : util::split(util::trim(r->out), ' ')) {
      // The first occurrence: later fields (WorkDir=…) may hold any text.
      if (state.empty() && util::starts_with(field, "JobState=")) state = field.substr(9);
      if (host.empty() && util::starts_with(field, "BatchHost=")) host = field.substr(10);
    }
    return std::make_pair(state, host);
  }

  // scancel, also while a stop is requested (util::run would refuse then).
  void cancel(const std::string& id) {
    util::Child::Options o;
    o.argv = {"scancel", id};
    o.pipe_stdin = false;
    auto c = util::Child::spawn(o);
    if (!c) {
      util::log_warn("slurm: cannot run scancel {}: {}", id, c.error().message);
      return;
    }
    while (c->read_some(200ms)) {
    }
    if (!c->wait(10s)) c->terminate();
    util::log_info("slurm: cancelled job {}", id);
  }

  // The one trial the job stored, as the target outcome the campaign records.
  util::Result<targets::TrialOutcome> read_outcome(const fs::path& dir, const std::string& name) {
    if (!fs::exists(dir / "trial.db")) return util::io_error("no trial.db");
    KT_TRY(store::Store st, store::Store::open((dir / "trial.db").string(), {.create = false, .read_only = true}));
    KT_TRY(auto camp, st.find_campaign(name));
    if (!camp) return util::io_error(fmt::format("no campaign '{}' in trial.db", name));
    KT_TRY(auto trials, st.trials(camp->id));
    if (trials.empty()) return util::io_error("trial.db holds no trial");
    const store::TrialRecord& t = trials.front();
    targets::TrialOutcome o;
    o.ok = t.status == "ok";
    o.failure_stage = t.failure_stage;
    o.failure_reason = t.failure_reason;
    auto eff = nlohmann::json::parse(t.effective_json, nullptr, false);
    if (!eff.is_discarded()) o.effective = eff;
    // The job's own record already says which writes the kernel refused.
    if (o.effective.is_object() && o.effective.contains("adjusted"))
      for (const auto& a : o.effective["adjusted"])
        if (a.value("how", "") == "refused") o.refused[a.value("parameter", "")] = a.value("reason", "");
    for (const auto& m : t.measurements) {
      if (m.repeat == store::kPooledRepeat) {
        o.pooled[m.metric] = m.value;
        continue;
      }
      if (m.repeat < 0) continue;
      auto& v = o.samples[m.metric];
      if (v.size() <= static_cast<std::size_t>(m.repeat)) v.resize(static_cast<std::size_t>(m.repeat) + 1);
      v[static_cast<std::size_t>(m.repeat)] = m.value;
      if (!m.unit.empty()) o.units[m.metric] = m.unit;
    }
    o.timings = t.timings;
    o.timings.erase("optimizer");
    o.worker = t.worker;
    KT_TRY(auto arts, st.trial_artifacts(t.id));
    for (const auto& a : arts) o.artifacts.push_back({a.name, a.content});
    return o;
  }

  const Recipe& recipe_;
  targets::TargetContext ctx_;
  std::string jobs_dir_;
  std::string inner_kind_;
  int submitted_ = 0;
};

}  // namespace

util::Result<std::string> one_trial_recipe(const Recipe& recipe, const OneTrial& run, const std::string& name) {
  const nlohmann::json& params = run.params;
  KT_TRY(YAML::Node target, portable_target(recipe));
  const bool prebuilt = !run.kernel.empty();
  if (prebuilt) target["kernel"] = run.kernel;
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
  e << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted
    << fmt::format("one trial of campaign recipe {} (kerntune executor: slurm)", recipe.file);
  // Every active value of the trial becomes a parameter whose default it is;
  // a budget of one runs exactly that configuration (the baseline).
  e << YAML::Key << "parameters" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : recipe.space.parameters()) {
    if (!params.contains(p.name)) continue;  // inactive in this trial
    if (prebuilt && p.domain == space::Domain::kconfig) continue;  // built into run.kernel
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << p.name;
    e << YAML::Key << "domain" << YAML::Value << space::to_string(p.domain);
    e << YAML::Key << "type" << YAML::Value << space::to_string(p.type);
    if (p.type == space::Type::integer || p.type == space::Type::real) {
      e << YAML::Key << "range" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      if (p.type == space::Type::integer) e << static_cast<long long>(p.lo) << static_cast<long long>(p.hi);
      else e << p.lo << p.hi;
      e << YAML::EndSeq;
    }
    if (p.type == space::Type::choice) {
      e << YAML::Key << "values" << YAML::Value << YAML::BeginSeq;
      for (const auto& v : p.values) e << YAML::DoubleQuoted << v;
      e << YAML::EndSeq;
    }
    e << YAML::Key << "default" << YAML::Value;
    emit_value(e, params[p.name]);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "target" << YAML::Value << target;
  if (!prebuilt && recipe.kernel_build)
    e << YAML::Key << "kernel_source" << YAML::Value << recipe.kernel_source;
  if (run.read_current) e << YAML::Key << "baseline" << YAML::Value << "target";
  if (!recipe.workload.empty()) {
    KT_TRY(workloads::Workload w, load_recipe_workload(recipe));
    e << YAML::Key << "workload" << YAML::Value << YAML::DoubleQuoted << fs::absolute(w.file).lexically_normal().string();
  }
  // The run's own repeats and warm-up (the campaign's, or the gate's one
  // measured repeat per run), else the recipe's.
  const int repeats = run.repeats > 0 ? run.repeats : recipe.repeats;
  const int warmup = run.warmup >= 0 ? run.warmup : recipe.warmup;
  if (repeats > 0) e << YAML::Key << "repeats" << YAML::Value << repeats;
  if (warmup >= 0) e << YAML::Key << "warmup" << YAML::Value << warmup;
  e << YAML::Key << "objectives" << YAML::Value << YAML::BeginSeq;
  for (const auto& o : recipe.objectives) {
    e << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << YAML::DoubleQuoted << o.metric;
    if (o.is_objective) e << YAML::Key << "direction" << YAML::Value << (o.maximize ? "maximize" : "minimize");
    if (!o.limit_op.empty()) e << YAML::Key << "limit" << YAML::Value << o.limit_text();
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "budget" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "trials" << YAML::Value
    << 1 << YAML::EndMap;
  e << YAML::Key << "optimizer" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "kind"
    << YAML::Value << "random" << YAML::EndMap;
  e << YAML::EndMap;
  if (!e.good()) return util::fail(fmt::format("cannot write the trial recipe: {}", e.GetLastError()), util::Error::Kind::internal);
  return std::string(e.c_str()) + "\n";
}

util::Result<std::unique_ptr<targets::Target>> make_slurm_target(const Recipe& recipe,
                                                                  const targets::TargetContext& ctx, int worker) {
  for (const char* tool : {"sbatch", "scontrol", "scancel"})
    if (!util::which(tool))
      return util::io_error(fmt::format("executor: slurm needs '{}' in PATH (apt-get install slurm-client; "
                                        "scripts/slurm-start runs a one-node Slurm)",
                                        tool));
  // The recipe's own target was checked with the recipe (errors located in it);
  // its portable form must be writable into a job's recipe.
  KT_TRY(YAML::Node portable, portable_target(recipe));
  if (recipe.target_spec.kind() == "qemu" && !portable["kernel"])  // none found when the recipe was parsed
    return util::fail_at(recipe.target, recipe.file,
                         "no kernel image: set target.kernel, set KERNTUNE_KERNEL, or run scripts/fetch-kernel "
                         "(a Slurm job boots the image this machine names)");
  std::string base = recipe.executor.shared_dir.empty() ? ctx.work_dir : recipe.executor.shared_dir;
  std::string jobs = (fs::path(base) / "slurm-jobs" / fmt::format("{}-w{}", ::getpid(), worker)).string();
  std::error_code ec;
  fs::create_directories(jobs, ec);
  if (ec) return util::io_error(fmt::format("cannot create the Slurm job folder '{}': {}", jobs, ec.message()));
  return std::unique_ptr<targets::Target>(std::make_unique<SlurmTarget>(recipe, ctx, jobs, recipe.target_spec.kind()));
}

}  // namespace kerntune::campaign
