// Effective values: what a target reported it applied, parsed to each
// parameter's type and compared with the proposal.
#include "kerntune/space/effective.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "kerntune/util/text.hpp"

namespace kerntune::space {
namespace {

std::optional<bool> parse_bool(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer() && (j.get<long long>() == 0 || j.get<long long>() == 1)) return j.get<long long>() == 1;
  if (!j.is_string()) return std::nullopt;
  std::string t = util::trim(j.get<std::string>());
  if (t == "1" || t == "true" || t == "Y") return true;
  if (t == "0" || t == "false" || t == "N") return false;
  return std::nullopt;
}

template <class T>
std::optional<T> parse_number_text(const std::string& text) {
  std::string t = util::trim(text);
  T v{};
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<long long> parse_int(const nlohmann::json& j) {
  if (j.is_number_integer()) return j.get<long long>();
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::trunc(d) == d && std::abs(d) < 9.2e18) return static_cast<long long>(d);
    return std::nullopt;
  }
  if (j.is_string()) return parse_number_text<long long>(j.get<std::string>());
  return std::nullopt;
}

std::optional<double> parse_real(const nlohmann::json& j) {
  std::optional<double> d;
  if (j.is_number()) d = j.get<double>();
  else if (j.is_string()) d = parse_number_text<double>(j.get<std::string>());
  if (d && !std::isfinite(*d)) return std::nullopt;
  return d;
}

std::optional<std::string> parse_choice(const Parameter& p, const nlohmann::json& j) {
  std::string t;
  if (j.is_string()) t = util::trim(j.get<std::string>());
  else if (j.is_number_integer()) t = fmt::format("{}", j.get<long long>());
  else if (j.is_number_float()) t = fmt::format("{}", j.get<double>());
  else return std::nullopt;
  if (std::find(p.values.begin(), p.values.end(), t) == p.values.end()) return std::nullopt;
  return t;
}

std::optional<Value> parse_typed(const Parameter& p, const nlohmann::json& j) {
  switch (p.type) {
    case Type::boolean:
      if (auto b = parse_bool(j)) return Value(*b);
      return std::nullopt;
    case Type::integer:
      if (auto i = parse_int(j)) return Value(*i);
      return std::nullopt;
    case Type::real:
      if (auto d = parse_real(j)) return Value(*d);
      return std::nullopt;
    case Type::tristate:
    case Type::choice:
      if (auto s = parse_choice(p, j)) return Value(*s);
      return std::nullopt;
  }
  return std::nullopt;
}

std::string expected_form(const Parameter& p) {
  switch (p.type) {
    case Type::boolean: return "1 or 0";
    case Type::integer: return "an integer";
    case Type::real: return "a real number";
    case Type::tristate:
    case Type::choice: return fmt::format("one of {}", fmt::join(p.values, ", "));
  }
  return "?";
}

/// A number outside the parameter's range, moved to the nearest end of it.
Value into_range(const Parameter& p, Value v) {
  if (auto* i = std::get_if<long long>(&v))
    return std::clamp(*i, static_cast<long long>(std::ceil(p.lo)), static_cast<long long>(std::floor(p.hi)));
  if (auto* d = std::get_if<double>(&v)) return std::clamp(*d, p.lo, p.hi);
  return v;
}

}  // namespace

util::Result<Value> parse_reported(const Parameter& p, const nlohmann::json& reported) {
  if (auto v = parse_typed(p, reported)) return *v;
  std::string shown = reported.is_string() ? fmt::format("'{}'", util::trim(reported.get<std::string>())) : reported.dump();
  return util::fail_at(p.file, p.line, p.column,
                       fmt::format("'{}' ({}) cannot hold the effective value {} (expected {})", p.name,
                                   to_string(p.type), shown, expected_form(p)));
}

std::string to_string(Adjustment::How how) {
  switch (how) {
    case Adjustment::How::clamped: return "clamped";
    case Adjustment::How::refused: return "refused";
    case Adjustment::How::unreadable: return "unreadable";
  }
  return "?";
}

nlohmann::json to_json(const Adjustment& a) {
  nlohmann::json j = {{"parameter", a.parameter}, {"proposed", to_json(a.proposed)}, {"effective", a.effective},
                      {"how", to_string(a.how)}};
  if (!a.reason.empty()) j["reason"] = a.reason;
  return j;
}

std::string describe_adjustment(const nlohmann::json& a) {
  auto text = [&](const char* key) {
    const nlohmann::json& v = a.contains(key) ? a.at(key) : nlohmann::json();
    return v.is_null() ? std::string("?") : v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::string how = a.value("how", ""), reason = a.value("reason", "");
  std::string head = fmt::format("{} {}", a.value("parameter", "?"), text("proposed"));
  if (how == "refused") return fmt::format("{} refused, kept {}{}", head, text("effective"), reason.empty() ? "" : " (" + reason + ")");
  if (how == "unreadable") return fmt::format("{} → unreadable '{}'", head, text("effective"));
  return fmt::format("{} → {} ({})", head, text("effective"), how);
}

Effective compare_effective(const Space& space, const Assignment& proposed, const nlohmann::json& reported,
                            const std::map<std::string, std::string>& refused) {
  Effective out;
  for (const Parameter& p : space.parameters()) {
    auto it = proposed.find(p.name);
    if (it == proposed.end()) continue;
    const Value& prop = it->second;
    out.values[p.name] = prop;
    auto refusal = refused.find(p.name);
    if (!reported.is_object() || !reported.contains(p.name)) {
      if (refusal != refused.end())
        out.adjusted.push_back({p.name, prop, nullptr, Adjustment::How::refused, refusal->second});
      continue;
    }
    const nlohmann::json& raw = reported.at(p.name);
    auto v = parse_reported(p, raw);
    if (!v) {
      out.adjusted.push_back({p.name, prop, raw, Adjustment::How::unreadable, v.error().format()});
      continue;
    }
    out.values[p.name] = *v;
    if (refusal != refused.end())
      out.adjusted.push_back({p.name, prop, to_json(*v), Adjustment::How::refused, refusal->second});
    else if (*v != prop)
      out.adjusted.push_back({p.name, prop, to_json(*v), Adjustment::How::clamped, ""});
  }
  return out;
}

std::optional<Assignment> learned_assignment(const Space& space, const nlohmann::json& params,
                                             const nlohmann::json& effective) {
  auto a = space.from_json(params);
  if (!a) return std::nullopt;
  if (!effective.is_object()) return *a;
  for (auto& [name, value] : *a) {
    auto it = effective.find(name);
    if (it == effective.end()) continue;
    const Parameter* p = space.find(name);
    if (auto v = parse_reported(*p, *it)) value = into_range(*p, std::move(*v));
  }
  return *a;
}

}  // namespace kerntune::space
