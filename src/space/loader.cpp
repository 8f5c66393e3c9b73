// YAML → Space: the parameter schema and its located errors (docs/search-spaces.md).
#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "kerntune/space/destination.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::space {

namespace {

using util::fail_at;

const std::vector<std::string> kParamKeys = {"name",   "domain", "type", "range",       "scale",
                                             "default", "values", "when", "description", "safe_range"};
const std::vector<std::string> kFileKeys = {"parameters", "constraints", "description", "kernel"};
const std::vector<std::string> kDomains = {"kconfig", "cmdline", "sysctl", "sysfs", "generic"};
const std::vector<std::string> kTypes = {"bool", "tristate", "int", "real", "choice"};
constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53: larger ints are not exact as doubles

std::unexpected<util::Error> bad_word(const YAML::Node& node, const std::string& file, const std::string& what,
                                      const std::string& word, const std::vector<std::string>& allowed) {
  std::string msg = fmt::format("unknown {} '{}' (one of {})", what, word, fmt::join(allowed, ", "));
  if (auto c = util::closest(word, allowed)) msg += fmt::format("; did you mean '{}'?", *c);
  return fail_at(node, file, msg);
}

/// Column where a scalar's text starts (quoted scalars start one after the mark).
int text_column(const YAML::Node& node) {
  int col = node.Mark().column >= 0 ? node.Mark().column + 1 : 0;
  if (col > 0 && node.Tag() == "!") ++col;  // yaml-cpp tags quoted scalars "!"
  return col;
}

util::Status check_name(const YAML::Node& node, const std::string& file, const std::string& name, Domain domain) {
  if (name.empty()) return fail_at(node, file, "parameter name is empty");
  for (char c : name)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '`' || c == '"' || c == '\'' ||
        static_cast<unsigned char>(c) < 0x20)
      return fail_at(node, file, fmt::format("parameter name '{}' holds a space, quote or backtick", name));
  if (name == "true" || name == "false")
    return fail_at(node, file, fmt::format("'{}' cannot be a parameter name", name));
  if (domain == Domain::sysfs && name.starts_with("/"))
    return fail_at(node, file,
                   fmt::format("sysfs names are relative to /sys: write '{}'", name.starts_with("/sys/") ? name.substr(5) : name.substr(1)));
  if (auto why = name_problem(domain, name))
    return fail_at(node, file, fmt::format("'{}' cannot name a {} parameter: {}", name, to_string(domain), *why));
  return {};
}

util::Result<Value> parse_default(const YAML::Node& node, const std::string& file, const Parameter& p) {
  if (!node.IsScalar()) return fail_at(node, file, fmt::format("'default' of '{}' must be a single value", p.name));
  const std::string& s = node.Scalar();
  auto in_range = [&](double v) -> util::Status {
    if (v < p.lo || v > p.hi)
      return fail_at(node, file, fmt::format("default {} of '{}' is outside its range [{}, {}]", s, p.name, p.lo, p.hi));
    return {};
  };
  switch (p.type) {
    case Type::boolean: {
      KT_TRY(bool b, util::as_bool(node, file, "default"));
      return Value{b};
    }
    case Type::tristate:
      if (s != "n" && s != "m" && s != "y")
        return fail_at(node, file, fmt::format("bad tristate value '{}' for '{}' (one of n, m, y)", s, p.name));
      return Value{s};
    case Type::integer: {
      if (!util::looks_like_int(node))
        return fail_at(node, file, fmt::format("default of int parameter '{}' must be an integer, got '{}'", p.name, s));
      KT_TRY(long long v, util::as_int(node, file, "default"));
      KT_TRY_STATUS(in_range(static_cast<double>(v)));
      return Value{v};
    }
    case Type::real: {
      KT_TRY(double v, util::as_double(node, file, "default"));
      KT_TRY_STATUS(in_range(v));
      return Value{v};
    }
    case Type::choice:
      if (std::find(p.values.begin(), p.values.end(), s) == p.values.end()) {
        std::string msg = fmt::format("default '{}' of '{}' is not one of its values ({})", s, p.name,
                                      fmt::join(p.values, ", "));
        if (auto c = util::closest(s, p.values)) msg += fmt::format("; did you mean '{}'?", *c);
        return fail_at(node, file, msg);
      }
      return Value{s};
  }
  return fail_at(node, file, "unreachable");
}

