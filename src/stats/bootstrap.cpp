// Percentile bootstrap for the ratio of medians.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "detail.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

// Median of buf (reordered in place).
double median_inplace(std::vector<double>& buf) {
  std::size_t mid = buf.size() / 2;
  std::nth_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(mid), buf.end());
  double upper = buf[mid];
  if (buf.size() % 2 == 1) return upper;
  double lower = *std::max_element(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

util::Status check_sample(const std::vector<double>& x, std::string_view name, bool strictly_positive) {
  if (x.size() < 2) return util::invalid_input(fmt::format("{} needs at least 2 values, got {}", name, x.size()));
  KT_TRY_STATUS(detail::check_finite(x, name));
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (strictly_positive ? x[i] <= 0 : x[i] < 0)
      return util::invalid_input(fmt::format("{}[{}] = {} but a ratio of medians needs {} values", name, i, x[i],
                                             strictly_positive ? "positive" : "non-negative"));
  }
  return {};
}

}  // namespace

double RatioCI::relative_half_width() const {
  if (!(lo > 0) || !(hi > 0)) return std::numeric_limits<double>::infinity();
  return std::expm1((std::log(hi) - std::log(lo)) / 2);
}

std::string RatioCI::brief() const {
  return fmt::format("{}{:.4g} [{:.4g}, {:.4g}] ({:g}%, {} bootstrap, {} resamples)",
                     pair_ratios ? "median pair ratio " : "", ratio, lo, hi, 100 * level,
                     paired ? "paired" : "unpaired", resamples);
}

namespace {
util::Status check_options(double level, int resamples) {
  if (!(level > 0 && level < 1)) return util::invalid_input(fmt::format("confidence level must be in (0, 1), got {}", level));
  if (resamples < 100) return util::invalid_input(fmt::format("at least 100 bootstrap resamples needed, got {}", resamples));
  return {};
}
}  // namespace

util::Result<RatioCI> bootstrap_ratio_ci(const std::vector<double>& a, const std::vector<double>& b, bool paired,
                                         double level, int resamples, std::uint64_t seed) {
  KT_TRY_STATUS(check_sample(a, "a", true));
  KT_TRY_STATUS(check_sample(b, "b", false));
  KT_TRY_STATUS(check_options(level, resamples));
  if (paired && a.size() != b.size())
    return util::invalid_input(fmt::format("paired bootstrap needs as many b values as a values ({} vs {})", b.size(),
                                           a.size()));

  RatioCI out;
  out.level = level;
  out.resamples = resamples;
  out.paired = paired;
  out.ratio = median(b) / median(a);

  std::mt19937_64 rng(seed);
  std::vector<double> ratios(static_cast<std::size_t>(resamples));
  std::vector<double> ra(a.size()), rb(b.size());
  for (auto& ratio : ratios) {
    if (paired) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        std::size_t k = detail::draw_index(rng, a.size());
        ra[i] = a[k];
        rb[i] = b[k];
      }
    } else {
      for (auto& v : ra) v = a[detail::draw_index(rng, a.size())];
      for (auto& v : rb) v = b[detail::draw_index(rng, b.size())];
    }
    ratio = median_inplace(rb) / median_inplace(ra);
  }
  double alpha = 1 - level;
  out.lo = quantile(ratios, alpha / 2);
  out.hi = quantile(ratios, 1 - alpha / 2);
  return out;
}

util::Result<RatioCI> bootstrap_pair_ratio_ci(const std::vector<double>& a, const std::vector<double>& b,
                                              double level, int resamples, std::uint64_t seed) {
  KT_TRY_STATUS(check_sample(a, "a", true));
  KT_TRY_STATUS(check_sample(b, "b", false));
  KT_TRY_STATUS(check_options(level, resamples));
  if (a.size() != b.size())
    return util::invalid_input(fmt::format("pair ratios need as many b values as a values ({} vs {})", b.size(), a.size()));
  std::vector<double> pair_ratios(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) pair_ratios[i] = b[i] / a[i];

  RatioCI out;
  out.level = level;
  out.resamples = resamples;
  out.paired = true;
  out.pair_ratios = true;
  out.ratio = median(pair_ratios);
  std::mt19937_64 rng(seed);
  std::vector<double> medians(static_cast<std::size_t>(resamples));
  std::vector<double> buf(pair_ratios.size());
  for (auto& m : medians) {
    for (auto& v : buf) v = pair_ratios[detail::draw_index(rng, pair_ratios.size())];
    m = median_inplace(buf);
  }
  double alpha = 1 - level;
  out.lo = quantile(medians, alpha / 2);
  out.hi = quantile(medians, 1 - alpha / 2);
  return out;
}

}  // namespace kerntune::stats
