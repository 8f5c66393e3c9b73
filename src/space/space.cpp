// Space semantics: cross references, activity, validation, defaults, JSON input.
#include "kerntune/space/space.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kerntune/space/expr.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::space {

namespace {

/// Why `v` is not a valid value of `p` (type and range), or "" when it is.
std::string value_problem(const Parameter& p, const Value& v) {
  switch (p.type) {
    case Type::boolean:
      if (!std::holds_alternative<bool>(v)) return fmt::format("'{}' must be true or false", p.name);
      return {};
    case Type::integer: {
      auto* i = std::get_if<long long>(&v);
      if (!i) return fmt::format("'{}' must be an integer", p.name);
      if (static_cast<double>(*i) < p.lo || static_cast<double>(*i) > p.hi)
        return fmt::format("'{}' = {} is outside its range [{}, {}]", p.name, *i, p.lo, p.hi);
      return {};
    }
    case Type::real: {
      auto* d = std::get_if<double>(&v);
      if (!d || !std::isfinite(*d)) return fmt::format("'{}' must be a real number", p.name);
      if (*d < p.lo || *d > p.hi) return fmt::format("'{}' = {} is outside its range [{}, {}]", p.name, *d, p.lo, p.hi);
      return {};
    }
    case Type::tristate:
    case Type::choice: {
      auto* s = std::get_if<std::string>(&v);
      if (!s || std::find(p.values.begin(), p.values.end(), *s) == p.values.end())
        return fmt::format("'{}' must be one of {}, got {}", p.name, fmt::join(p.values, ", "),
                           s ? fmt::format("'{}'", *s) : to_string(v));
      return {};
    }
  }
  return "unknown type";
}

std::string unknown_parameter(const std::string& name, const std::vector<Parameter>& params) {
  std::vector<std::string> names;
  for (const auto& p : params) names.push_back(p.name);
  std::string msg = fmt::format("unknown parameter '{}'", name);
  if (auto c = util::closest(name, names)) msg += fmt::format(" (did you mean '{}'?)", *c);
  return msg;
}

}  // namespace

util::Result<Space> Space::make(std::vector<Parameter> params, std::vector<Constraint> constraints) {
  Space s;
  s.params_ = std::move(params);
  s.constraints_ = std::move(constraints);
  for (auto& p : s.params_) {
    if (p.type == Type::tristate) p.values = {"n", "m", "y"};
    if (std::string why = value_problem(p, p.default_value); !why.empty())
      return util::fail_at(p.file, p.line, p.column, fmt::format("bad default: {}", why));
  }
  KT_TRY_STATUS(s.finalize());
  return s;
}

util::Status Space::merge(const Space& other) {
  Space copy = *this;
  copy.params_.insert(copy.params_.end(), other.params_.begin(), other.params_.end());
  copy.constraints_.insert(copy.constraints_.end(), other.constraints_.begin(), other.constraints_.end());
  KT_TRY_STATUS(copy.finalize());
  *this = std::move(copy);
  return {};
}

util::Status Space::finalize() {
  const std::size_t n = params_.size();
  index_.clear();
  index_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Parameter& p = params_[i];
    auto [it, fresh] = index_.emplace(p.name, i);
    if (!fresh) {
      const Parameter& first = params_[it->second];
      return util::fail_at(p.file, p.line, p.column,
                           fmt::format("duplicate parameter '{}' (first defined at {}:{})", p.name, first.file, first.line));
    }
  }
  ExprScope scope{params_, index_};
  for (auto& p : params_) {
    p.when.reset();
    if (p.when_text.empty()) continue;
    KT_TRY(p.when, Expr::parse(p.when_text, scope, SourcePos{p.file, p.when_line, p.when_column}));
  }
  // Topological order of `when:` references (Kahn); what is left over sits on a cycle.
  std::vector<std::vector<std::size_t>> users(n);
  std::vector<std::size_t> pending(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (params_[i].when)
      for (std::size_t r : params_[i].when->references()) {
        users[r].push_back(i);
        ++pending[i];
      }
  order_.clear();
  order_.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (pending[i] == 0) order_.push_back(i);
  for (std::size_t k = 0; k < order_.size(); ++k)
    for (std::size_t u : users[order_[k]])
      if (--pending[u] == 0) order_.push_back(u);
  if (order_.size() != n) {
    std::size_t start = 0;
    while (pending[start] == 0) ++start;
    // Walk references among unresolved parameters until one repeats: that is the cycle.
    std::vector<std::size_t> path;
    std::vector<int> seen_at(n, -1);
    std::size_t cur = start;
    while (seen_at[cur] < 0) {
      seen_at[cur] = static_cast<int>(path.size());
      path.push_back(cur);
      for (std::size_t r : params_[cur].when->references())
        if (pending[r] != 0) {
          cur = r;
          break;
        }
    }
    std::vector<std::string> names;
    for (std::size_t k = static_cast<std::size_t>(seen_at[cur]); k < path.size(); ++k) names.push_back(params_[path[k]].name);
    names.push_back(params_[cur].name);
    const Parameter& p = params_[cur];
    return util::fail_at(p.file, p.when_line, p.when_column,
                         fmt::format("cycle in 'when:' conditions: {}", fmt::join(names, " -> ")));
  }
  for (auto& c : constraints_) {
    if (util::trim(c.text).empty()) return util::fail_at(c.file, c.line, c.column, "empty constraint");
    KT_TRY(c.expr, Expr::parse(c.text, scope, SourcePos{c.file, c.line, c.column}));
  }
  // The defaults are the baseline trial: they must satisfy the constraints.
  Assignment d = defaults();
  std::vector<bool> active;
  auto values = resolve(d, active);
  if (auto st = check_constraints(values); !st) {
    util::Error e = st.error();
    e.message = "the defaults violate this constraint: " + e.message;
    return util::fail(e);
  }
  return {};
}