/// `[lo, hi]` of an int/real parameter (`field` is range or safe_range).
util::Result<std::pair<double, double>> parse_bounds(const YAML::Node& node, const std::string& file,
                                                     const Parameter& p, const char* field) {
  if (!node.IsSequence() || node.size() != 2)
    return fail_at(node, file, fmt::format("'{}' of '{}' must be a list of two numbers [lo, hi]", field, p.name));
  double b[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const YAML::Node& end = node[i];
    if (p.type == Type::integer) {
      if (!util::looks_like_int(end)) {
        KT_TRY(double d, util::as_double(end, file, field));
        (void)d;
        return fail_at(end, file, fmt::format("int parameter '{}' needs an integer {}, got '{}' (use type: real "
                                              "for a continuous range)", p.name, field, end.Scalar()));
      }
      KT_TRY(long long n, util::as_int(end, file, field));
      b[i] = static_cast<double>(n);
      if (std::abs(b[i]) > kMaxExactInt)
        return fail_at(end, file, fmt::format("int {} bound {} is beyond ±2^53", field, end.Scalar()));
    } else {
      KT_TRY(b[i], util::as_double(end, file, field));
    }
  }
  if (b[0] > b[1])
    return fail_at(node, file, fmt::format("reversed {} [{}, {}] for '{}' (write [lo, hi] with lo < hi)", field,
                                           node[0].Scalar(), node[1].Scalar(), p.name));
  if (b[0] == b[1])
    return fail_at(node, file, fmt::format("empty {} [{}, {}] for '{}' (lo must be below hi)", field,
                                           node[0].Scalar(), node[1].Scalar(), p.name));
  return std::pair{b[0], b[1]};
}

util::Status parse_range(const YAML::Node& node, const std::string& file, Parameter& p) {
  KT_TRY(auto b, parse_bounds(node, file, p, "range"));
  p.lo = b.first;
  p.hi = b.second;
  return {};
}

/// The range must stay inside the safe range unless an override acknowledged it.
util::Status check_range_is_safe(const YAML::Node& at, const std::string& file, const Parameter& p) {
  if (!p.safe_range || p.unsafe_allowed) return {};
  const auto [slo, shi] = *p.safe_range;
  if (p.lo >= slo && p.hi <= shi) return {};
  return fail_at(at, file, fmt::format("range [{}, {}] of '{}' leaves its safe_range [{}, {}]: values outside it trade "
                                       "away safety (narrow the range, or acknowledge it in a recipe override with "
                                       "allow_unsafe: true)", p.lo, p.hi, p.name, slo, shi));
}

util::Status parse_safe_range(const YAML::Node& node, const std::string& file, Parameter& p) {
  if (p.type != Type::integer && p.type != Type::real)
    return fail_at(node, file, fmt::format("'safe_range' is only for int and real parameters ('{}' is {})", p.name,
                                           to_string(p.type)));
  KT_TRY(p.safe_range, parse_bounds(node, file, p, "safe_range"));
  return check_range_is_safe(node, file, p);
}

