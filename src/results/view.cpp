// The campaign read model (include/kerntune/results/view.hpp).
#include "kerntune/results/view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "kerntune/stats/stats.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::results {
using nlohmann::json;

TrialKind kind_from_string(std::string_view s) {
  if (s == "baseline") return TrialKind::baseline;
  if (s == "proposal") return TrialKind::proposal;
  if (s == "rebaseline") return TrialKind::rebaseline;
  if (s == "confirm") return TrialKind::confirm;
  return TrialKind::unknown;
}

std::string_view to_string(TrialKind k) {
  switch (k) {
    case TrialKind::baseline: return "baseline";
    case TrialKind::proposal: return "proposal";
    case TrialKind::rebaseline: return "rebaseline";
    case TrialKind::confirm: return "confirm";
    case TrialKind::unknown: break;
  }
  return "unknown";
}

std::optional<double> Objective::threshold(std::optional<double> baseline) const {
  if (!limit_relative) return limit;
  if (!baseline || !std::isfinite(*baseline) || *baseline <= 0) return std::nullopt;
  return limit * *baseline;
}

bool Objective::satisfied_by(double v, std::optional<double> baseline) const {
  if (!has_limit()) return true;
  auto t = threshold(baseline);
  if (!t) return false;
  return limit_op == "<=" ? v <= *t : v >= *t;
}

std::string Objective::limit_text() const {
  return has_limit() ? fmt::format("{} {}", metric, format_limit({limit_op, limit, limit_relative})) : metric;
}

std::optional<double> Trial::value(const std::string& metric) const {
  if (!ok) return std::nullopt;
  auto it = metrics.find(metric);
  if (it == metrics.end()) return std::nullopt;
  return it->second;
}

const nlohmann::json* Trial::adjustment(const std::string& name) const {
  for (const auto& a : adjusted)
    if (a.is_object() && a.value("parameter", "") == name) return &a;
  return nullptr;
}

std::vector<Objective> CampaignView::optimized() const {
  std::vector<Objective> out;
  for (const auto& o : objectives)
    if (o.optimized) out.push_back(o);
  return out;
}

const Objective* CampaignView::find(const std::string& metric) const {
  for (const auto& o : objectives)
    if (o.metric == metric) return &o;
  return nullptr;
}

const Trial* CampaignView::trial_by_seq(int seq) const {
  for (const auto& t : trials)
    if (t.seq == seq) return &t;
  return nullptr;
}

const Trial* CampaignView::baseline() const {
  for (const auto& t : trials)
    if (t.kind == TrialKind::baseline) return &t;
  return nullptr;
}

namespace {
/// "95% baseline" / "95% of baseline" -> "95"; nullopt when `rest` is not relative.
std::optional<std::string> relative_percent(const std::string& rest) {
  constexpr std::string_view kWord = "baseline";
  if (!rest.ends_with(kWord)) return std::nullopt;
  std::string head = util::trim(rest.substr(0, rest.size() - kWord.size()));
  if (head.ends_with(" of")) head = util::trim(head.substr(0, head.size() - 3));
  if (!head.ends_with('%')) return std::string();  // "baseline" without a percentage: malformed
  return util::trim(head.substr(0, head.size() - 1));
}

std::optional<double> finite_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}
}  // namespace

std::optional<LimitSpec> parse_limit(std::string_view text) {
  std::string s = util::trim(std::string(text));
  LimitSpec l;
  if (s.starts_with("<=") || s.starts_with(">=")) l.op = s.substr(0, 2);
  else return std::nullopt;
  std::string rest = util::trim(s.substr(2));
  auto percent = relative_percent(rest);
  auto v = finite_number(percent ? *percent : rest);
  if (!v) return std::nullopt;
  if (percent) {
    if (*v <= 0) return std::nullopt;
    l.relative = true;
    l.value = *v / 100.0;
  } else {
    l.value = *v;
  }
  return l;
}

