// The recommender and the interval against the baseline
// (include/kerntune/results/recommend.hpp, docs/recommendation.md).
#include "kerntune/results/recommend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

#include "kerntune/bo/pareto.hpp"
#include "kerntune/bo/recommend.hpp"
#include "kerntune/space/effective.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::results {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Per-run values (each run's median over its repeats) of `metric` for the
/// ok trials of configuration `config` whose kind passes `keep`.
template <class Keep>
std::vector<double> runs(const CampaignView& v, Keep keep, const std::string& metric) {
  std::vector<double> out;
  for (const auto& t : v.trials)
    if (keep(t))
      if (auto x = t.value(metric)) out.push_back(*x);
  return out;
}

/// Runs of `config`: its confirmation runs (`confirm`), or its search runs —
/// for the defaults, every run of them (baseline and rebaselines): the
/// reference is judged on all its runs, so a relative limit (">= 95%
/// baseline") never vetoes the defaults because one of their runs was slow.
std::vector<double> config_runs(const CampaignView& v, const std::string& config, bool confirm, const std::string& metric) {
  return runs(v, [&](const Trial& t) {
    return t.config == config &&
           (confirm ? t.kind == TrialKind::confirm : is_search(t.kind) || measures_defaults(t.kind));
  }, metric);
}

std::vector<double> baseline_runs(const CampaignView& v, const std::string& metric) {
  return runs(v, [](const Trial& t) { return measures_defaults(t.kind); }, metric);
}

/// Confirmation rounds of a configuration: each ok confirm trial with the ok
/// rebaseline right before it (seq order), as (baseline, candidate) run values.
std::vector<std::pair<double, double>> rounds(const CampaignView& v, const std::string& config, const std::string& metric) {
  std::vector<std::pair<double, double>> out;
  for (std::size_t i = 1; i < v.trials.size(); ++i) {
    const Trial& t = v.trials[i];
    const Trial& prev = v.trials[i - 1];
    if (t.kind != TrialKind::confirm || t.config != config || prev.kind != TrialKind::rebaseline) continue;
    auto a = prev.value(metric), b = t.value(metric);
    if (a && b) out.emplace_back(*a, *b);
  }
  return out;
}

/// The baseline a relative limit of `metric` is judged against: the
/// rebaselines of the configuration's confirmation rounds when it is judged
/// on them, else (or when no round paired) every run of the defaults.
double limit_baseline(const CampaignView& v, const std::string& config, bool on_confirmation, const std::string& metric) {
  std::vector<double> base;
  if (on_confirmation)
    for (const auto& r : rounds(v, config, metric)) base.push_back(r.first);
  if (base.empty()) base = baseline_runs(v, metric);
  return base.empty() ? kNaN : stats::median(base);
}

/// One limit of one configuration, judged on the median of `judged`.
Limit judge_limit(const CampaignView& v, const std::string& config, const Objective& o, const std::vector<double>& judged,
                  bool on_confirmation) {
  Limit l;
  l.metric = o.metric;
  l.op = o.limit_op;
  l.on_confirmation = on_confirmation;
  l.value = judged.empty() ? kNaN : stats::median(judged);
  l.relative = o.limit_relative;
  l.fraction = o.limit_relative ? o.limit : 0;
  l.baseline = o.limit_relative ? limit_baseline(v, config, on_confirmation, o.metric) : kNaN;
  std::optional<double> base = o.limit_relative ? std::optional<double>(l.baseline) : std::nullopt;
  l.limit = o.threshold(base).value_or(kNaN);
  l.met = !judged.empty() && o.satisfied_by(l.value, base);
  return l;
}

bool all_positive(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return v > 0 && std::isfinite(v); });
}

double t_quantile(double df) {
  boost::math::students_t dist(df);
  return boost::math::quantile(dist, 0.975);
}

