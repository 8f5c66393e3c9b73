#include "kerntune/campaign/warm_start.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <expected>
#include <map>
#include <optional>
#include <set>


namespace kerntune::campaign {
namespace {

using Why = DroppedTrial::Why;

const nlohmann::json* prior_parameter(const nlohmann::json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const auto& p : list)
    if (p.is_object() && p.value("name", "") == name) return &p;
  return nullptr;
}

/// The value the prior trial applied to `name`: its effective value when that
/// parses as the new parameter's type, else the proposed one; nullopt when
/// the trial did not set it.
std::optional<nlohmann::json> set_value(const space::Space& space, const results::Trial& t, const std::string& name) {
  if (!t.params.contains(name)) return std::nullopt;
  if (t.effective.contains(name) && space.from_json({{name, t.effective[name]}})) return t.effective[name];
  return t.params[name];
}

bool has_every_metric(const results::Trial& t, const std::vector<std::string>& metrics) {
  if (!t.ok) return false;
  for (const auto& m : metrics)
    if (!t.samples.contains(m) || t.samples.at(m).empty()) return false;
  return true;
}

/// Prior parameters this space lacks must have been at their prior default.
std::optional<DroppedTrial> check_unknown(const space::Space& space, const nlohmann::json& prior_parameters,
                                         const results::Trial& t) {
  for (const auto& [name, v] : t.params.items()) {
    if (space.find(name)) continue;
    const nlohmann::json* p = prior_parameter(prior_parameters, name);
    if (p && p->contains("default") && (*p)["default"] == v) continue;
    std::string dflt = p && p->contains("default") ? fmt::format(", its default {}", (*p)["default"].dump()) : "";
    return DroppedTrial{t.seq, Why::not_in_space, name,
                        fmt::format("'{}' = {} is not a parameter of this space{}", name, v.dump(), dflt)};
  }
  return std::nullopt;
}

std::expected<space::Assignment, DroppedTrial> map_trial(const space::Space& space, const nlohmann::json& prior_parameters,
                                                         const results::Trial& t) {
  if (auto d = check_unknown(space, prior_parameters, t)) return std::unexpected(*d);
  space::Assignment a;
  std::set<std::string> set_by_prior;
  for (const auto& p : space.parameters()) {
    auto v = set_value(space, t, p.name);
    if (!v) {
      a.emplace(p.name, p.default_value);  // not set by the prior trial: it ran at its default
      continue;
    }
    auto parsed = space.from_json({{p.name, *v}});
    if (!parsed) return std::unexpected(DroppedTrial{t.seq, Why::invalid_value, p.name, parsed.error().message});
    a.merge(*parsed);
    set_by_prior.insert(p.name);
  }
  const std::vector<bool> active = space.active_mask(a);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const space::Parameter& p = space.parameters()[i];
    if (active[i]) continue;
    if (set_by_prior.contains(p.name) && a.at(p.name) != p.default_value)
      return std::unexpected(DroppedTrial{
          t.seq, Why::inactive_here, p.name,
          fmt::format("'{}' = {} is inactive here (when: {}), not at its default {}", p.name,
                      space::to_string(a.at(p.name)), p.when_text, space::to_string(p.default_value))});
    a.erase(p.name);
  }
  if (auto ok = space.validate(a); !ok) return std::unexpected(DroppedTrial{t.seq, Why::constraint, "", ok.error().message});
  return a;
}

std::string why_text(Why why, const std::string& parameter) {
  switch (why) {
    case Why::not_in_space: return fmt::format("'{}' (not in this space) at a non-default value", parameter);
    case Why::invalid_value: return fmt::format("'{}' outside this space's range or type", parameter);
    case Why::inactive_here: return fmt::format("'{}' (inactive here) at a non-default value", parameter);
    case Why::constraint: return "a constraint of this space broken";
  }
  return "?";
}

}  // namespace

WarmStartMapping map_prior_trials(const space::Space& space, const nlohmann::json& prior_parameters,
                                  const std::vector<results::Trial>& prior_trials, const std::vector<std::string>& metrics) {
  WarmStartMapping out;
  for (const auto& p : space.parameters()) {
    bool set_somewhere = std::any_of(prior_trials.begin(), prior_trials.end(),
                                     [&](const results::Trial& t) { return t.params.contains(p.name); });
    if (!prior_parameter(prior_parameters, p.name) && !set_somewhere) out.defaulted.push_back(p.name);
  }
  for (const auto& t : prior_trials) {
    if (!results::is_search(t.kind)) continue;
    if (!has_every_metric(t, metrics)) {
      ++out.without_value;
      continue;
    }
    auto a = map_trial(space, prior_parameters, t);
    if (!a) {
      out.dropped.push_back(a.error());
      continue;
    }
    results::Trial mapped = t;
    mapped.params = space::to_json(*a);
    mapped.config = mapped.params.dump();
    mapped.effective = nlohmann::json::object();
    out.used.push_back(std::move(mapped));
  }
  return out;
}

std::string WarmStartMapping::summary(const std::string& prior_campaign, const std::string& db) const {
  std::size_t total = used.size() + dropped.size() + static_cast<std::size_t>(without_value);
  std::string s = fmt::format("warm start: {} of {} trials of campaign '{}' ({}) used", used.size(), total,
                              prior_campaign, db);
  std::map<std::pair<Why, std::string>, int> groups;
  for (const auto& d : dropped) ++groups[{d.why, d.parameter}];
  std::vector<std::string> parts;
  for (const auto& [key, n] : groups) parts.push_back(fmt::format("{} ({})", why_text(key.first, key.second), n));
  if (!dropped.empty()) s += fmt::format("; {} dropped: {}", dropped.size(), fmt::join(parts, ", "));
  if (without_value > 0) s += fmt::format("; {} failed or without an objective value", without_value);
  if (!defaulted.empty())
    s += fmt::format("; taken at their defaults (not in the prior campaign): {}", fmt::join(defaulted, ", "));
  return s;
}

util::Status check_prior_objectives(const Recipe& recipe, const std::string& prior_campaign,
                                    const std::vector<results::Objective>& prior_objectives) {
  const WarmStart& ws = *recipe.warm_start;
  auto refuse = [&](const std::string& why) {
    return util::fail_at(ws.file, ws.line, ws.column, fmt::format("warm_start: {}", why));
  };
  std::vector<std::string> names;
  for (const auto& o : prior_objectives) names.push_back(o.metric);
  for (const auto& o : recipe.optimized()) {
    auto it = std::find_if(prior_objectives.begin(), prior_objectives.end(),
                           [&](const results::Objective& p) { return p.metric == o.metric; });
    if (it == prior_objectives.end())
      return refuse(fmt::format("campaign '{}' has no objective '{}' (its objectives: {}), so its trials cannot inform this one",
                                prior_campaign, o.metric, names.empty() ? "none recorded" : fmt::format("{}", fmt::join(names, ", "))));
    // A limit-only entry was measured, in no direction: its values inform us.
    if (it->optimized && it->maximize != o.maximize)
      return refuse(fmt::format("campaign '{}' was told to {} '{}', this recipe to {} it: its trials searched the "
                                "other end of the metric (or the name means something else there)",
                                prior_campaign, it->maximize ? "maximize" : "minimize", o.metric,
                                o.maximize ? "maximize" : "minimize"));
  }
  return {};
}

}  // namespace kerntune::campaign