std::string format_limit(const LimitSpec& l) {
  return l.relative ? fmt::format("{} {:.10g}% baseline", l.op, l.value * 100.0) : fmt::format("{} {}", l.op, l.value);
}

std::string describe_extra_repeats(const json& x) {
  if (!x.is_object()) return "";
  auto count = [&](const char* k) { return x.contains(k) && x[k].is_number_integer() ? x[k].get<int>() : 0; };
  std::string why = x.contains("why") && x["why"].is_string() ? x["why"].get<std::string>() : "";
  return fmt::format("{} instead of {} repeats: {}", count("after"), count("planned"), why);
}

std::string describe_early_stop(const json& es) {
  if (!es.is_object()) return "";
  auto number = [&](const char* k) { return es.contains(k) && es[k].is_number_integer() ? es[k].get<long long>() : 0LL; };
  std::string why = es.contains("why") && es["why"].is_string() ? es["why"].get<std::string>() : "";
  return fmt::format("after {} of {} repeats: {}", number("after"), number("of"), why);
}

json to_json(const Trial& t) {
  json j;
  j["seq"] = t.seq;
  j["kind"] = std::string(to_string(t.kind));
  j["status"] = std::string(t.status());
  j["params"] = t.params;
  j["effective"] = t.effective;
  j["adjusted"] = t.adjusted;
  j["metrics"] = t.metrics;
  j["samples"] = t.samples;
  if (!t.pooled.empty()) j["pooled"] = t.pooled;
  j["units"] = t.units;
  if (t.ok) j["failure"] = nullptr;
  else j["failure"] = {{"stage", t.failure_stage}, {"reason", t.failure_reason}};
  j["timings"] = t.timings;
  j["worker"] = t.worker;
  j["started_at"] = t.started_at;
  j["finished_at"] = t.finished_at;
  if (!t.early_stop.is_null()) j["early_stop"] = t.early_stop;
  if (!t.extra_repeats.is_null()) j["extra_repeats"] = t.extra_repeats;
  return j;
}