Interval paired_interval(const std::vector<std::pair<double, double>>& r) {
  Interval iv;
  iv.paired = iv.confirmed = true;
  iv.rounds = iv.baseline_runs = iv.candidate_runs = static_cast<int>(r.size());
  std::vector<double> a, b, d;
  for (const auto& [x, y] : r) { a.push_back(x); b.push_back(y); }
  iv.lo = iv.hi = kNaN;
  if (!all_positive(a) || !all_positive(b)) {
    iv.ratio = stats::median(b) / stats::median(a);
    iv.method = fmt::format("ratio of medians over {} confirmation rounds; no interval (a value is not positive)", r.size());
    return iv;
  }
  for (std::size_t i = 0; i < a.size(); ++i) d.push_back(std::log(b[i] / a[i]));
  double m = stats::mean(d);
  iv.ratio = std::exp(m);
  if (d.size() < 2) {
    iv.method = "one confirmation round (a rebaseline and the candidate on fresh runs): no interval";
    return iv;
  }
  double half = t_quantile(static_cast<double>(d.size() - 1)) * stats::stddev(d) / std::sqrt(static_cast<double>(d.size()));
  iv.lo = std::exp(m - half);
  iv.hi = std::exp(m + half);
  iv.method = fmt::format("paired over {} independent confirmation rounds (rebaseline then candidate, each a fresh run), "
                          "Student t on the per-round log ratios",
                          d.size());
  return iv;
}

Interval unpaired_interval(const std::vector<double>& a, const std::vector<double>& b) {
  Interval iv;
  iv.baseline_runs = static_cast<int>(a.size());
  iv.candidate_runs = static_cast<int>(b.size());
  iv.rounds = static_cast<int>(std::min(a.size(), b.size()));
  iv.lo = iv.hi = kNaN;
  if (a.size() < 2 || b.size() < 2 || !all_positive(a) || !all_positive(b)) {
    iv.ratio = stats::median(b) / stats::median(a);
    iv.method = fmt::format("unconfirmed: {} run(s) of the defaults, {} of the candidate; no interval (needs at least 2 "
                            "independent runs a side with positive values)",
                            a.size(), b.size());
    return iv;
  }
  std::vector<double> la, lb;
  for (double x : a) la.push_back(std::log(x));
  for (double x : b) lb.push_back(std::log(x));
  double va = stats::variance(la) / static_cast<double>(la.size());
  double vb = stats::variance(lb) / static_cast<double>(lb.size());
  double m = stats::mean(lb) - stats::mean(la);
  iv.ratio = std::exp(m);
  double se = std::sqrt(va + vb);
  if (se == 0) {
    iv.lo = iv.hi = iv.ratio;
  } else {
    double df = (va + vb) * (va + vb) /
                (va * va / static_cast<double>(la.size() - 1) + vb * vb / static_cast<double>(lb.size() - 1));
    double half = t_quantile(std::max(1.0, df)) * se;
    iv.lo = std::exp(m - half);
    iv.hi = std::exp(m + half);
  }
  iv.method = fmt::format("unconfirmed: {} independent runs of the defaults against {} of the candidate, Welch t on log values",
                          a.size(), b.size());
  return iv;
}

/// The space the campaign searched, rebuilt from its metadata (for the
/// surrogate's encoding); nullopt when the metadata cannot describe it.
std::optional<space::Space> space_of(const CampaignView& v) {
  using nlohmann::json;
  std::vector<space::Parameter> params;
  for (const auto& p : v.metadata.value("parameters", json::array())) {
    if (!p.is_object()) return std::nullopt;
    space::Parameter q;
    q.name = p.value("name", "");
    std::string type = p.value("type", "");
    if (type == "bool") q.type = space::Type::boolean;
    else if (type == "tristate") { q.type = space::Type::tristate; q.values = {"n", "m", "y"}; }
    else if (type == "int") q.type = space::Type::integer;
    else if (type == "real") q.type = space::Type::real;
    else if (type == "choice") q.type = space::Type::choice;
    else return std::nullopt;
    if (p.contains("range") && p["range"].is_array() && p["range"].size() == 2) {
      q.lo = p["range"][0].get<double>();
      q.hi = p["range"][1].get<double>();
    }
    q.log_scale = p.value("scale", "linear") == "log";
    if (q.type == space::Type::choice)
      for (const auto& c : p.value("values", json::array())) q.values.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    const json d = p.value("default", json());
    if (q.type == space::Type::boolean && d.is_boolean()) q.default_value = d.get<bool>();
    else if (q.type == space::Type::integer && d.is_number_integer()) q.default_value = d.get<long long>();
    else if (q.type == space::Type::real && d.is_number()) q.default_value = d.get<double>();
    else if (d.is_string()) q.default_value = d.get<std::string>();
    else return std::nullopt;
    q.when_text = p.value("when", "");
    params.push_back(std::move(q));
  }
  if (params.empty()) return std::nullopt;
  auto s = space::Space::make(std::move(params));
  if (!s) return std::nullopt;
  return std::move(*s);
}

