// The gate's sides, its interleaved runner and its decision.
#include "kerntune/gate/gate.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <variant>

#include "kerntune/campaign/realize.hpp"
#include "kerntune/campaign/results.hpp"
#include "kerntune/campaign/trial_runner.hpp"
#include "kerntune/export/bundle.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::gate {
namespace fs = std::filesystem;
using nlohmann::json;

std::string to_string(Decision d) {
  switch (d) {
    case Decision::pass: return "pass";
    case Decision::regression: return "regression";
    case Decision::inconclusive: return "inconclusive";
    case Decision::error: return "error";
  }
  return "error";
}

util::Result<space::Assignment> assignment_from_values(const space::Space& space, const json& values) {
  json full = json::object();
  for (const auto& p : space.parameters()) full[p.name] = space::to_json(p.default_value);
  for (const auto& [k, v] : values.items())
    if (space.find(k)) full[k] = v;
  KT_TRY(space::Assignment all, space.from_json(full));
  auto mask = space.active_mask(all);
  space::Assignment a;
  for (std::size_t i = 0; i < space.size(); ++i) {
    const auto& name = space.parameters()[i].name;
    if (mask[i] && all.contains(name)) a[name] = all.at(name);
  }
  KT_TRY_STATUS(space.validate(a));
  return a;
}

namespace {

/// A bundle's Kconfig values are built by the recipe's kernel stage, which
/// builds the kconfig parameters of the recipe's space: a bundle symbol the
/// space does not have would silently be measured on another kernel.
util::Status check_bundle_kconfig(const campaign::Recipe& recipe, const json& manifest, const std::string& spec) {
  std::vector<std::string> unknown;
  for (const auto& p : manifest.value("parameters", json::array())) {
    if (!p.is_object() || p.value("domain", "") != "kconfig") continue;
    const std::string name = p.value("name", "");
    const space::Parameter* q = recipe.space.find(name);
    if (!q || q->domain != space::Domain::kconfig) unknown.push_back(name);
  }
  if (unknown.empty()) return {};
  std::string names;
  for (const auto& n : unknown) names += (names.empty() ? "" : ", ") + util::printable(n);
  return util::fail(util::Error{
      util::Error::Kind::invalid_input,
      fmt::format("the bundle sets Kconfig symbols that are not kconfig parameters of {} ({}): its kernel is built from "
                  "the recipe's kernel_source: and kconfig parameters, so gate it with the campaign's recipe "
                  "(docs/gate.md, \"Kconfig values\")",
                  recipe.file, names),
      spec, 0, 0});
}

}  // namespace

util::Result<Side> resolve_side(const campaign::Recipe& recipe, const std::string& spec, const SideContext& ctx) {
  Side side;
  if (spec == "default" || spec == "baseline") {
    side.label = recipe.baseline_from_target ? "default (the target as it runs)" : "default";
    side.assignment = recipe.space.defaults();
    side.as_is = recipe.baseline_from_target;
    return side;
  }
  int seq = 0;
  auto [ptr, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), seq);
  if (ec == std::errc() && ptr == spec.data() + spec.size() && !fs::exists(spec)) {
    if (!ctx.allow_trial) return util::invalid_input(fmt::format("'{}': a trial is accepted as the candidate only", spec));
    if (ctx.db.empty() || !fs::exists(ctx.db))
      return util::invalid_input(fmt::format("candidate trial {} needs --db naming an existing campaign database", seq));
    KT_TRY(store::Store st, store::Store::open(ctx.db, {.create = false, .read_only = true}));
    KT_TRY(auto row, campaign::resolve_campaign(st, ctx.campaign));
    KT_TRY(auto view, results::load_view(st, row));
    const results::Trial* t = view.trial_by_seq(seq);
    if (!t) return util::invalid_input(fmt::format("campaign '{}' has no trial {}", row.name, seq));
    KT_TRY(side.assignment, assignment_from_values(recipe.space, t->params));
    side.label = fmt::format("trial {} of {}", seq, row.name);
    return side;
  }
  if (!fs::exists(spec)) return util::fail(util::Error{util::Error::Kind::invalid_input,
                                                       "no such bundle, kernel image or trial ('default' for the defaults)", spec, 0, 0});
  bool archive = spec.ends_with(".tar.gz") || spec.ends_with(".tgz");
  if (fs::is_directory(spec) || archive) {
    std::string scratch = (fs::path(ctx.scratch) / fmt::format("bundle-{}", std::hash<std::string>{}(spec))).string();
    KT_TRY(std::string dir, bundle::open_bundle(spec, scratch));
    KT_TRY(json manifest, bundle::verify_bundle(dir));
    KT_TRY_STATUS(check_bundle_kconfig(recipe, manifest, spec));
    KT_TRY(side.assignment, assignment_from_values(recipe.space, bundle::bundle_values(manifest)));
    side.label = fmt::format("bundle {}", manifest.value("name", fs::path(spec).filename().string()));
    return side;
  }
  side.label = fmt::format("kernel {}", spec);
  side.kernel = fs::absolute(spec).string();
  side.assignment = recipe.space.defaults();
  return side;
}

