// Sampling and the optimizer encoding (docs/search-spaces.md, "Encoding").
//
// One mapping from the unit interval to values serves both: sample() draws
// u ~ U[0,1) per numeric parameter and maps it like decode() does, so a
// uniform point in the unit cube decodes to the same distribution that
// sample() draws from. Integers use equal-width bins (in log space with
// scale: log); encode() returns the bin centre, so decode(encode(v)) == v.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "kerntune/space/expr.hpp"
#include "kerntune/space/space.hpp"

namespace kerntune::space {

namespace {

constexpr int kMaxTries = 10000;

/// u in [0, 1) from 53 random bits: the same on every standard library.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Unbiased index in [0, n) (rejection), the same on every standard library.
std::size_t uniform_index(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t bound = static_cast<std::uint64_t>(n);
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t r = rng();
  while (r >= limit) r = rng();
  return static_cast<std::size_t>(r % bound);
}

/// Numeric parameter value at position u of the unit interval.
Value from_unit(const Parameter& p, double u) {
  u = std::clamp(u, 0.0, 1.0);
  if (p.type == Type::real) {
    double v = p.log_scale ? std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo))) : p.lo + u * (p.hi - p.lo);
    return std::clamp(v, p.lo, p.hi);
  }
  double v = p.log_scale ? std::floor(std::exp(std::log(p.lo) + u * (std::log(p.hi + 1) - std::log(p.lo))))
                         : p.lo + std::floor(u * (p.hi - p.lo + 1));
  return static_cast<long long>(std::clamp(v, p.lo, p.hi));
}

double to_unit(const Parameter& p, const Value& value) {
  if (p.type == Type::real) {
    double v = std::get<double>(value);
    double u = p.log_scale ? (std::log(v) - std::log(p.lo)) / (std::log(p.hi) - std::log(p.lo)) : (v - p.lo) / (p.hi - p.lo);
    return std::clamp(u, 0.0, 1.0);
  }
  double v = static_cast<double>(std::get<long long>(value));
  double u = p.log_scale ? ((std::log(v) + std::log(v + 1)) / 2 - std::log(p.lo)) / (std::log(p.hi + 1) - std::log(p.lo))
                         : (v - p.lo + 0.5) / (p.hi - p.lo + 1);
  return std::clamp(u, 0.0, 1.0);
}

int categories(const Parameter& p) {
  if (p.type == Type::boolean) return 2;
  return static_cast<int>(p.values.size());
}

bool categorical(const Parameter& p) {
  return p.type == Type::boolean || p.type == Type::tristate || p.type == Type::choice;
}

Value category_value(const Parameter& p, std::size_t index) {
  if (p.type == Type::boolean) return index == 1;
  return p.values[index];
}

Value sample_value(const Parameter& p, std::mt19937_64& rng) {
  if (categorical(p)) return category_value(p, uniform_index(rng, static_cast<std::size_t>(categories(p))));
  return from_unit(p, uniform01(rng));
}

}  // namespace

util::Result<Assignment> Space::sample(std::mt19937_64& rng) const {
  const std::size_t n = params_.size();
  std::vector<Value> drawn(n);
  std::vector<const Value*> values(n);
  std::vector<int> rejected(constraints_.size(), 0);
  for (int attempt = 0; attempt < kMaxTries; ++attempt) {
    for (std::size_t i = 0; i < n; ++i) drawn[i] = sample_value(params_[i], rng);
    std::fill(values.begin(), values.end(), nullptr);
    for (std::size_t i : order_)
      if (!params_[i].when || params_[i].when->holds(values)) values[i] = &drawn[i];
    bool ok = true;
    for (std::size_t c = 0; c < constraints_.size() && ok; ++c) {
      const auto& refs = constraints_[c].expr->references();
      if (std::any_of(refs.begin(), refs.end(), [&](std::size_t r) { return values[r] == nullptr; })) continue;
      if (!constraints_[c].expr->holds(values)) {
        ++rejected[c];
        ok = false;
      }
    }
    if (!ok) continue;
    Assignment a;
    for (std::size_t i = 0; i < n; ++i)
      if (values[i]) a.emplace(params_[i].name, std::move(drawn[i]));
    return a;
  }
  auto worst = std::max_element(rejected.begin(), rejected.end()) - rejected.begin();
  const Constraint& c = constraints_[static_cast<std::size_t>(worst)];
  return util::fail_at(c.file, c.line, c.column,
                       fmt::format("no random assignment satisfied the constraints in {} tries; '{}' rejected {} of "
                                   "them (is it satisfiable within the ranges?)",
                                   kMaxTries, c.text, rejected[static_cast<std::size_t>(worst)]));
}

std::vector<EncodedDim> Space::encoding() const {
  std::vector<EncodedDim> dims;
  dims.reserve(params_.size());
  for (const auto& p : params_) {
    EncodedDim d;
    if (categorical(p)) {
      d.kind = EncodedDim::Kind::categorical;
      d.categories = categories(p);
    } else if (p.type == Type::integer) {
      d.kind = EncodedDim::Kind::integer;
      d.levels = static_cast<long long>(p.hi - p.lo) + 1;
    }
    dims.push_back(d);
  }
  return dims;
}

std::vector<double> Space::encode(const Assignment& a) const {
  std::vector<bool> active;
  resolve(a, active);
  std::vector<double> x(params_.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = params_[i];
    auto it = a.find(p.name);
    if (!active[i] || it == a.end()) continue;
    const Value& v = it->second;
    try {
      if (p.type == Type::boolean) {
        x[i] = std::get<bool>(v) ? 1 : 0;
      } else if (categorical(p)) {
        auto pos = std::find(p.values.begin(), p.values.end(), std::get<std::string>(v));
        if (pos == p.values.end())
          throw std::invalid_argument(fmt::format("encode: '{}' is not a value of '{}'", std::get<std::string>(v), p.name));
        x[i] = static_cast<double>(pos - p.values.begin());
      } else {
        x[i] = to_unit(p, v);
      }
    } catch (const std::bad_variant_access&) {
      throw std::invalid_argument(fmt::format("encode: value of '{}' has the wrong type", p.name));
    }
  }
  return x;
}

Assignment Space::decode(const std::vector<double>& x) const {
  if (x.size() != params_.size())
    throw std::invalid_argument(fmt::format("decode: point has {} coordinates, space has {}", x.size(), params_.size()));
  Assignment all;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = params_[i];
    Value v;
    if (std::isnan(x[i])) {
      v = p.default_value;  // an active parameter the optimizer left undefined
    } else if (categorical(p)) {
      double k = std::clamp(std::round(x[i]), 0.0, static_cast<double>(categories(p) - 1));
      v = category_value(p, static_cast<std::size_t>(k));
    } else {
      v = from_unit(p, x[i]);
    }
    all.emplace(p.name, std::move(v));
  }
  std::vector<bool> active;
  resolve(all, active);
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!active[i]) all.erase(params_[i].name);
  return all;
}

}  // namespace kerntune::space