util::Result<Parameter> parse_parameter(const YAML::Node& node, const std::string& file) {
  if (!node.IsMap())
    return fail_at(node, file, "each parameter must be a mapping such as {name: x, domain: generic, type: int, ...}");
  KT_TRY_STATUS(util::check_keys(node, file, kParamKeys, "parameter"));
  Parameter p;
  p.file = file;
  p.line = node.Mark().line + 1;
  p.column = node.Mark().column + 1;
  const YAML::Node name = node["name"];
  if (!name) return fail_at(node, file, "parameter without 'name'");
  KT_TRY(p.name, util::as_string(name, file, "name"));

  const YAML::Node domain = node["domain"];
  if (!domain)
    return fail_at(node, file, fmt::format("parameter '{}' has no 'domain' (one of {})", p.name, fmt::join(kDomains, ", ")));
  KT_TRY(std::string dtext, util::as_string(domain, file, "domain"));
  auto d = std::find(kDomains.begin(), kDomains.end(), dtext);
  if (d == kDomains.end()) return bad_word(domain, file, "domain", dtext, kDomains);
  p.domain = static_cast<Domain>(d - kDomains.begin());
  KT_TRY_STATUS(check_name(name, file, p.name, p.domain));

  const YAML::Node type = node["type"];
  if (!type)
    return fail_at(node, file, fmt::format("parameter '{}' has no 'type' (one of {})", p.name, fmt::join(kTypes, ", ")));
  KT_TRY(std::string ttext, util::as_string(type, file, "type"));
  auto t = std::find(kTypes.begin(), kTypes.end(), ttext);
  if (t == kTypes.end()) return bad_word(type, file, "parameter type", ttext, kTypes);
  p.type = static_cast<Type>(t - kTypes.begin());
  const bool numeric = p.type == Type::integer || p.type == Type::real;

  const YAML::Node range = node["range"];
  if (numeric && !range)
    return fail_at(node, file, fmt::format("{} parameter '{}' needs 'range: [lo, hi]'", ttext, p.name));
  if (numeric) KT_TRY_STATUS(parse_range(range, file, p));
  else if (range) return fail_at(range, file, fmt::format("'range' is only for int and real parameters ('{}' is {})", p.name, ttext));

  const YAML::Node values = node["values"];
  if (p.type == Type::choice) {
    if (!values) return fail_at(node, file, fmt::format("choice parameter '{}' needs 'values: [a, b, ...]'", p.name));
    if (!values.IsSequence()) return fail_at(values, file, fmt::format("'values' of '{}' must be a list", p.name));
    if (values.size() == 0) return fail_at(values, file, fmt::format("choice parameter '{}' has no values", p.name));
    for (const auto& v : values) {
      if (!v.IsScalar() || v.Scalar().empty())
        return fail_at(v, file, fmt::format("each value of '{}' must be a non-empty scalar", p.name));
      if (std::find(p.values.begin(), p.values.end(), v.Scalar()) != p.values.end())
        return fail_at(v, file, fmt::format("value '{}' appears twice in '{}'", v.Scalar(), p.name));
      // A value must stay inside its destination: one word of the kernel
      // command line, one line of sysctl.d or TuneD, a Kconfig symbol.
      if (auto why = value_problem(p.domain, v.Scalar(), p.domain == Domain::kconfig))
        return fail_at(v, file, fmt::format("{} value '{}' of '{}' cannot be written safely: {}", to_string(p.domain),
                                            v.Scalar(), p.name, *why));
      p.values.push_back(v.Scalar());
    }
  } else if (values) {
    return fail_at(values, file, fmt::format("'values' is only for choice parameters ('{}' is {})", p.name, ttext));
  }
  if (p.type == Type::tristate) p.values = {"n", "m", "y"};

  if (const YAML::Node scale = node["scale"]) {
    if (!numeric) return fail_at(scale, file, fmt::format("'scale' is only for int and real parameters ('{}' is {})", p.name, ttext));
    KT_TRY(std::string s, util::as_string(scale, file, "scale"));
    if (s != "linear" && s != "log") return bad_word(scale, file, "scale", s, {"linear", "log"});
    p.log_scale = s == "log";
    if (p.log_scale && p.lo <= 0)
      return fail_at(scale, file, fmt::format("log scale needs a range above 0, but '{}' has [{}, {}] (use scale: linear "
                                              "or move the range above 0)", p.name, range[0].Scalar(), range[1].Scalar()));
  }

  if (const YAML::Node def = node["default"]) {
    KT_TRY(p.default_value, parse_default(def, file, p));
  } else if (p.type == Type::boolean) {
    p.default_value = false;
  } else {
    return fail_at(node, file, fmt::format("parameter '{}' has no 'default' (required for every type except bool, "
                                           "whose default is false)", p.name));
  }

  if (const YAML::Node safe = node["safe_range"]) KT_TRY_STATUS(parse_safe_range(safe, file, p));

  if (const YAML::Node when = node["when"]) {
    if (!when.IsScalar()) return fail_at(when, file, fmt::format("'when' of '{}' must be a condition string such as \"a == true\"", p.name));
    p.when_text = when.Scalar();
    if (util::trim(p.when_text).empty()) return fail_at(when, file, fmt::format("'when' of '{}' is empty", p.name));
    p.when_line = when.Mark().line + 1;
    p.when_column = text_column(when);
  }
  if (const YAML::Node desc = node["description"]) {
    KT_TRY(p.description, util::as_string(desc, file, "description"));
  }
  return p;
}