GateResult decide(const std::vector<double>& a, const std::vector<double>& b, bool maximize, const GateOptions& o) {
  GateResult r;
  r.maximize = maximize;
  r.max_regression = o.max_regression;
  r.a = a;
  r.b = b;
  auto ci = stats::bootstrap_pair_ratio_ci(a, b, o.level, 10000, o.seed);
  if (a.size() < 3 || !ci) {
    r.decision = Decision::error;
    r.message = a.size() < 3 ? fmt::format("{} pairs measured; the gate needs at least 3 (use --repeats)", a.size())
                             : "cannot estimate the ratio: " + ci.error().message;
    return r;
  }
  r.ci = *ci;
  if (auto t = stats::wilcoxon_signed_rank(a, b)) r.test = *t;
  // The regression boundary on the ratio B/A and which side of it is worse.
  const double bound = maximize ? 1.0 - o.max_regression : 1.0 + o.max_regression;
  bool worse = maximize ? ci->hi < bound : ci->lo > bound;
  bool within = maximize ? ci->lo >= bound : ci->hi <= bound;
  std::string what = fmt::format("ratio candidate/baseline {:.4f} [{:.4f}, {:.4f}] ({:.0f}% interval, {} pairs); "
                                 "{} is better, allowed regression {:.1f}% (boundary {:.4f})",
                                 ci->ratio, ci->lo, ci->hi, o.level * 100, a.size(), maximize ? "higher" : "lower",
                                 o.max_regression * 100, bound);
  if (worse) {
    r.decision = Decision::regression;
    r.message = "the whole interval lies beyond the allowed regression: " + what;
  } else if (within) {
    r.decision = Decision::pass;
    r.message = "the whole interval lies within the allowed regression: " + what;
  } else {
    r.decision = Decision::inconclusive;
    // Aim the interval's half-width at the distance between the estimate
    // and the boundary: then it ends on one side of it.
    double gap = std::fabs(std::log(ci->ratio) - std::log(bound));
    stats::RepeatsOptions ro;
    ro.target_half_width = std::clamp(std::exp(gap) - 1.0, 0.001, 0.5);
    ro.level = o.level;
    if (auto n = stats::required_repeats(a, b, true, ro)) r.needed = *n;
    r.message = "the interval straddles the allowed-regression boundary: " + what +
                (r.needed ? fmt::format("; about {}{} repeats per side would settle it", r.needed->repeats,
                                        r.needed->capped ? "+" : "")
                          : "");
  }
  return r;
}

