#include "kerntune/campaign/recipe.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <set>

#include "kerntune/results/view.hpp"
#include "kerntune/space/expr.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::campaign {
namespace fs = std::filesystem;
using util::fail_at;

std::vector<Objective> Recipe::optimized() const {
  std::vector<Objective> out;
  for (const auto& o : objectives)
    if (o.is_objective) out.push_back(o);
  return out;
}

std::vector<std::string> Recipe::metric_names() const {
  std::vector<std::string> out;
  for (const auto& o : objectives)
    if (std::find(out.begin(), out.end(), o.metric) == out.end()) out.push_back(o.metric);
  return out;
}

std::string Objective::limit_text() const {
  return results::format_limit({limit_op, limit, limit_relative});
}

namespace {

const std::vector<std::string> kTopKeys = {
    "name",    "description", "seed",     "parameters", "search_spaces", "constraints",
    "target",  "kernel_source", "workload", "repeats",  "warmup",        "objectives",
    "budget",  "optimizer",   "noise",    "workers",    "warm_start", "executor",
    "override", "baseline"};

util::Result<int> non_negative_int(const YAML::Node& n, const std::string& file, const std::string& field) {
  KT_TRY(long long v, util::as_int(n, file, field));
  if (v < 0) return fail_at(n, file, fmt::format("'{}' must not be negative (got {})", field, v));
  if (v > 1000000) return fail_at(n, file, fmt::format("'{}' is implausibly large ({})", field, v));
  return static_cast<int>(v);
}

// `limit: "<= 512"` (absolute) or `limit: ">= 95% baseline"` (relative).
util::Status parse_limit(const YAML::Node& l, const std::string& file, Objective& o) {
  KT_TRY(std::string text, util::as_string(l, file, "limit"));
  std::string t = util::trim(text);
  constexpr std::string_view kForms = "\"<= 512\", \">= 1000\" or \">= 95% baseline\"";
  if (util::starts_with(t, "<=")) o.limit_op = "<=";
  else if (util::starts_with(t, ">=")) o.limit_op = ">=";
  else return fail_at(l, file, fmt::format("'limit' must look like {}, got '{}'", kForms, text));
  if (t.find("baseline") != std::string::npos || t.find('%') != std::string::npos) {
    auto rel = results::parse_limit(t);
    if (!rel || !rel->relative)
      return fail_at(l, file, fmt::format("'limit' relative to the baseline must look like \"{} 95% baseline\" (a positive "
                                          "percentage), got '{}'", o.limit_op, text));
    o.limit = rel->value;
    o.limit_relative = true;
    return {};
  }
  auto v = workloads::parse_number(std::string_view(t).substr(2));
  if (!v) return fail_at(l, file, fmt::format("'limit' must look like {}, got '{}'", kForms, text));
  o.limit = *v;
  return {};
}

util::Result<Objective> parse_objective(const YAML::Node& n, const std::string& file) {
  KT_TRY_STATUS(util::check_keys(n, file, {"metric", "direction", "limit", "drift"}, "objective"));
  Objective o;
  if (!n["metric"]) return fail_at(n, file, "objective needs a 'metric'");
  KT_TRY(o.metric, util::as_string(n["metric"], file, "metric"));
  if (!workloads::valid_metric_name(o.metric))
    return fail_at(n["metric"], file, fmt::format("metric name '{}' may hold only letters, digits, '_', '-', '.' "
                                                  "(1 to 128 of them)", o.metric));
  if (auto d = n["direction"]) {
    KT_TRY(std::string dir, util::as_string(d, file, "direction"));
    if (dir == "minimize" || dir == "min") o.maximize = false;
    else if (dir == "maximize" || dir == "max") o.maximize = true;
    else {
      std::string msg = fmt::format("unknown direction '{}' (use minimize or maximize)", dir);
      if (auto c = util::closest(dir, {"minimize", "maximize"})) msg = fmt::format("unknown direction '{}' (did you mean '{}'?)", dir, *c);
      return fail_at(d, file, msg);
    }
  } else {
    o.is_objective = false;
  }
  if (auto l = n["limit"]) KT_TRY_STATUS(parse_limit(l, file, o));
  if (!o.is_objective && o.limit_op.empty())
    return fail_at(n, file, fmt::format("objective '{}' needs a 'direction' (minimize or maximize) or a 'limit'", o.metric));
  // A limit is an absolute threshold, judged on measured values: not corrected unless asked.
  o.drift = o.is_objective ? Objective::Drift::correct : Objective::Drift::none;
  if (auto d = n["drift"]) {
    KT_TRY(std::string text, util::as_string(d, file, "drift"));
    if (text == "auto") o.drift = Objective::Drift::correct;
    else if (text == "none") o.drift = Objective::Drift::none;
    else return fail_at(d, file, fmt::format("'drift' is '{}': use auto (divide by this metric's own drift) or none", text));
  }
  return o;
}

util::Status load_search_spaces(const YAML::Node& list, Recipe& r) {
  if (!list.IsSequence()) return fail_at(list, r.file, "'search_spaces' must be a list of files (or {file, only: [names]})");
  for (const auto& item : list) {
    std::string path;
    std::vector<std::string> only;
    if (item.IsScalar()) {
      path = item.Scalar();
    } else {
      KT_TRY_STATUS(util::check_keys(item, r.file, {"file", "only"}, "search_spaces entry"));
      if (!item["file"]) return fail_at(item, r.file, "search_spaces entry needs a 'file'");
      KT_TRY(path, util::as_string(item["file"], r.file, "file"));
      if (auto o = item["only"]) {
        if (!o.IsSequence()) return fail_at(o, r.file, "'only' must be a list of parameter names");
        for (const auto& n : o) only.push_back(n.Scalar());
      }
    }
    fs::path p = fs::path(path).is_absolute() ? fs::path(path) : fs::path(r.dir) / path;
    if (!fs::exists(p)) {
      // Shipped spaces: search-spaces/ beside recipes/ in the project.
      fs::path shipped = fs::path(r.dir) / ".." / "search-spaces" / path;
      if (fs::exists(shipped)) p = shipped;
    }
    if (!fs::exists(p)) return fail_at(item, r.file, fmt::format("search-space file '{}' not found", path));
    KT_TRY(space::Space s, space::Space::load_file(p.lexically_normal().string()));
    if (!only.empty()) {
      for (const auto& n : only)
        if (!s.find(n)) return fail_at(item["only"], r.file, fmt::format("'{}' is not a parameter of {}", n, path));
      auto chosen = [&](const std::string& n) { return std::find(only.begin(), only.end(), n) != only.end(); };
      std::vector<space::Parameter> params;
      for (const auto& prm : s.parameters())
        if (chosen(prm.name)) params.push_back(prm);
      // A file's constraint is kept when every parameter it names was chosen.
      std::vector<space::Constraint> constraints;
      for (const auto& c : s.constraints()) {
        bool all = c.expr != nullptr;
        if (c.expr)
          for (std::size_t i : c.expr->references()) all = all && chosen(s.parameters().at(i).name);
        if (all) constraints.push_back(c);
      }
      KT_TRY(s, space::Space::make(std::move(params), std::move(constraints)));
    }
    KT_TRY_STATUS(r.space.merge(s));
  }
  return {};
}

// `executor: local | slurm` or `executor: {kind: slurm, partition, sbatch_args,
// poll, job_timeout, shared_dir}` (docs/workers.md).
util::Status parse_executor(const YAML::Node& n, const std::string& file, ExecutorSpec& ex) {
  // (Never assign to a yaml-cpp Node that aliases `n`: assignment writes through.)
  const YAML::Node kind_node = n.IsMap() ? n["kind"] : n;
  if (n.IsMap()) {
    KT_TRY_STATUS(util::check_keys(n, file, {"kind", "partition", "sbatch_args", "poll", "job_timeout", "shared_dir"},
                                   "executor"));
    if (!kind_node) return fail_at(n, file, "'executor' needs a 'kind' (local or slurm)");
  } else if (!n.IsScalar()) {
    return fail_at(n, file, "'executor' must be 'local', 'slurm' or a mapping with a 'kind'");
  }
  KT_TRY(ex.kind, util::as_string(kind_node, file, "kind"));
  if (ex.kind != "local" && ex.kind != "slurm") {
    std::string msg = fmt::format("unknown executor '{}' (use local or slurm)", ex.kind);
    if (auto c = util::closest(ex.kind, {"local", "slurm"})) msg = fmt::format("unknown executor '{}' (did you mean '{}'?)", ex.kind, *c);
    return fail_at(kind_node, file, msg);
  }
  if (!n.IsMap()) return {};
  if (ex.kind == "local" && n.size() > 1) return fail_at(n, file, "executor 'local' takes no other keys");
  if (auto p = n["partition"]) { KT_TRY(ex.partition, util::as_string(p, file, "partition")); }
  if (auto a = n["sbatch_args"]) {
    if (!a.IsSequence()) return fail_at(a, file, "'sbatch_args' must be a list (one sbatch argument each)");
    for (const auto& x : a) {
      KT_TRY(std::string v, util::as_string(x, file, "sbatch_args"));
      ex.sbatch_args.push_back(v);
    }
  }
  for (const char* key : {"poll", "job_timeout"}) {
    auto d = n[key];
    if (!d) continue;
    KT_TRY(std::string text, util::as_string(d, file, key));
    auto v = util::parse_duration(text);
    if (!v) return fail_at(d, file, v.error().message);
    if (v->count() <= 0) return fail_at(d, file, fmt::format("'{}' must be positive", key));
    (std::string(key) == "poll" ? ex.poll : ex.job_timeout) = *v;
  }
  if (auto d = n["shared_dir"]) { KT_TRY(ex.shared_dir, util::as_string(d, file, "shared_dir")); }
  return {};
}

// `override: {NAME: {range, default, safe_range, allow_unsafe}}`: a shipped
// parameter's bounds for this recipe (docs/recipes.md, "Overrides").
util::Status apply_overrides(const YAML::Node& n, Recipe& r, const std::string& file) {
  if (!n.IsMap() || n.size() == 0)
    return fail_at(n, file, "'override' must be a mapping of parameter name → {range, default, safe_range, allow_unsafe}");
  for (auto it = n.begin(); it != n.end(); ++it) KT_TRY_STATUS(r.space.apply_override(it->first, it->second, file));
  return {};
}

// `baseline: defaults | target` (docs/recipes.md, "Baseline").
util::Status parse_baseline(const YAML::Node& n, Recipe& r, const std::string& file) {
  KT_TRY(std::string v, util::as_string(n, file, "baseline"));
  if (v != "defaults" && v != "target") {
    std::string msg = fmt::format("unknown baseline '{}' (use defaults or target)", v);
    if (auto c = util::closest(v, {"defaults", "target"})) msg = fmt::format("unknown baseline '{}' (did you mean '{}'?)", v, *c);
    return fail_at(n, file, msg);
  }
  r.baseline_from_target = v == "target";
  r.baseline_line = n.Mark().line + 1;
  r.baseline_column = n.Mark().column + 1;
  return {};
}

}  // namespace