util::Result<std::vector<Constraint>> parse_constraints(const YAML::Node& node, const std::string& file) {
  std::vector<Constraint> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence())
    return fail_at(node, file, "'constraints' must be a list of strings such as \"a < b\"");
  for (const auto& c : node) {
    if (!c.IsScalar())
      return fail_at(c, file, "each constraint must be a string expression such as \"a + b <= 100\"");
    Constraint k;
    k.text = c.Scalar();
    k.file = file;
    k.line = c.Mark().line + 1;
    k.column = text_column(c);
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace

util::Result<Space> Space::from_yaml(const YAML::Node& parameters, const YAML::Node& constraints,
                                     const std::string& file) {
  if (!parameters || parameters.IsNull()) return fail_at(parameters, file, "no parameters given");
  if (!parameters.IsSequence())
    return fail_at(parameters, file, "'parameters' must be a list of parameter mappings");
  if (parameters.size() == 0) return fail_at(parameters, file, "'parameters' is empty");
  Space s;
  s.params_.reserve(parameters.size());
  std::unordered_map<std::string, int> seen;
  for (const auto& node : parameters) {
    KT_TRY(Parameter p, parse_parameter(node, file));
    auto [it, fresh] = seen.emplace(p.name, p.line);
    if (!fresh)
      return fail_at(node["name"], file, fmt::format("duplicate parameter '{}' (first defined at line {})", p.name, it->second));
    s.params_.push_back(std::move(p));
  }
  KT_TRY(s.constraints_, parse_constraints(constraints, file));
  KT_TRY_STATUS(s.finalize());
  return s;
}

namespace {
util::Result<Space> from_document(const YAML::Node& doc, const std::string& file) {
  if (doc.IsSequence()) return Space::from_yaml(doc, YAML::Node(), file);
  if (!doc.IsMap())
    return fail_at(doc, file, "a search-space file must be a mapping with 'parameters:' (or a list of parameters)");
  KT_TRY_STATUS(util::check_keys(doc, file, kFileKeys, "search-space file"));
  if (!doc["parameters"]) return fail_at(doc, file, "missing 'parameters:' list");
  return Space::from_yaml(doc["parameters"], doc["constraints"], file);
}
}  // namespace

util::Result<Space> Space::load_string(const std::string& text, const std::string& name) {
  KT_TRY(YAML::Node doc, util::load_yaml_string(text, name));
  KT_TRY(Space s, from_document(doc, name));
  if (doc.IsMap()) {
    if (doc["description"]) {
      KT_TRY(s.description_, util::as_string(doc["description"], name, "description"));
    }
    if (doc["kernel"]) {
      KT_TRY(s.kernel_, util::as_string(doc["kernel"], name, "kernel"));
    }
  }
  return s;
}

util::Result<Space> Space::load_file(const std::string& path) {
  KT_TRY(std::string text, util::read_file(path));
  return load_string(text, path);
}

util::Status Space::add_constraints(const YAML::Node& constraints, const std::string& file) {
  KT_TRY(std::vector<Constraint> more, parse_constraints(constraints, file));
  Space copy = *this;
  copy.constraints_.insert(copy.constraints_.end(), more.begin(), more.end());
  KT_TRY_STATUS(copy.finalize());
  *this = std::move(copy);
  return {};
}

}  // namespace kerntune::space