/// The point a search trial is learned at: the effective values where they
/// parse to the parameter's type, else the proposed ones; nullopt when the
/// assignment does not fit the space (never the defaults in its place).
std::optional<std::vector<double>> point_of(const space::Space& s, const Trial& t) {
  auto a = space::learned_assignment(s, t.params, t.effective);  // the same point the campaign's optimizer learns
  if (!a) return std::nullopt;
  try {
    return s.encode(*a);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<bo::Dim> model_dims(const space::Space& space) {
  std::vector<bo::Dim> dims;
  std::vector<std::string> conditions;
  const auto& params = space.parameters();
  const auto encoding = space.encoding();
  for (std::size_t i = 0; i < encoding.size(); ++i) {
    const auto& e = encoding[i];
    bo::Dim d;
    if (i < params.size() && !params[i].when_text.empty()) {
      auto it = std::find(conditions.begin(), conditions.end(), params[i].when_text);
      d.group = static_cast<int>(it - conditions.begin());
      if (it == conditions.end()) conditions.push_back(params[i].when_text);
    }
    switch (e.kind) {
      case space::EncodedDim::Kind::continuous: d.kind = bo::Dim::Kind::continuous; break;
      case space::EncodedDim::Kind::integer: d.kind = bo::Dim::Kind::integer; break;
      case space::EncodedDim::Kind::categorical: d.kind = bo::Dim::Kind::categorical; break;
    }
    d.levels = e.levels;
    d.categories = e.categories;
    dims.push_back(d);
  }
  return dims;
}

namespace {

/// Search-phase score per configuration (minimized): the GP posterior mean at
/// its search trials, or its median over runs when no model can be fitted.
std::map<std::string, double> scores(const CampaignView& v, const Objective& obj, std::string& rule) {
  std::map<std::string, double> out;
  std::vector<bo::Observation> obs;
  std::vector<std::string> configs;
  auto space = space_of(v);
  int ok_points = 0;
  if (space) {
    const std::vector<bo::Dim> dims = model_dims(*space);
    for (const auto& t : v.trials) {
      if (!is_search(t.kind)) continue;
      auto x = t.value(obj.metric);
      auto p = point_of(*space, t);
      if (!x || !p) continue;
      bo::Observation o;
      o.x = *p;
      o.objectives = {obj.maximize ? -*x : *x};
      obs.push_back(std::move(o));
      configs.push_back(t.config);
      ++ok_points;
    }
    if (ok_points >= 3) {
      auto s = bo::posterior_scores(dims, obs);
      std::map<std::string, std::vector<double>> by;
      for (std::size_t i = 0; i < s.size(); ++i)
        if (std::isfinite(s[i])) by[configs[i]].push_back(s[i]);
      for (auto& [c, xs] : by) out[c] = stats::mean(xs);
      rule = fmt::format("lowest GP posterior mean of {} over {} successful search trials", obj.metric, ok_points);
      return out;
    }
  }
  std::map<std::string, std::vector<double>> by;
  for (const auto& t : v.trials)
    if (is_search(t.kind))
      if (auto x = t.value(obj.metric)) by[t.config].push_back(obj.maximize ? -*x : *x);
  for (auto& [c, xs] : by) out[c] = stats::median(xs);
  rule = fmt::format("best median {} over runs (too few trials for the surrogate)", obj.metric);
  return out;
}

bool any_confirmation(const CampaignView& v) {
  return std::any_of(v.trials.begin(), v.trials.end(), [](const Trial& t) { return t.kind == TrialKind::confirm; });
}

/// The feasible configurations no other feasible one dominates in every
/// optimized objective (by their medians over the runs judged), best first in `obj`.
std::vector<Candidate> front_of(const std::vector<Candidate>& ranked, const std::vector<Objective>& optimized,
                                const Objective& obj) {
  std::vector<bo::Observation> obs;
  std::vector<const Candidate*> who;
  for (const auto& c : ranked) {
    if (!c.feasible) continue;
    bo::Observation ob;
    for (const auto& x : optimized) {
      auto it = c.value.find(x.metric);
      ob.objectives.push_back(it == c.value.end() ? kNaN : (x.maximize ? -it->second : it->second));
    }
    ob.ok = std::all_of(ob.objectives.begin(), ob.objectives.end(), [](double d) { return std::isfinite(d); });
    obs.push_back(ob);
    who.push_back(&c);
  }
  std::vector<Candidate> front;
  for (std::size_t i : bo::pareto_front(obs)) front.push_back(*who[i]);
  std::sort(front.begin(), front.end(), [&](const Candidate& a, const Candidate& b) {
    return obj.better(a.value.at(obj.metric), b.value.at(obj.metric));
  });
  return front;
}

}  // namespace

std::string Limit::bound_text() const {
  if (!relative) return fmt::format("{} {:.6g}", op, limit);
  if (!std::isfinite(limit)) return fmt::format("{} {:.6g}% baseline (no baseline measured)", op, fraction * 100);
  return fmt::format("{} {:.6g} ({:.6g}% of the baseline's {:.6g})", op, limit, fraction * 100, baseline);
}

bool Interval::has_interval() const { return std::isfinite(lo) && std::isfinite(hi); }

std::string Interval::verdict(bool maximize) const {
  if (!has_interval()) return "no interval";
  bool better = maximize ? lo > 1.0 : hi < 1.0;
  bool worse = maximize ? hi < 1.0 : lo > 1.0;
  return better ? "significant improvement" : worse ? "significant regression" : "not significant";
}

std::optional<Interval> compare_to_baseline(const CampaignView& v, std::size_t index, const std::string& metric) {
  if (index >= v.trials.size()) return std::nullopt;
  const Trial& t = v.trials[index];
  if (!t.ok || measures_defaults(t.kind) || !t.value(metric)) return std::nullopt;
  auto r = rounds(v, t.config, metric);
  if (!r.empty()) return paired_interval(r);
  auto a = baseline_runs(v, metric);
  auto b = config_runs(v, t.config, false, metric);
  if (a.empty() || b.empty()) return std::nullopt;
  return unpaired_interval(a, b);
}

namespace {
/// rank_candidates, also returning how the scores were made (`rule`).
std::vector<Candidate> rank(const CampaignView& v, const Objective& obj, std::string& rule) {
  auto score = scores(v, obj, rule);
    std::vector<Candidate> out;
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < v.trials.size(); ++i) {
      const Trial& t = v.trials[i];
      if (!(is_search(t.kind) || t.kind == TrialKind::confirm) || !t.value(obj.metric) || seen.contains(t.config)) continue;
      seen[t.config] = i;
      Candidate c;
      c.trial = i;
      c.config = t.config;
      c.search_runs = static_cast<int>(config_runs(v, t.config, false, obj.metric).size());
      c.confirm_runs = static_cast<int>(config_runs(v, t.config, true, obj.metric).size());
      for (const auto& o : v.objectives) {
        auto conf = config_runs(v, t.config, true, o.metric);
        auto judged = conf.empty() ? config_runs(v, t.config, false, o.metric) : conf;
        if (o.optimized && !judged.empty()) c.value[o.metric] = stats::median(judged);
        if (!o.has_limit()) continue;
        Limit l = judge_limit(v, t.config, o, judged, !conf.empty());
        c.feasible = c.feasible && l.met;
        c.limits.push_back(l);
      }
      auto it = score.find(t.config);
      c.score = it != score.end() ? it->second : std::numeric_limits<double>::infinity();
      out.push_back(std::move(c));
    }
    // Feasible first, then by the search-phase score; ties keep seq order.
    std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
      if (a.feasible != b.feasible) return a.feasible;
      return a.score < b.score;
    });
    return out;
}
}  // namespace

