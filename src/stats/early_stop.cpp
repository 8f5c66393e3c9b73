// Early stopping of a clearly worse trial (include/kerntune/stats/stats.hpp, docs/statistics.md).
#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

#include "detail.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {

std::string EarlyStopDecision::brief() const {
  if (!looked) return fmt::format("no look yet ({} repeat(s))", n);
  return fmt::format("pooled t on {}: t = {:.3g} {} {:.3g} (one-sided, alpha {:.3g} over {} look(s), {} vs {} repeats)",
                     log_scale ? "log values" : "values", statistic, stop ? ">" : "<=", threshold,
                     alpha_per_look * looks, looks, n, incumbent_n);
}

util::Result<EarlyStopDecision> early_stop(const std::vector<double>& incumbent, const std::vector<double>& trial,
                                           const EarlyStopOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) return util::invalid_input(fmt::format("alpha must be in (0, 1), got {}", o.alpha));
  if (o.min_repeats < 2) return util::invalid_input(fmt::format("min_repeats must be at least 2, got {}", o.min_repeats));
  if (incumbent.size() < 2)
    return util::invalid_input(fmt::format("the incumbent needs at least 2 values, got {}", incumbent.size()));
  KT_TRY_STATUS(detail::check_finite(incumbent, "incumbent"));
  KT_TRY_STATUS(detail::check_finite(trial, "trial"));
  EarlyStopDecision d;
  d.n = static_cast<int>(trial.size());
  d.incumbent_n = static_cast<int>(incumbent.size());
  d.looks = std::max(1, o.planned_repeats - o.min_repeats);
  d.alpha_per_look = o.alpha / d.looks;
  if (d.n < o.min_repeats) return d;
  d.looked = true;
  auto positive = [](const std::vector<double>& x) { return std::all_of(x.begin(), x.end(), [](double v) { return v > 0; }); };
  d.log_scale = positive(incumbent) && positive(trial);
  auto scaled = [&](const std::vector<double>& x) {
    std::vector<double> y(x);
    if (d.log_scale)
      for (double& v : y) v = std::log(v);
    return y;
  };
  const auto a = scaled(incumbent), b = scaled(trial);
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  d.df = na + nb - 2;
  const double pooled = ((na - 1) * variance(a) + (nb - 1) * variance(b)) / d.df;
  // Worse: larger when minimizing, smaller when maximizing.
  const double diff = o.maximize ? mean(a) - mean(b) : mean(b) - mean(a);
  const double se = std::sqrt(pooled * (1 / na + 1 / nb));
  boost::math::students_t_distribution<double> t(d.df);
  d.threshold = boost::math::quantile(boost::math::complement(t, d.alpha_per_look));
  if (se > 0) {
    d.statistic = diff / se;
  } else {
    d.statistic = diff > 0 ? std::numeric_limits<double>::infinity() : diff < 0 ? -std::numeric_limits<double>::infinity() : 0;
  }
  d.stop = d.statistic > d.threshold;
  return d;
}

}  // namespace kerntune::stats