namespace kerntune::space {

namespace {

const std::vector<std::string> kOverrideKeys = {"range", "default", "safe_range", "allow_unsafe"};

/// A new safe_range may narrow the shipped one freely; widening it (lowering
/// a safety floor) must be acknowledged.
util::Status check_safe_override(const YAML::Node& at, const std::string& file, const Parameter& p,
                                 const std::optional<std::pair<double, double>>& shipped, bool acknowledged) {
  if (!shipped || acknowledged || !p.safe_range) return {};
  if (p.safe_range->first >= shipped->first && p.safe_range->second <= shipped->second) return {};
  return fail_at(at, file, fmt::format("safe_range [{}, {}] of '{}' widens the shipped safe_range [{}, {}] ({}:{}): "
                                       "add allow_unsafe: true to this override to accept values that trade away "
                                       "safety", p.safe_range->first, p.safe_range->second, p.name, shipped->first,
                                       shipped->second, p.file, p.line));
}

util::Result<Parameter> overridden(const Parameter& shipped, const YAML::Node& node, const std::string& file) {
  Parameter p = shipped;
  const bool numeric = p.type == Type::integer || p.type == Type::real;
  bool acknowledged = false;
  if (const YAML::Node a = node["allow_unsafe"]) { KT_TRY(acknowledged, util::as_bool(a, file, "allow_unsafe")); }
  for (const char* key : {"range", "safe_range"})
    if (node[key] && !numeric)
      return fail_at(node[key], file, fmt::format("'{}' is only for int and real parameters ('{}' is {})", key, p.name,
                                                  to_string(p.type)));
  if (const YAML::Node s = node["safe_range"]) {
    KT_TRY(p.safe_range, parse_bounds(s, file, p, "safe_range"));
    KT_TRY_STATUS(check_safe_override(s, file, p, shipped.safe_range, acknowledged));
  }
  const YAML::Node range = node["range"];
  if (range) {
    KT_TRY_STATUS(parse_range(range, file, p));
    if (p.log_scale && p.lo <= 0)
      return fail_at(range, file, fmt::format("'{}' has scale: log, so its range must stay above 0", p.name));
  }
  p.unsafe_allowed = acknowledged;
  KT_TRY_STATUS(check_range_is_safe(range ? range : node, file, p));
  if (const YAML::Node def = node["default"]) {
    KT_TRY(p.default_value, parse_default(def, file, p));
  } else if (numeric) {
    double d = p.type == Type::integer ? static_cast<double>(std::get<long long>(p.default_value))
                                       : std::get<double>(p.default_value);
    if (d < p.lo || d > p.hi)
      return fail_at(range ? range : node, file,
                     fmt::format("range [{}, {}] of '{}' excludes its default {} (add 'default:' inside the range)",
                                 p.lo, p.hi, p.name, to_string(p.default_value)));
  }
  return p;
}

}  // namespace

util::Status Space::apply_override(const YAML::Node& name, const YAML::Node& node, const std::string& file) {
  KT_TRY(std::string key, util::as_string(name, file, "override"));
  auto it = index_.find(key);
  if (it == index_.end()) {
    std::vector<std::string> names;
    for (const auto& q : params_) names.push_back(q.name);
    std::string msg = fmt::format("override of unknown parameter '{}'", key);
    if (auto c = util::closest(key, names)) msg += fmt::format(" (did you mean '{}'?)", *c);
    return fail_at(name, file, msg);
  }
  if (!node.IsMap() || node.size() == 0)
    return fail_at(node, file, fmt::format("override of '{}' must be a mapping of {}", key, fmt::join(kOverrideKeys, ", ")));
  KT_TRY_STATUS(util::check_keys(node, file, kOverrideKeys, "override"));
  KT_TRY(Parameter p, overridden(params_[it->second], node, file));
  Space copy = *this;
  copy.params_[it->second] = std::move(p);
  KT_TRY_STATUS(copy.finalize());
  *this = std::move(copy);
  return {};
}

}  // namespace kerntune::space
