// Descriptive statistics: location, spread, quantiles.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double mean(std::span<const double> x) {
  if (x.empty()) return kNaN;
  // Two-pass: the mean of the residuals corrects rounding in the first sum.
  double m = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  double r = 0;
  for (double v : x) r += v - m;
  return m + r / static_cast<double>(x.size());
}

double variance(std::span<const double> x) {
  if (x.size() < 2) return kNaN;
  double m = mean(x);
  double ss = 0, s = 0;
  for (double v : x) {
    ss += (v - m) * (v - m);
    s += v - m;
  }
  double n = static_cast<double>(x.size());
  return (ss - s * s / n) / (n - 1);  // corrected two-pass algorithm
}

double stddev(std::span<const double> x) { return std::sqrt(variance(x)); }

double quantile(std::span<const double> x, double p) {
  if (x.empty() || std::isnan(p)) return kNaN;
  std::vector<double> v(x.begin(), x.end());
  std::sort(v.begin(), v.end());
  p = std::clamp(p, 0.0, 1.0);
  double h = (static_cast<double>(v.size()) - 1) * p;
  auto lo = static_cast<std::size_t>(std::floor(h));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double median(std::span<const double> x) {
  if (x.empty()) return kNaN;
  std::vector<double> v(x.begin(), x.end());
  std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

double mad(std::span<const double> x, double scale) {
  if (x.empty()) return kNaN;
  double m = median(x);
  std::vector<double> dev;
  dev.reserve(x.size());
  for (double v : x) dev.push_back(std::fabs(v - m));
  return scale * median(dev);
}

double coefficient_of_variation(std::span<const double> x) { return stddev(x) / std::fabs(mean(x)); }

double robust_cv(std::span<const double> x) { return mad(x, kMadToSigma) / std::fabs(median(x)); }

Summary summarize(std::span<const double> x) {
  Summary s;
  s.n = x.size();
  s.mean = mean(x);
  s.stddev = stddev(x);
  s.median = median(x);
  s.mad = mad(x);
  s.min = x.empty() ? kNaN : *std::min_element(x.begin(), x.end());
  s.max = x.empty() ? kNaN : *std::max_element(x.begin(), x.end());
  s.cv = coefficient_of_variation(x);
  return s;
}

std::string Summary::brief() const {
  if (n == 0) return "no values";
  if (n == 1) return fmt::format("{:.6g} (n=1)", median);
  return fmt::format("median {:.6g} (MAD {:.3g}, n={}, CoV {:.1f}%)", median, mad, n, 100 * cv);
}

}  // namespace kerntune::stats
