// Reading a stored campaign for the report (through its read model):
// parameter metadata, the leading objective, the recommended trial.
#include <string>

#include "kerntune/report/report.hpp"
#include "kerntune/results/recommend.hpp"

namespace kerntune::report {

std::vector<ParamMeta> parameters(const results::CampaignView& view) {
  std::vector<ParamMeta> out;
  const auto& md = view.metadata;
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

Objective main_objective(const results::CampaignView& view) {
  auto optimized = view.optimized();
  if (!optimized.empty()) return optimized.front();
  for (const auto& t : view.trials)
    if (!t.metrics.empty()) return Objective{.metric = t.metrics.begin()->first, .optimized = true};
  return Objective{.metric = "?", .optimized = true};
}

std::optional<std::size_t> best_index(const results::CampaignView& view, const Objective& objective) {
  auto rec = results::recommend(view, {.metric = objective.metric});
  if (!rec || !rec->pick) return std::nullopt;
  return *rec->pick;
}

}  // namespace kerntune::report