namespace {
/// `noise.early_stop: off | on | {alpha: A, min_repeats: N, max_repeats: M}`.
util::Status parse_early_stop(const YAML::Node& es, const std::string& file, Recipe& r) {
  if (es.IsScalar()) {
    KT_TRY(bool on, util::as_bool(es, file, "early_stop"));
    r.early_stop.on = on;
    return {};
  }
  if (!es.IsMap())
    return fail_at(es, file, "'early_stop' must be on, off or {alpha: 0.05, min_repeats: 2, max_repeats: 10}");
  KT_TRY_STATUS(util::check_keys(es, file, {"alpha", "min_repeats", "max_repeats"}, "early_stop"));
  r.early_stop.on = true;
  if (auto a = es["alpha"]) {
    KT_TRY(r.early_stop.alpha, util::as_double(a, file, "alpha"));
    if (!(r.early_stop.alpha > 0 && r.early_stop.alpha < 0.5))
      return fail_at(a, file, "'alpha' must be in (0, 0.5): the chance of stopping a trial no worse than the incumbent");
  }
  if (auto m = es["min_repeats"]) {
    KT_TRY(r.early_stop.min_repeats, non_negative_int(m, file, "min_repeats"));
    if (r.early_stop.min_repeats < 2) return fail_at(m, file, "'min_repeats' must be at least 2 (a spread needs two values)");
  }
  if (auto m = es["max_repeats"]) {
    KT_TRY(r.early_stop.max_repeats, non_negative_int(m, file, "max_repeats"));
    if (r.early_stop.max_repeats > 1000) return fail_at(m, file, "'max_repeats' must be at most 1000");
    if (r.early_stop.max_repeats != 0 && r.early_stop.max_repeats <= r.early_stop.min_repeats)
      return fail_at(m, file,
                     fmt::format("'max_repeats' ({}) must be above 'min_repeats' ({}), or 0 for no extra repeats",
                                 r.early_stop.max_repeats, r.early_stop.min_repeats));
  }
  return {};
}

/// Kernel targets confirm by default (docs/recommendation.md): a campaign of
/// at least kConfirmDefaultMinTrials trials on qemu/libvirt/ssh/lava that says nothing
/// in `noise:` about confirmation re-measures its 2 best candidates on 3
/// fresh-boot rounds each, interleaved with the baseline. Smaller campaigns
/// (smoke runs) stay unconfirmed, and `best` says so.
constexpr int kConfirmDefaultMinTrials = 10;
void apply_confirmation_default(Recipe& r, const YAML::Node& root) {
  const YAML::Node noise = root["noise"];
  if (noise && noise.IsMap() && (noise["confirm_top"] || noise["confirm_rounds"])) return;
  const std::string& k = r.target_spec.kind();
  if ((k == "qemu" || k == "libvirt" || k == "ssh" || k == "lava") && r.budget_trials >= kConfirmDefaultMinTrials) {
    r.confirm_top = 2;
    r.confirm_rounds = 3;
    r.confirm_by_default = true;
  }
}
}  // namespace

