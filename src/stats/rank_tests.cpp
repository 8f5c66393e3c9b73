// Wilcoxon signed-rank and Mann-Whitney U, two-sided.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "detail.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

// Null distribution of R+ for n untied, non-zero differences: counts[s] is
// the number of sign patterns with R+ = s (out of 2^n). Exact in double for
// n <= 50 (counts stay below 2^53).
std::vector<double> signed_rank_counts(std::size_t n) {
  std::size_t max_sum = n * (n + 1) / 2;
  std::vector<double> counts(max_sum + 1, 0.0);
  counts[0] = 1;
  std::size_t reach = 0;
  for (std::size_t rank = 1; rank <= n; ++rank) {
    reach += rank;
    for (std::size_t s = reach; s >= rank; --s) counts[s] += counts[s - rank];
  }
  return counts;
}

// Null distribution of U for samples of sizes m and n without ties: the
// coefficients of the Gaussian binomial [m+n choose m]_q, built by
// [n+i choose i]_q = [n+i-1 choose i-1]_q (1 - q^(n+i)) / (1 - q^i).
std::vector<long double> mann_whitney_counts(std::size_t m, std::size_t n) {
  if (m > n) std::swap(m, n);
  // Starts as the polynomial 1 (built this way to keep GCC's
  // -Wnull-dereference from misfiring on c[0] of a sized vector).
  std::vector<long double> c{1.0L};
  c.resize(m * n + 1, 0.0L);
  for (std::size_t i = 1; i <= m; ++i) {
    std::size_t shift = n + i;
    for (std::size_t k = c.size(); k-- > shift;) c[k] -= c[k - shift];
    for (std::size_t k = i; k < c.size(); ++k) c[k] += c[k - i];
  }
  return c;
}

constexpr const char* kWilcoxon = "Wilcoxon signed-rank";
constexpr const char* kMannWhitney = "Mann-Whitney U";

}  // namespace

std::string TestResult::brief() const {
  std::string method = exact ? std::string("exact") : fmt::format("normal approximation, z = {:.3f}", z);
  return fmt::format("{}: statistic {:g}, p = {:.4g} ({}, n={})", test, statistic, pvalue, method, n);
}

util::Result<TestResult> wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    return util::invalid_input(fmt::format("{} test needs paired samples of equal size ({} vs {})", kWilcoxon, a.size(),
                                           b.size()));
  if (a.empty()) return util::invalid_input("Wilcoxon signed-rank test of empty samples");
  KT_TRY_STATUS(detail::check_finite(a, "a"));
  KT_TRY_STATUS(detail::check_finite(b, "b"));

  std::vector<double> d, magnitude;
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double diff = a[i] - b[i];
    if (diff == 0) {
      ++zeros;
      continue;
    }
    d.push_back(diff);
    magnitude.push_back(std::fabs(diff));
  }
  if (d.empty()) return util::invalid_input("Wilcoxon signed-rank test: every difference is zero");

  std::vector<double> ranks = detail::average_ranks(magnitude);
  double r_plus = 0, r_minus = 0;
  for (std::size_t i = 0; i < d.size(); ++i) (d[i] > 0 ? r_plus : r_minus) += ranks[i];
  double ties = detail::tie_term(magnitude);

  TestResult out;
  out.test = kWilcoxon;
  out.statistic = std::min(r_plus, r_minus);
  out.n = d.size();
  auto n = static_cast<double>(d.size());
  if (a.size() <= 50 && zeros == 0 && ties == 0) {
    out.exact = true;
    std::vector<double> counts = signed_rank_counts(d.size());
    auto r = static_cast<std::size_t>(std::llround(r_plus));
    double total = std::ldexp(1.0, static_cast<int>(d.size()));
    double below = 0, above = 0;
    for (std::size_t s = 0; s < counts.size(); ++s) {
      if (s <= r) below += counts[s];
      if (s >= r) above += counts[s];
    }
    out.pvalue = r == (counts.size() - 1) / 2 ? 1.0 : std::min(1.0, 2 * std::min(below, above) / total);
    return out;
  }
  double mean = n * (n + 1) / 4;
  double var = (n * (n + 1) * (2 * n + 1) - ties / 2) / 24;
  out.z = var > 0 ? (out.statistic - mean) / std::sqrt(var) : 0.0;
  out.pvalue = std::min(1.0, 2 * detail::normal_sf(std::fabs(out.z)));
  return out;
}

util::Result<TestResult> mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return util::invalid_input("Mann-Whitney U test needs two non-empty samples");
  KT_TRY_STATUS(detail::check_finite(a, "a"));
  KT_TRY_STATUS(detail::check_finite(b, "b"));
  std::vector<double> both(a);
  both.insert(both.end(), b.begin(), b.end());
  std::vector<double> ranks = detail::average_ranks(both);
  auto n1 = static_cast<double>(a.size());
  auto n2 = static_cast<double>(b.size());
  double r1 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) r1 += ranks[i];
  double u1 = r1 - n1 * (n1 + 1) / 2;
  double u = std::max(u1, n1 * n2 - u1);
  double ties = detail::tie_term(both);

  TestResult out;
  out.test = kMannWhitney;
  out.statistic = u1;
  out.n = both.size();
  if ((a.size() <= 8 || b.size() <= 8) && ties == 0) {
    out.exact = true;
    std::vector<long double> counts = mann_whitney_counts(a.size(), b.size());
    long double total = 0, tail = 0;
    auto k = static_cast<std::size_t>(std::llround(u));
    for (std::size_t s = 0; s < counts.size(); ++s) {
      total += counts[s];
      if (s >= k) tail += counts[s];
    }
    out.pvalue = std::min(1.0, static_cast<double>(2 * tail / total));
    return out;
  }
  double n = n1 + n2;
  double s = std::sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))));
  if (!(s > 0)) {  // every value equal: no evidence either way
    out.pvalue = 1;
    return out;
  }
  out.z = (u - n1 * n2 / 2 - 0.5) / s;
  out.pvalue = std::min(1.0, 2 * detail::normal_sf(out.z));
  return out;
}

}  // namespace kerntune::stats