namespace {

/// One run of a side through the trial runner: the metric's median over its
/// measured repeats, or a failure description.
util::Result<std::variant<double, std::string>> run_once(const campaign::TrialRunner& runner, targets::Target& target,
                                                          const Side& side, const std::string& metric, int seq,
                                                          int warmup, std::string& unit) {
  campaign::TrialSpec spec;
  spec.seq = seq;
  spec.assignment = side.assignment;
  spec.read_current = side.as_is;
  spec.repeats = 1;
  if (warmup >= 0) spec.warmup = warmup;
  spec.kernel = side.kernel;
  KT_TRY(auto out, runner.run(target, spec));
  if (!out.ok) return std::variant<double, std::string>(fmt::format("{} failed at {}: {}", side.label, out.failure_stage, out.failure_reason));
  auto it = out.samples.find(metric);
  if (it == out.samples.end() || it->second.empty())
    return std::variant<double, std::string>(fmt::format("{}: the run reported no '{}'", side.label, metric));
  if (out.units.contains(metric)) unit = out.units.at(metric);
  if (out.timings.contains("cache_hit"))
    util::log_info("gate: run {} ({}) booted the kernel built for its Kconfig values ({})", seq, side.label,
                   out.timings.at("cache_hit") > 0 ? "from the build cache"
                                                    : fmt::format("built in {:.0f}s", out.timings.at("build")));
  if (auto p = out.pooled.find(metric); p != out.pooled.end()) return std::variant<double, std::string>(p->second);
  return std::variant<double, std::string>(stats::median(it->second));
}

}  // namespace

util::Result<GateResult> run_gate(const campaign::Recipe& recipe, const Side& baseline, const Side& candidate,
                                  const GateOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  std::string metric = o.metric;
  bool maximize = false;
  bool found = false;
  for (const auto& obj : recipe.objectives) {
    if (!obj.is_objective) continue;
    if (metric.empty() || obj.metric == metric) { metric = obj.metric; maximize = obj.maximize; found = true; break; }
  }
  if (!found) return util::invalid_input(metric.empty() ? "the recipe has no objective" : fmt::format("'{}' is not an objective of the recipe", metric));
  if (o.repeats < 3) return util::invalid_input("--repeats must be at least 3");
  if (!(o.max_regression >= 0 && o.max_regression < 1)) return util::invalid_input("--max-regression must be in [0%, 100%)");

  std::string work_dir = o.work_dir;
  std::error_code ec;
  util::TempDirGuard cleanup;  // a private default work folder, removed on every way out
  if (work_dir.empty()) {
    KT_TRY(work_dir, util::make_temp_dir("kerntune-gate"));
    cleanup = util::TempDirGuard(work_dir);
  }
  fs::create_directories(work_dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create work folder '{}': {}", work_dir, ec.message()));

  // The trial runner tune uses: the recipe's target (Slurm jobs with
  // `executor: slurm`), each side's Kconfig values built by the kernel stage.
  KT_TRY(auto runner, campaign::TrialRunner::create(recipe, {work_dir, 1, {metric}, {}}));
  KT_TRY(auto target, runner.make_target(0));

  std::vector<double> a, b;
  std::string unit, failure;
  int seq = 0;
  for (int round = 0; round < o.repeats && failure.empty(); ++round) {
    // A B, B A, A B, … : each side first in half the rounds, so a slow drift
    // in time biases neither side.
    bool a_first = round % 2 == 0;
    double va = 0, vb = 0;
    for (int k = 0; k < 2 && failure.empty(); ++k) {
      bool is_a = (k == 0) == a_first;
      if (util::stop_requested()) { target->shutdown(); return util::fail("interrupted", util::Error::Kind::interrupted); }
      auto r = run_once(runner, *target, is_a ? baseline : candidate, metric, seq++, o.warmup, unit);
      if (!r) { target->shutdown(); return std::unexpected(r.error()); }
      if (std::holds_alternative<std::string>(*r)) failure = std::get<std::string>(*r);
      else (is_a ? va : vb) = std::get<double>(*r);
    }
    if (!failure.empty()) break;
    a.push_back(va);
    b.push_back(vb);
    util::log_debug("gate round {}: baseline {:.6g}, candidate {:.6g}", round + 1, va, vb);
  }
  target->shutdown();
  GateResult r;
  if (!failure.empty()) {
    r.decision = Decision::error;
    r.maximize = maximize;
    r.max_regression = o.max_regression;
    r.a = a;
    r.b = b;
    r.message = failure;
  } else {
    r = decide(a, b, maximize, o);
  }
  r.metric = metric;
  r.unit = unit;
  r.baseline_label = baseline.label;
  r.candidate_label = candidate.label;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace kerntune::gate
