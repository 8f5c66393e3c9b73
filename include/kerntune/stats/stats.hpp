#pragma once
// Statistics for noisy benchmark measurements: robust summaries, a bootstrap
// confidence interval on the ratio of medians, rank tests, and an estimate of
// how many repeats would settle an inconclusive comparison.
// The methods, their assumptions and worked examples: docs/statistics.md.
//
// Conventions: inputs are plain samples (one value per measured repeat).
// Summaries of an empty sample are NaN (variance/stddev/cv need n >= 2); they
// never throw. Functions whose input can be unusable for reasons outside the
// program (too few values, non-finite values, a zero median in a ratio)
// return Result with Error kind invalid_input and a message saying why.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::stats {

/// MAD × this estimates the standard deviation for normal data (1/Φ⁻¹(3/4)).
inline constexpr double kMadToSigma = 1.482602218505602;

double mean(std::span<const double> x);
/// Sample variance (divisor n - 1).
double variance(std::span<const double> x);
double stddev(std::span<const double> x);
double median(std::span<const double> x);
/// Quantile by linear interpolation between order statistics (Hyndman & Fan
/// type 7: R's default, numpy's "linear"). p is clamped to [0, 1].
double quantile(std::span<const double> x, double p);
/// Median absolute deviation from the median, times `scale` (pass
/// kMadToSigma for a robust standard deviation).
double mad(std::span<const double> x, double scale = 1.0);
/// stddev / |mean| (the classic CoV).
double coefficient_of_variation(std::span<const double> x);
/// kMadToSigma · MAD / |median|: a CoV that one slow outlier does not inflate.
double robust_cv(std::span<const double> x);

struct Summary {
  std::size_t n = 0;
  double mean = 0, stddev = 0, median = 0, mad = 0, min = 0, max = 0, cv = 0;
  /// "median 12.55 (MAD 0.5, n=10, CoV 6.1%)"
  std::string brief() const;
};
Summary summarize(std::span<const double> x);

/// A confidence interval for median(b) / median(a) — "B relative to A".
struct RatioCI {
  double ratio = 0;   ///< point estimate median(b) / median(a)
  double lo = 0;      ///< lower bound at `level`
  double hi = 0;      ///< upper bound at `level`
  double level = 0.95;
  int resamples = 0;
  bool paired = false;
  bool pair_ratios = false;  ///< estimator is the median of b[i]/a[i] (bootstrap_pair_ratio_ci)
  bool contains(double v) const { return lo <= v && v <= hi; }
  /// Half the interval's width on the log scale, as a relative figure
  /// (0.02 ≈ "±2%"): what required_repeats aims at.
  double relative_half_width() const;
  /// "1.083 [1.041, 1.127] (95%, paired bootstrap, 10000 resamples)";
  /// "median pair ratio 1.083 […]" for bootstrap_pair_ratio_ci.
  std::string brief() const;
};

/// Percentile bootstrap interval for median(b)/median(a).
/// Unpaired: a and b are resampled independently (sizes may differ).
/// Paired (interleaved ABAB repeats, a[i] and b[i] measured together): index
/// pairs are resampled, keeping each pair's shared conditions; sizes must match.
/// Deterministic for a given seed (own RNG and index draw, no libstdc++
/// distribution), so a stored seed reproduces a report exactly.
/// Errors (invalid_input): fewer than 2 values in a or b, non-finite values,
/// a value of a not > 0 or of b < 0 (a ratio of medians needs positive
/// metrics), level outside (0, 1), resamples < 100, size mismatch when paired.
util::Result<RatioCI> bootstrap_ratio_ci(const std::vector<double>& a, const std::vector<double>& b, bool paired,
                                         double level = 0.95, int resamples = 10000, std::uint64_t seed = 0);

/// Percentile bootstrap interval for the median of per-pair ratios
/// b[i]/a[i] (pairs resampled). Under slow drift shared by each A/B pair
/// (interleaved runs on a noisy host) this estimator cancels the drift inside
/// each pair and gives a much narrower interval than the ratio of medians,
/// whose paired interval stays valid but conservative there. The estimand
/// differs slightly (median of ratios, not ratio of medians); docs/statistics.md
/// says when to use which. Same errors as bootstrap_ratio_ci; sizes must match.
util::Result<RatioCI> bootstrap_pair_ratio_ci(const std::vector<double>& a, const std::vector<double>& b,
                                              double level = 0.95, int resamples = 10000, std::uint64_t seed = 0);

/// Result of a two-sided rank test.
struct TestResult {
  std::string test;      ///< "Wilcoxon signed-rank" | "Mann-Whitney U"
  double statistic = 0;  ///< Wilcoxon: min(R+, R-); Mann-Whitney: U of the first sample
  double pvalue = 1;     ///< two-sided
  double z = 0;          ///< normal-approximation z (0 when exact)
  bool exact = false;    ///< p from the exact null distribution
  std::size_t n = 0;     ///< Wilcoxon: non-zero differences used; MWU: n1 + n2
  std::string brief() const;  ///< "Wilcoxon signed-rank: statistic 5, p = 0.03906 (exact, n=9)"
};