namespace {

json parse_object(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

Objective objective_from(const std::string& metric, const std::string& direction, const std::string& limit) {
  Objective o;
  o.metric = metric;
  o.optimized = !direction.empty();
  o.maximize = direction.rfind("max", 0) == 0;
  if (auto l = parse_limit(limit)) {
    o.limit_op = l->op;
    o.limit = l->value;
    o.limit_relative = l->relative;
  }
  return o;
}

std::vector<Objective> objectives_from_metadata(const json& meta) {
  std::vector<Objective> out;
  for (const auto& o : meta.value("objectives", json::array())) {
    if (!o.is_object() || !o.contains("metric") || !o["metric"].is_string()) continue;
    std::string dir = o.contains("direction") && o["direction"].is_string() ? o["direction"].get<std::string>() : "";
    std::string lim = o.contains("limit") && o["limit"].is_string() ? o["limit"].get<std::string>() : "";
    out.push_back(objective_from(o["metric"].get<std::string>(), dir, lim));
  }
  return out;
}

/// Stores written before the metadata held objectives: read the recipe text once.
std::vector<Objective> objectives_from_recipe(const store::CampaignRow& c) {
  std::vector<Objective> out;
  auto node = util::load_yaml_string(c.recipe_text, c.recipe_path);
  if (!node || !(*node)["objectives"] || !(*node)["objectives"].IsSequence()) return out;
  for (const auto& o : (*node)["objectives"]) {
    if (!o.IsMap() || !o["metric"]) continue;
    std::string dir = o["direction"] ? o["direction"].Scalar() : "";
    std::string lim = o["limit"] ? o["limit"].Scalar() : "";
    out.push_back(objective_from(o["metric"].Scalar(), dir, lim));
  }
  return out;
}

/// budget.trials of the stored recipe text (stores without metadata "budget").
std::optional<int> budget_from_recipe(const store::CampaignRow& c) {
  auto node = util::load_yaml_string(c.recipe_text, c.recipe_path);
  if (!node || !node->IsMap() || !(*node)["budget"] || !(*node)["budget"].IsMap()) return std::nullopt;
  auto t = (*node)["budget"]["trials"];
  if (!t || !t.IsScalar()) return std::nullopt;
  try {
    return t.as<int>();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace

Trial make_trial(const store::TrialRecord& r) {
  Trial t;
  t.id = r.id;
  t.seq = r.seq;
  t.kind = kind_from_string(r.kind);
  t.ok = r.status == "ok";
  t.params = parse_object(r.params_json);
  t.effective = parse_object(r.effective_json);
  if (auto it = t.effective.find("adjusted"); it != t.effective.end()) {
    if (it->is_array()) t.adjusted = *it;
    t.effective.erase(it);
  }
  if (auto it = t.effective.find("extra_repeats"); it != t.effective.end()) {
    if (it->is_object()) t.extra_repeats = *it;
    t.effective.erase(it);
  }
  if (auto it = t.effective.find("early_stop"); it != t.effective.end()) {
    if (it->is_object()) t.early_stop = *it;
    t.effective.erase(it);
  }
  t.config = t.params.dump();
  std::map<std::string, double> pooled;
  for (const auto& m : r.measurements) {
    if (m.repeat == store::kPooledRepeat && std::isfinite(m.value)) pooled[m.metric] = m.value;
    if (m.repeat < 0) continue;
    auto& v = t.samples[m.metric];
    auto k = static_cast<std::size_t>(m.repeat);
    if (v.size() <= k) v.resize(k + 1, std::nan(""));
    v[k] = m.value;
    if (!m.unit.empty()) t.units[m.metric] = m.unit;
  }
  for (auto& [name, v] : t.samples) {
    std::erase_if(v, [](double x) { return !std::isfinite(x); });
    if (!v.empty()) t.metrics[name] = stats::median(v);
  }
  // A distribution metric's trial value is its percentile over all repeats pooled, not the median of theirs.
  for (const auto& [name, value] : pooled)
    if (t.samples.contains(name)) {
      t.metrics[name] = value;
      t.pooled.insert(name);
    }
  t.failure_stage = r.failure_stage;
  t.failure_reason = r.failure_reason;
  t.timings = r.timings;
  t.worker = r.worker;
  t.started_at = r.started_at;
  t.finished_at = r.finished_at;
  return t;
}

CampaignView make_view(const store::CampaignRow& campaign, const std::vector<store::TrialRecord>& trials) {
  CampaignView v;
  v.campaign = campaign;
  v.metadata = parse_object(campaign.metadata_json);
  v.objectives = v.metadata.contains("objectives") ? objectives_from_metadata(v.metadata) : objectives_from_recipe(campaign);
  if (v.metadata.contains("budget") && v.metadata["budget"].is_number_integer()) v.budget = v.metadata["budget"].get<int>();
  else v.budget = budget_from_recipe(campaign);
  if (v.metadata.contains("defaults") && v.metadata["defaults"].is_object()) v.defaults = v.metadata["defaults"];
  v.trials.reserve(trials.size());
  for (const auto& r : trials) v.trials.push_back(make_trial(r));
  std::stable_sort(v.trials.begin(), v.trials.end(), [](const Trial& a, const Trial& b) { return a.seq < b.seq; });
  // With `baseline: target` the baseline is what trial 0 read from the target, not the file's defaults.
  if (v.defaults.empty() || v.metadata.value("baseline", "") == "target")
    for (const auto& t : v.trials)
      if (t.kind == TrialKind::baseline) { v.defaults = t.params; break; }
  return v;
}

util::Result<CampaignView> load_view(store::Store& store, const store::CampaignRow& campaign) {
  KT_TRY(auto rows, store.trials(campaign.id));
  return make_view(campaign, rows);
}

nlohmann::json to_json(const store::ArtifactRow& a) {
  std::string text = util::valid_utf8(a.content);
  nlohmann::json j{{"name", a.name}, {"content", text}};
  if (text != a.content) j["content_base64"] = util::base64_encode(a.content);
  return j;
}

}  // namespace kerntune::results