std::vector<Candidate> rank_candidates(const CampaignView& v, const Objective& obj) {
  std::string rule;
  return rank(v, obj, rule);
}

util::Result<Recommendation> recommend(const CampaignView& v, const RecommendOptions& o) {
  Recommendation rec;
  auto optimized = v.optimized();
  if (optimized.empty()) return util::invalid_input("the campaign has no optimized objective (a metric with a direction)");
  if (o.metric.empty()) {
    rec.objective = optimized.front();
  } else {
    const Objective* found = v.find(o.metric);
    if (!found || !found->optimized) {
      std::string names;
      for (const auto& x : optimized) names += (names.empty() ? "" : ", ") + x.metric;
      return util::invalid_input(fmt::format("'{}' is not an optimized objective of campaign '{}' (its objectives: {})", o.metric,
                                             v.campaign.name, names));
    }
    rec.objective = *found;
  }
  const Objective& obj = rec.objective;
  std::string rule;
  auto ranked = rank(v, obj, rule);  // one surrogate fit gives the ranking and its rule
  rec.candidates = static_cast<int>(ranked.size());
  for (const auto& c : ranked) rec.infeasible += c.feasible ? 0 : 1;
  // Several objectives: the feasible front over the configurations, and the
  // pick is made among its members.
  if (optimized.size() >= 2) rec.front = front_of(ranked, optimized, obj);
  const std::vector<Candidate>& eligible = optimized.size() >= 2 ? rec.front : ranked;
  const Candidate* chosen = nullptr;
  for (const auto& c : eligible)
    if (c.feasible && c.confirm_runs > 0 && (!chosen || c.score < chosen->score)) chosen = &c;
  const std::string among =
      optimized.size() >= 2 ? fmt::format(" among the {} configurations of the feasible Pareto front", rec.front.size()) : "";
  if (chosen) {
    rec.rule = fmt::format("the confirmed candidate ranked first by the search phase ({}{}); confirmation runs only veto a "
                           "broken limit, they do not pick",
                           rule, among);
  } else {
    for (const auto& c : eligible)
      if (c.feasible && (!chosen || c.score < chosen->score)) chosen = &c;
    rec.rule = rule + among;
  }
  if (!chosen) {
    rec.rule = "no configuration keeps every limit";
    if (!ranked.empty()) {
      const Candidate& c = ranked.front();
      std::string broken;
      for (const auto& l : c.limits)
        if (!l.met) broken += fmt::format("{}{} = {:.6g} (limit {})", broken.empty() ? "" : ", ", l.metric, l.value, l.bound_text());
      rec.notes.push_back(fmt::format("none of the {} measured configurations keeps every limit; e.g. trial {}: {}",
                                      ranked.size(), v.trials[c.trial].seq, broken));
    }
    return rec;
  }
  rec.chosen = *chosen;
  rec.pick = chosen->trial;
  // The luckiest feasible search trial, shown beside the pick when it differs.
  for (std::size_t i = 0; i < v.trials.size(); ++i) {
    const Trial& t = v.trials[i];
    auto x = t.value(obj.metric);
    if (!is_search(t.kind) || !x) continue;
    auto it = std::find_if(ranked.begin(), ranked.end(), [&](const Candidate& c) { return c.config == t.config; });
    if (it == ranked.end() || !it->feasible) continue;
    if (!rec.raw_best || obj.better(*x, *v.trials[*rec.raw_best].value(obj.metric))) rec.raw_best = i;
  }
  rec.interval = compare_to_baseline(v, *rec.pick, obj.metric);
  if (measures_defaults(v.trials[*rec.pick].kind))
    rec.notes.push_back("the defaults are the best configuration measured: nothing to change");
  else if (rec.interval && !rec.interval->confirmed)
    rec.notes.push_back(fmt::format(
        "unconfirmed: this configuration was picked from the same runs that measure it (the best of {} configurations), so "
        "the gain is optimistic (winner's curse); {}",
        ranked.size(),
        any_confirmation(v) ? "the confirmation phase re-measured other candidates (they broke a limit or ranked lower)"
                            : "set noise.confirm_top to re-measure it on fresh runs interleaved with the baseline"));
  if (rec.raw_best && v.trials[*rec.raw_best].config != chosen->config)
    rec.notes.push_back(fmt::format("the single best measurement is trial {} ({} = {:.6g}); the surrogate, which weighs its "
                                    "neighbours, does not rank that configuration first (a lucky sample is not a better configuration)",
                                    v.trials[*rec.raw_best].seq, obj.metric, *v.trials[*rec.raw_best].value(obj.metric)));
  return rec;
}