const Parameter* Space::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &params_[it->second];
}

std::vector<const Value*> Space::resolve(const Assignment& a, std::vector<bool>& active) const {
  std::vector<const Value*> values(params_.size(), nullptr);
  active.assign(params_.size(), false);
  for (std::size_t i : order_) {
    const Parameter& p = params_[i];
    bool on = !p.when || p.when->holds(values);
    active[i] = on;
    if (!on) continue;
    auto it = a.find(p.name);
    if (it != a.end()) values[i] = &it->second;
  }
  return values;
}

std::vector<bool> Space::active_mask(const Assignment& a) const {
  std::vector<bool> active;
  resolve(a, active);
  return active;
}

bool Space::is_active(const Parameter& p, const Assignment& a) const {
  std::size_t idx = 0;
  if (!params_.empty() && &p >= params_.data() && &p < params_.data() + params_.size()) {
    idx = static_cast<std::size_t>(&p - params_.data());
  } else {
    auto it = index_.find(p.name);
    if (it == index_.end()) throw std::invalid_argument("is_active: '" + p.name + "' is not in this space");
    idx = it->second;
  }
  // Only the parameters this one depends on are evaluated (memoized, refs are acyclic).
  std::vector<signed char> memo(params_.size(), -1);
  std::vector<const Value*> values(params_.size(), nullptr);
  auto active = [&](auto& self, std::size_t i) -> bool {
    if (memo[i] >= 0) return memo[i] != 0;
    const Parameter& q = params_[i];
    bool on = true;
    if (q.when) {
      for (std::size_t r : q.when->references()) {
        auto it = a.find(params_[r].name);
        values[r] = (it != a.end() && self(self, r)) ? &it->second : nullptr;
      }
      on = q.when->holds(values);
    }
    memo[i] = on ? 1 : 0;
    return on;
  };
  return active(active, idx);
}

util::Status Space::check_constraints(std::span<const Value* const> values) const {
  for (const Constraint& c : constraints_) {
    if (!c.expr) continue;
    const auto& refs = c.expr->references();
    // A constraint naming an inactive parameter does not apply (see docs).
    if (std::any_of(refs.begin(), refs.end(), [&](std::size_t r) { return values[r] == nullptr; })) continue;
    if (c.expr->holds(values)) continue;
    std::vector<std::string> shown;
    for (std::size_t r : refs) shown.push_back(fmt::format("{}={}", params_[r].name, to_string(*values[r])));
    return util::fail_at(c.file, c.line, c.column,
                         fmt::format("'{}' does not hold ({})", c.text, fmt::join(shown, ", ")));
  }
  return {};
}

util::Status Space::validate(const Assignment& a) const {
  for (const auto& [name, value] : a)
    if (!index_.contains(name)) return util::invalid_input(unknown_parameter(name, params_));
  std::vector<bool> active;
  auto values = resolve(a, active);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = params_[i];
    auto it = a.find(p.name);
    if (active[i] && it == a.end()) return util::invalid_input(fmt::format("active parameter '{}' has no value", p.name));
    if (!active[i] && it != a.end())
      return util::invalid_input(fmt::format("parameter '{}' is inactive (when: {}) but has a value", p.name, p.when_text));
    if (it != a.end())
      if (std::string why = value_problem(p, it->second); !why.empty()) return util::invalid_input(why);
  }
  if (auto st = check_constraints(values); !st) return util::fail_like(st.error(), "constraint " + st.error().message);
  return {};
}

Assignment Space::defaults() const {
  Assignment all;
  for (const auto& p : params_) all.emplace(p.name, p.default_value);
  std::vector<bool> active;
  resolve(all, active);
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!active[i]) all.erase(params_[i].name);
  return all;
}

util::Result<Assignment> Space::from_json(const nlohmann::json& j) const {
  if (!j.is_object()) return util::invalid_input("an assignment must be a JSON object {\"name\": value, ...}");
  Assignment a;
  for (const auto& [name, jv] : j.items()) {
    const Parameter* p = find(name);
    if (!p) return util::invalid_input(unknown_parameter(name, params_));
    Value v;
    auto wrong = [&](const char* what) {
      return util::invalid_input(fmt::format("'{}' must be {}, got {}", name, what, util::dump_json(jv)));
    };
    switch (p->type) {
      case Type::boolean:
        if (!jv.is_boolean()) return wrong("true or false");
        v = jv.get<bool>();
        break;
      case Type::integer:
        if (jv.is_number_integer()) v = jv.get<long long>();
        else if (jv.is_number_float() && std::trunc(jv.get<double>()) == jv.get<double>() &&
                 std::abs(jv.get<double>()) < 9.2e18)
          v = static_cast<long long>(jv.get<double>());
        else return wrong("an integer");
        break;
      case Type::real:
        if (!jv.is_number()) return wrong("a number");
        v = jv.get<double>();
        break;
      case Type::tristate:
      case Type::choice:
        if (jv.is_string()) v = jv.get<std::string>();
        else if (jv.is_number_integer()) v = fmt::format("{}", jv.get<long long>());  // choice values such as 250
        else if (jv.is_number_float()) v = fmt::format("{}", jv.get<double>());
        else return wrong("a string");
        break;
    }
    if (std::string why = value_problem(*p, v); !why.empty()) return util::invalid_input(why);
    a.emplace(name, std::move(v));
  }
  return a;
}

}  // namespace kerntune::space
