#include "baseline.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "kerntune/util/text.hpp"

namespace kerntune::campaign::detail {
namespace {

using space::Type;

/// A reported value (JSON, or the kernel's text) as a value of p's type; "" on success.
std::string parse_reported(const space::Parameter& p, const nlohmann::json& j, space::Value& out) {
  const std::string text = j.is_string() ? util::trim(j.get<std::string>()) : j.dump();
  switch (p.type) {
    case Type::boolean:
      if (j.is_boolean()) out = j.get<bool>();
      else if (text == "1" || text == "true" || text == "y") out = true;
      else if (text == "0" || text == "false" || text == "n") out = false;
      else return fmt::format("'{}' is not a boolean (1/0, true/false)", text);
      return {};
    case Type::integer: {
      long long v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) return fmt::format("'{}' is not an integer", text);
      out = v;
      return {};
    }
    case Type::real: {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
        return fmt::format("'{}' is not a number", text);
      out = v;
      return {};
    }
    case Type::tristate:
    case Type::choice:
      out = text;
      return {};
  }
  return "unknown type";
}

}  // namespace

std::vector<std::string> readable_parameters(const space::Space& space, const space::Assignment& defaults,
                                             bool command_target) {
  std::vector<std::string> out;
  for (const auto& p : space.parameters()) {
    if (!defaults.contains(p.name)) continue;  // inactive at the defaults
    if (command_target || p.domain == space::Domain::sysctl || p.domain == space::Domain::sysfs) out.push_back(p.name);
  }
  return out;
}

util::Result<space::Assignment> baseline_from_target(const Recipe& recipe, const nlohmann::json& effective,
                                                     bool command_target, std::vector<std::string>& warnings) {
  auto bad = [&](const std::string& msg) {
    return util::fail_at(recipe.file, recipe.baseline_line, recipe.baseline_column, "baseline: target: " + msg);
  };
  const space::Space& space = recipe.space;
  space::Assignment a = space.defaults();
  for (const auto& name : readable_parameters(space, a, command_target)) {
    const space::Parameter& p = *space.find(name);
    if (!effective.is_object() || !effective.contains(name))
      return bad(command_target ? fmt::format("the command reported no current value of '{}' (with KERNTUNE_BASELINE="
                                              "target it must leave the system as it is and print "
                                              "'KERNTUNE_EFFECTIVE {} <value>')", name, name)
                                : fmt::format("the target reported no current value of '{}'", name));
    space::Value v;
    if (std::string why = parse_reported(p, effective[name], v); !why.empty())
      return bad(fmt::format("the current value of '{}' {}", name, why));
    if (auto st = space.from_json(nlohmann::json{{name, space::to_json(v)}}); !st)
      return bad(fmt::format("the target runs {} = {}, which the search space cannot hold ({}); widen it for this "
                             "recipe, e.g. override: {{{}: {{range: [LO, HI]}}}}", name, space::to_string(v),
                             st.error().message, name));
    if (space::outside_safe_range(p, v))
      warnings.push_back(fmt::format("the target runs {} = {}, outside its safe_range {}: the baseline itself trades "
                                     "away safety", name, space::to_string(v), space::safe_range_json(p).dump()));
    a[name] = v;
  }
  // Conditions may now switch parameters on or off; the assignment must be valid as a whole.
  if (auto st = space.validate(a); !st) return bad(fmt::format("the values read back are not a valid point: {}", st.error().message));
  return a;
}

}  // namespace kerntune::campaign::detail