// ---- JSON (`best --json`, the dashboard) ----------------------------------

namespace {
nlohmann::json candidate_json(const CampaignView& v, const Candidate& c) {
  auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  nlohmann::json limits = nlohmann::json::array();
  for (const auto& l : c.limits)
    limits.push_back({{"metric", l.metric}, {"op", l.op}, {"limit", num(l.limit)}, {"value", num(l.value)}, {"met", l.met},
                      {"on_confirmation", l.on_confirmation},
                      {"relative", l.relative ? nlohmann::json(l.fraction) : nlohmann::json()},
                      {"baseline", l.relative ? num(l.baseline) : nlohmann::json()}});
  return {{"seq", v.trials[c.trial].seq}, {"params", v.trials[c.trial].params}, {"values", c.value},
          {"search_runs", c.search_runs}, {"confirm_runs", c.confirm_runs}, {"feasible", c.feasible}, {"limits", limits}};
}

}  // namespace

nlohmann::json to_json(const std::optional<Interval>& iv, bool maximize) {
  if (!iv) return nullptr;
  auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  return {{"ratio", num(iv->ratio)}, {"ci95", {num(iv->lo), num(iv->hi)}}, {"method", iv->method}, {"n", iv->rounds},
          {"rounds", iv->rounds}, {"baseline_runs", iv->baseline_runs}, {"candidate_runs", iv->candidate_runs},
          {"paired", iv->paired}, {"confirmed", iv->confirmed}, {"verdict", iv->verdict(maximize)}};
}

nlohmann::json to_json(const CampaignView& v, const Recommendation& rec) {
  nlohmann::json j = rec.pick ? to_json(v.trials[*rec.pick]) : nlohmann::json::object();
  j["objective"] = {{"metric", rec.objective.metric}, {"direction", rec.objective.maximize ? "maximize" : "minimize"}};
  j["improvement"] = to_json(rec.interval, rec.objective.maximize);
  nlohmann::json front = nlohmann::json::array();
  for (const auto& f : rec.front) front.push_back(candidate_json(v, f));
  j["recommendation"] = {{"found", rec.pick.has_value()}, {"rule", rec.rule}, {"candidates", rec.candidates},
                         {"infeasible", rec.infeasible}, {"notes", rec.notes},
                         {"raw_best_seq", rec.raw_best ? nlohmann::json(v.trials[*rec.raw_best].seq) : nlohmann::json()},
                         {"chosen", rec.chosen ? candidate_json(v, *rec.chosen) : nlohmann::json()}};
  j["front"] = front;
  return j;
}

}  // namespace kerntune::results
