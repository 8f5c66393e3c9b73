// Reading a stored campaign for the report: trial views, parameter and
// objective metadata, the best trial.
#include <cmath>
#include <string>

#include "kerntune/report/report.hpp"
#include "kerntune/stats/best.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::report {

TrialView view(const store::TrialRecord& t) {
  TrialView v;
  v.id = t.id;
  v.seq = t.seq;
  v.kind = t.kind;
  v.status = t.status;
  v.params = nlohmann::json::parse(t.params_json, nullptr, false);
  if (!v.params.is_object()) v.params = nlohmann::json::object();
  for (const auto& m : t.measurements) {
    auto& s = v.samples[m.metric];
    if (s.size() <= static_cast<std::size_t>(m.repeat)) s.resize(static_cast<std::size_t>(m.repeat) + 1, std::nan(""));
    s[static_cast<std::size_t>(m.repeat)] = m.value;
    if (!m.unit.empty()) v.units[m.metric] = m.unit;
  }
  for (auto& [name, s] : v.samples) {
    std::erase_if(s, [](double x) { return std::isnan(x); });
    if (!s.empty()) v.metrics[name] = stats::median(s);
  }
  v.failure_stage = t.failure_stage;
  v.failure_reason = t.failure_reason;
  v.started_at = t.started_at;
  v.finished_at = t.finished_at;
  return v;
}

namespace {
nlohmann::json metadata(const store::CampaignRow& c) {
  auto j = nlohmann::json::parse(c.metadata_json, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}
}  // namespace

std::vector<ParamMeta> parameters(const store::CampaignRow& campaign) {
  std::vector<ParamMeta> out;
  auto md = metadata(campaign);
  if (!md.contains("parameters") || !md["parameters"].is_array()) return out;
  for (const auto& p : md["parameters"]) {
    if (!p.is_object() || !p.contains("name")) continue;
    ParamMeta m;
    m.name = p.value("name", "");
    m.domain = p.value("domain", "");
    m.type = p.value("type", "");
    m.default_value = p.value("default", nlohmann::json());
    if (p.contains("range") && p["range"].is_array() && p["range"].size() == 2) {
      m.lo = p["range"][0].get<double>();
      m.hi = p["range"][1].get<double>();
    }
    if (p.contains("values") && p["values"].is_array())
      for (const auto& v : p["values"]) m.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    if (m.type == "bool" && m.values.empty()) m.values = {"false", "true"};
    if (m.type == "tristate" && m.values.empty()) m.values = {"n", "m", "y"};
    // Older metadata lacks "scale": a wide positive range is read as log scale.
    if (p.contains("scale")) m.log_scale = p["scale"] == "log";
    else m.log_scale = (m.type == "int" || m.type == "real") && m.lo > 0 && m.hi / m.lo >= 100;
    m.when = p.value("when", "");
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Objective> objectives(const store::CampaignRow& campaign) {
  std::vector<Objective> out;
  auto md = metadata(campaign);
  if (md.contains("objectives") && md["objectives"].is_array()) {
    for (const auto& o : md["objectives"])
      if (o.is_object() && o.contains("direction"))
        out.push_back({o.value("metric", ""), o.value("direction", "") == "maximize"});
    if (!out.empty()) return out;
  }
  auto node = util::load_yaml_string(campaign.recipe_text, campaign.recipe_path);
  if (!node || !(*node)["objectives"] || !(*node)["objectives"].IsSequence()) return out;
  for (const auto& o : (*node)["objectives"]) {
    if (!o.IsMap() || !o["direction"] || !o["metric"]) continue;
    out.push_back({o["metric"].Scalar(), o["direction"].Scalar().rfind("max", 0) == 0});
  }
  return out;
}

std::optional<int> budget(const store::CampaignRow& campaign) {
  auto node = util::load_yaml_string(campaign.recipe_text, campaign.recipe_path);
  if (!node || !node->IsMap() || !(*node)["budget"] || !(*node)["budget"].IsMap()) return std::nullopt;
  auto t = (*node)["budget"]["trials"];
  if (!t || !t.IsScalar()) return std::nullopt;
  try {
    return t.as<int>();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

std::optional<std::size_t> best_index(const std::vector<TrialView>& trials, const Objective& objective) {
  std::vector<stats::TrialMetric> m;
  m.reserve(trials.size());
  for (const auto& t : trials) {
    auto it = t.samples.find(objective.metric);
    m.push_back({t.kind, t.status == "ok", t.params.dump(), it == t.samples.end() ? std::vector<double>{} : it->second});
  }
  return stats::best_trial(m, objective.maximize);
}

}  // namespace kerntune::report