util::Result<Recipe> load_recipe(const std::string& path) {
  Recipe r;
  std::error_code ec;
  r.file = fs::absolute(path, ec).lexically_normal().string();
  KT_TRY(r.text, util::read_file(path));
  KT_TRY(YAML::Node root, util::load_yaml_string(r.text, path));
  r.dir = fs::path(r.file).parent_path().string();
  r.hash = util::sha256_hex(r.text);
  const std::string& file = path;  // errors name the file as the user gave it
  if (!root.IsMap()) return fail_at(root, file, "a recipe must be a YAML mapping (name, parameters, target, objectives, budget, …)");
  KT_TRY_STATUS(util::check_keys(root, file, kTopKeys, "recipe"));

  if (auto n = root["name"]) {
    KT_TRY(r.name, util::as_string(n, file, "name"));
  } else {
    r.name = fs::path(path).stem().string();
  }
  if (auto why = util::name_text_problem(r.name))
    return fail_at(root["name"] ? root["name"] : root, file, fmt::format("'name' cannot name a campaign: {}", *why));
  if (auto n = root["description"]) { KT_TRY(r.description, util::as_string(n, file, "description")); }
  if (auto n = root["seed"]) {
    KT_TRY(long long s, util::as_int(n, file, "seed"));
    if (s < 0) return fail_at(n, file, "'seed' must not be negative");
    r.seed = static_cast<std::uint64_t>(s);
  }

  // Parameters: search-space files first, then inline ones; recipe-level constraints.
  // Search-space paths resolve against the recipe's folder, then the shipped search-spaces/.
  if (auto ss = root["search_spaces"]) KT_TRY_STATUS(load_search_spaces(ss, r));
  YAML::Node params = root["parameters"];
  if (params) {
    if (!params.IsSequence()) return fail_at(params, file, "'parameters' must be a list");
    KT_TRY(space::Space inline_space, space::Space::from_yaml(params, YAML::Node(), file));
    KT_TRY_STATUS(r.space.merge(inline_space));
  }
  if (auto ov = root["override"]) KT_TRY_STATUS(apply_overrides(ov, r, file));
  // Recipe-level constraints may name parameters from any of the sources above.
  if (auto constraints = root["constraints"]) KT_TRY_STATUS(r.space.add_constraints(constraints, file));
  if (r.space.size() == 0)
    return fail_at(root, file, "the recipe tunes nothing: add 'parameters:' or 'search_spaces:'");
  KT_TRY_STATUS(r.space.finalize());

  if (!root["target"]) return fail_at(root, file, "the recipe needs a 'target' (e.g. {kind: command, argv: [...]})");
  r.target = root["target"];
  if (!r.target.IsMap()) return fail_at(r.target, file, "'target' must be a mapping with a 'kind'");
  if (auto k = root["kernel_source"]; k && !k.IsNull()) {
    r.kernel_source = k;
    KT_TRY(r.kernel_build, kbuild::parse_builder_config(k, file, r.dir));
  }

  if (auto w = root["workload"]) { KT_TRY(r.workload, util::as_string(w, file, "workload")); }
  if (auto n = root["repeats"]) {
    KT_TRY(r.repeats, non_negative_int(n, file, "repeats"));
    if (r.repeats == 0) return fail_at(n, file, "'repeats' must be at least 1");
  }
  if (auto n = root["warmup"]) { KT_TRY(r.warmup, non_negative_int(n, file, "warmup")); }

  YAML::Node objectives = root["objectives"];
  if (!objectives || (objectives.IsSequence() && objectives.size() == 0))
    return fail_at(objectives ? objectives : root, file, "the recipe needs at least one objective, e.g. objectives: [{metric: y, direction: minimize}]");
  if (!objectives.IsSequence()) return fail_at(objectives, file, "'objectives' must be a list");
  std::set<std::string> seen;
  for (const auto& o : objectives) {
    KT_TRY(Objective obj, parse_objective(o, file));
    if (!seen.insert(obj.metric).second) return fail_at(o, file, fmt::format("objective metric '{}' is listed twice", obj.metric));
    r.objectives.push_back(obj);
  }
  if (r.optimized().empty()) return fail_at(objectives, file, "no objective has a direction: at least one must be minimized or maximized");
  if (r.optimized().size() > 3) return fail_at(objectives, file, "at most 3 objectives are supported");

  YAML::Node budget = root["budget"];
  if (!budget) return fail_at(root, file, "the recipe needs a 'budget' (e.g. budget: {trials: 40})");
  KT_TRY_STATUS(util::check_keys(budget, file, {"trials"}, "budget"));
  if (!budget["trials"]) return fail_at(budget, file, "'budget' needs 'trials'");
  KT_TRY(r.budget_trials, non_negative_int(budget["trials"], file, "trials"));
  if (r.budget_trials < 1) return fail_at(budget["trials"], file, "'trials' must be at least 1 (the baseline)");

  if (auto opt = root["optimizer"]) {
    KT_TRY_STATUS(util::check_keys(opt, file, {"kind", "initial", "trust_region", "multi_objective", "cost_aware"}, "optimizer"));
    if (auto k = opt["kind"]) {
      KT_TRY(std::string kind, util::as_string(k, file, "kind"));
      auto parsed = bo::parse_kind(kind);
      if (!parsed) return fail_at(k, file, parsed.error().message);
      r.optimizer = *parsed;
    }
    if (auto i = opt["initial"]) { KT_TRY(r.initial_trials, non_negative_int(i, file, "initial")); }
    if (auto tr = opt["trust_region"]) {
      KT_TRY(std::string v, util::as_string(tr, file, "trust_region"));
      auto parsed = bo::parse_trust_region(v);
      if (!parsed) return fail_at(tr, file, parsed.error().message);
      r.trust_region = *parsed;
    }
    if (auto mo = opt["multi_objective"]) {
      KT_TRY(std::string v, util::as_string(mo, file, "multi_objective"));
      auto parsed = bo::parse_multi_objective(v);
      if (!parsed) return fail_at(mo, file, parsed.error().message);
      r.multi_objective = *parsed;
    }
    if (auto ca = opt["cost_aware"]) {
      KT_TRY(std::string v, util::as_string(ca, file, "cost_aware"));
      if (v == "auto") r.cost_aware = Recipe::CostAware::automatic;
      else if (v == "on" || v == "true") r.cost_aware = Recipe::CostAware::on;
      else if (v == "off" || v == "false") r.cost_aware = Recipe::CostAware::off;
      else return fail_at(ca, file, fmt::format("'cost_aware' must be auto, on or off, not '{}'", v));
    }
  }
  if (auto noise = root["noise"]) {
    KT_TRY_STATUS(util::check_keys(noise, file, {"baseline_every", "confirm_top", "confirm_rounds", "confirm_fallback", "early_stop"}, "noise"));
    if (auto es = noise["early_stop"]) KT_TRY_STATUS(parse_early_stop(es, file, r));
    if (auto n = noise["baseline_every"]) { KT_TRY(r.baseline_every, non_negative_int(n, file, "baseline_every")); }
    if (auto n = noise["confirm_top"]) { KT_TRY(r.confirm_top, non_negative_int(n, file, "confirm_top")); }
    if (auto n = noise["confirm_rounds"]) { KT_TRY(r.confirm_rounds, non_negative_int(n, file, "confirm_rounds")); }
    if (auto n = noise["confirm_fallback"]) { KT_TRY(r.confirm_fallback, non_negative_int(n, file, "confirm_fallback")); }
    if (r.confirm_top > 0 && r.confirm_rounds == 0) r.confirm_rounds = 3;
  }
  if (auto b = root["baseline"]) KT_TRY_STATUS(parse_baseline(b, r, file));
  if (auto n = root["workers"]) {
    KT_TRY(r.workers, non_negative_int(n, file, "workers"));
    if (r.workers < 1) return fail_at(n, file, "'workers' must be at least 1");
    r.workers_line = n.Mark().line + 1;
    r.workers_column = n.Mark().column + 1;
  }
  if (auto ex = root["executor"]) KT_TRY_STATUS(parse_executor(ex, file, r.executor));
  if (!r.executor.shared_dir.empty() && !fs::path(r.executor.shared_dir).is_absolute())
    r.executor.shared_dir = (fs::path(r.dir) / r.executor.shared_dir).lexically_normal().string();
  if (auto ws = root["warm_start"]) {
    KT_TRY_STATUS(util::check_keys(ws, file, {"db", "campaign"}, "warm_start"));
    const util::Error where = util::error_at(ws, file, "");
    WarmStart w{.file = file, .line = where.line, .column = where.column};
    if (!ws["db"] || !ws["campaign"]) return fail_at(ws, file, "'warm_start' needs 'db' and 'campaign'");
    KT_TRY(w.db, util::as_string(ws["db"], file, "db"));
    KT_TRY(w.campaign, util::as_string(ws["campaign"], file, "campaign"));
    if (!fs::path(w.db).is_absolute()) w.db = (fs::path(r.dir) / w.db).string();
    if (!fs::exists(w.db)) return fail_at(ws["db"], file, fmt::format("warm-start database '{}' not found", w.db));
    r.warm_start = w;
  }
  // The target last: its checks (files, programs, pool sizes) need `workers:`,
  // and a recipe's own faults read first.
  targets::TargetContext where{r.file, r.dir, "", {}, 0, r.workers, r.workers_line, r.workers_column};
  where.recipe_file = file;
  KT_TRY(r.target_spec, targets::parse_target(r.target, where));
  apply_confirmation_default(r, root);
  return r;
}

util::Result<workloads::Workload> load_recipe_workload(const Recipe& recipe) {
  std::vector<std::string> dirs = {recipe.dir + "/workloads", recipe.dir, recipe.dir + "/../recipes/workloads"};
  return workloads::load_workload(recipe.workload, dirs, recipe.dir);
}

}  // namespace kerntune::campaign
