#include "detail.hpp"

#include <boost/math/distributions/normal.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kerntune::stats::detail {

util::Status check_finite(const std::vector<double>& x, std::string_view name) {
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i])) return util::invalid_input(fmt::format("{}[{}] is not a finite number", name, i));
  return {};
}

double normal_sf(double z) {
  boost::math::normal standard;
  return boost::math::cdf(boost::math::complement(standard, z));
}

double normal_quantile(double p) {
  boost::math::normal standard;
  return boost::math::quantile(standard, p);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return x[i] < x[j]; });
  std::vector<double> ranks(x.size());
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i + 1;
    while (j < order.size() && x[order[j]] == x[order[i]]) ++j;
    double average = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = average;
    i = j;
  }
  return ranks;
}

double tie_term(const std::vector<double>& x) {
  std::vector<double> v = x;
  std::sort(v.begin(), v.end());
  double term = 0;
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    auto t = static_cast<double>(j - i);
    term += t * t * t - t;
    i = j;
  }
  return term;
}

}  // namespace kerntune::stats::detail