/// Wilcoxon signed-rank test on the paired differences a[i] - b[i]. Zero
/// differences are dropped (Wilcoxon's method). Exact null distribution when
/// at most 50 differences remain and no zeros or ties occurred; otherwise the
/// normal approximation with tie correction (no continuity correction) —
/// the same choices as scipy.stats.wilcoxon's defaults, except that scipy
/// keeps "exact" with tied ranks where this uses the tie-corrected normal.
/// Errors: size mismatch, empty input, non-finite values, all differences zero.
util::Result<TestResult> wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);

/// Mann-Whitney U test of two independent samples, two-sided. Exact when one
/// sample has at most 8 values and there are no ties; otherwise the normal
/// approximation with tie correction and continuity correction (as
/// scipy.stats.mannwhitneyu's defaults). Errors: an empty sample, non-finite values.
util::Result<TestResult> mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

struct RepeatsOptions {
  double target_half_width = 0.02;  ///< wanted relative CI half-width (0.02 = ±2%)
  double level = 0.95;
  int max_repeats = 10000;          ///< cap on the answer
};

struct RepeatsEstimate {
  int repeats = 0;             ///< repeats per side (pairs when paired) to reach the target; capped
  bool capped = false;         ///< the uncapped answer exceeded max_repeats
  double target_half_width = 0;     ///< the target asked for
  double relative_spread = 0;  ///< robust spread per repeat (log scale) the estimate used
  double projected_half_width = 0;  ///< expected relative half-width at the current n
  std::string brief() const;   ///< "~34 repeats per side for ±2.0% (now about ±3.9%)"
};

/// How many repeats per side would make the ratio-of-medians interval about
/// target_half_width wide (on the log scale), from the spread observed so far.
/// Model: a sample median's variance is ≈ (π/2)·σ²/n (normal data), σ taken
/// robustly (kMadToSigma · MAD of log values). Unpaired: σ² = σa² + σb².
/// Paired: σ is the robust spread of the per-pair log ratios log(b[i]/a[i]),
/// which is the interval bootstrap_pair_ratio_ci gives (the paired ratio of
/// medians is wider when pairs drift; see docs/statistics.md).
/// n = ⌈(z·σ)² · (π/2) / h²⌉ with h = log(1 + target) and z the normal
/// quantile for `level`. When MAD is 0 (heavily discretised data) the sample
/// standard deviation is used instead. Errors: fewer than 3 values per side,
/// non-positive or non-finite values, mismatched sizes when paired, a
/// target outside (0, 1).
util::Result<RepeatsEstimate> required_repeats(const std::vector<double>& a, const std::vector<double>& b,
                                               bool paired, const RepeatsOptions& options = {});

/// Early stopping of a trial that is clearly worse than the incumbent (the
/// best configuration measured so far), asked after each measured repeat.
struct EarlyStopOptions {
  /// The chance, over all the looks at one trial, of stopping a trial that is
  /// in truth no worse than the incumbent (split evenly over the looks).
  double alpha = 0.05;
  int min_repeats = 2;      ///< no look before this many repeats of the trial
  int planned_repeats = 0;  ///< the trial's repeats (looks after min..planned-1); < min_repeats: one look
  bool maximize = false;    ///< direction of the objective
};

struct EarlyStopDecision {
  bool stop = false;
  bool looked = false;       ///< false: fewer than min_repeats repeats so far
  bool log_scale = true;     ///< the test ran on log values (every value > 0)
  double statistic = 0;      ///< t of "trial worse than incumbent" (> 0: worse)
  double threshold = 0;      ///< the one-sided critical value at alpha_per_look
  double alpha_per_look = 0;
  int looks = 0;             ///< looks the alpha was split over
  double df = 0;             ///< degrees of freedom of the pooled t
  int n = 0;                 ///< repeats of the trial
  int incumbent_n = 0;       ///< repeats of the incumbent
  /// "pooled t on log values: t = 6.1 > 3.5 (one-sided, alpha 0.05 over 3 looks, 2 vs 5 repeats)"
  std::string brief() const;
};

/// Should a trial stop now? A one-sided two-sample t test (pooled variance)
/// of H0 "the trial is no worse than the incumbent" on log values —
/// multiplicative noise, the same relative spread for every configuration —
/// or on the values themselves when any is <= 0; stop when H0 is rejected at
/// alpha / looks (Bonferroni over the looks a trial gets, so the stated alpha
/// bounds the whole sequence). With no spread at all (every value equal on
/// both sides) a trial stops when its mean is worse. Errors (invalid_input):
/// an incumbent with fewer than 2 values, non-finite values, alpha outside
/// (0, 1), min_repeats < 2. Fewer than min_repeats trial values: no look.
util::Result<EarlyStopDecision> early_stop(const std::vector<double>& incumbent, const std::vector<double>& trial,
                                           const EarlyStopOptions& options);

}  // namespace kerntune::stats
