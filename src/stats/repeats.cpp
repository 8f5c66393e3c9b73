// How many repeats would make a ratio-of-medians interval narrow enough.
#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "detail.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

util::Status check_positive(const std::vector<double>& x, std::string_view name) {
  if (x.size() < 3) return util::invalid_input(fmt::format("{} needs at least 3 values to estimate spread, got {}", name, x.size()));
  KT_TRY_STATUS(detail::check_finite(x, name));
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] <= 0) return util::invalid_input(fmt::format("{}[{}] = {} is not positive", name, i, x[i]));
  return {};
}

// Robust standard deviation; falls back to the sample standard deviation
// when more than half the values coincide (MAD = 0).
double robust_sigma(const std::vector<double>& x) {
  double sigma = mad(x, kMadToSigma);
  return sigma > 0 ? sigma : stddev(x);
}

std::vector<double> logs(const std::vector<double>& x) {
  std::vector<double> out;
  out.reserve(x.size());
  for (double v : x) out.push_back(std::log(v));
  return out;
}

}  // namespace

std::string RepeatsEstimate::brief() const {
  return fmt::format("~{}{} repeats per side for ±{:.1f}% (now about ±{:.1f}%)", capped ? ">" : "", repeats,
                     100 * target_half_width, 100 * projected_half_width);
}

util::Result<RepeatsEstimate> required_repeats(const std::vector<double>& a, const std::vector<double>& b,
                                               bool paired, const RepeatsOptions& options) {
  KT_TRY_STATUS(check_positive(a, "a"));
  KT_TRY_STATUS(check_positive(b, "b"));
  if (!(options.target_half_width > 0 && options.target_half_width < 1))
    return util::invalid_input(fmt::format("target half-width must be in (0, 1), got {}", options.target_half_width));
  if (!(options.level > 0 && options.level < 1))
    return util::invalid_input(fmt::format("confidence level must be in (0, 1), got {}", options.level));
  if (options.max_repeats < 1) return util::invalid_input("max_repeats must be at least 1");
  if (paired && a.size() != b.size())
    return util::invalid_input(fmt::format("paired samples must have equal size ({} vs {})", a.size(), b.size()));

  // Variance of the log ratio of medians for one repeat per side, divided by
  // the median's asymptotic efficiency factor π/2.
  double per_repeat_var = 0;
  double current_var = 0;  // same, at the sizes observed
  auto la = logs(a), lb = logs(b);
  if (paired) {
    std::vector<double> diff(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) diff[i] = lb[i] - la[i];
    double sigma = robust_sigma(diff);
    per_repeat_var = sigma * sigma;
    current_var = per_repeat_var / static_cast<double>(a.size());
  } else {
    double sa = robust_sigma(la), sb = robust_sigma(lb);
    per_repeat_var = sa * sa + sb * sb;
    current_var = sa * sa / static_cast<double>(a.size()) + sb * sb / static_cast<double>(b.size());
  }
  constexpr double kMedianEfficiency = std::numbers::pi / 2;
  double z = detail::normal_quantile(1 - (1 - options.level) / 2);
  double h = std::log1p(options.target_half_width);

  RepeatsEstimate out;
  out.target_half_width = options.target_half_width;
  out.relative_spread = std::sqrt(per_repeat_var);
  out.projected_half_width = std::expm1(z * std::sqrt(kMedianEfficiency * current_var));
  double needed = std::ceil(z * z * kMedianEfficiency * per_repeat_var / (h * h));
  needed = std::max(needed, 3.0);
  if (needed > options.max_repeats) {
    out.capped = true;
    out.repeats = options.max_repeats;
  } else {
    out.repeats = static_cast<int>(needed);
  }
  return out;
}

}  // namespace kerntune::stats
