// Text and JSON forms of domains, types, values and whole spaces.
#include <fmt/format.h>

#include <cmath>

#include "kerntune/space/space.hpp"

namespace kerntune::space {

std::string to_string(Domain d) {
  switch (d) {
    case Domain::kconfig: return "kconfig";
    case Domain::cmdline: return "cmdline";
    case Domain::sysctl: return "sysctl";
    case Domain::sysfs: return "sysfs";
    case Domain::generic: return "generic";
  }
  return "?";
}

std::string to_string(Type t) {
  switch (t) {
    case Type::boolean: return "bool";
    case Type::tristate: return "tristate";
    case Type::integer: return "int";
    case Type::real: return "real";
    case Type::choice: return "choice";
  }
  return "?";
}

std::string to_string(const Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<long long>(&v)) return fmt::format("{}", *i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

nlohmann::json to_json(const Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<long long>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return *d;
  return std::get<std::string>(v);
}

nlohmann::json to_json(const Assignment& a) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : a) j[name] = to_json(value);
  return j;
}

nlohmann::json safe_range_json(const Parameter& p) {
  if (!p.safe_range) return nullptr;
  if (p.type == Type::integer)
    return {static_cast<long long>(p.safe_range->first), static_cast<long long>(p.safe_range->second)};
  return {p.safe_range->first, p.safe_range->second};
}

bool outside_safe_range(const Parameter& p, const Value& v) {
  if (!p.safe_range) return false;
  double x = 0;
  if (const auto* i = std::get_if<long long>(&v)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v)) x = *d;
  else return false;
  return x < p.safe_range->first || x > p.safe_range->second;
}

nlohmann::json to_json(const Space& space) {
  nlohmann::json params = nlohmann::json::array();
  for (const Parameter& p : space.parameters()) {
    nlohmann::json j;
    j["name"] = p.name;
    j["domain"] = to_string(p.domain);
    j["type"] = to_string(p.type);
    if (p.type == Type::integer) j["range"] = {static_cast<long long>(p.lo), static_cast<long long>(p.hi)};
    if (p.type == Type::real) j["range"] = {p.lo, p.hi};
    if (p.type == Type::integer || p.type == Type::real) j["scale"] = p.log_scale ? "log" : "linear";
    if (p.safe_range) j["safe_range"] = safe_range_json(p);
    if (p.unsafe_allowed) j["unsafe_allowed"] = true;
    if (p.type == Type::choice || p.type == Type::tristate) j["values"] = p.values;
    j["default"] = to_json(p.default_value);
    if (!p.when_text.empty()) j["when"] = p.when_text;
    if (!p.description.empty()) j["description"] = p.description;
    params.push_back(std::move(j));
  }
  nlohmann::json constraints = nlohmann::json::array();
  for (const Constraint& c : space.constraints()) constraints.push_back(c.text);
  nlohmann::json out = {{"parameters", std::move(params)}, {"constraints", std::move(constraints)}};
  if (!space.description().empty()) out["description"] = space.description();
  if (!space.kernel().empty()) out["kernel"] = space.kernel();
  return out;
}

}  // namespace kerntune::space
