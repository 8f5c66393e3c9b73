// Summaries against numpy/scipy reference values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kerntune/stats/stats.hpp"

namespace kerntune::stats {
namespace {

// Reference numbers produced with Debian 12's /usr/bin/python3, numpy 1.24 and
// scipy 1.10.1:
//   x = [12.1, 11.8, 13.4, 12.9, 12.2, 14.0, 11.5, 12.7, 13.1, 12.4]
//   np.mean(x), np.var(x, ddof=1), np.median(x), np.quantile(x, p),
//   scipy.stats.median_abs_deviation(x[, scale='normal']), np.std(x, ddof=1)/np.mean(x)
const std::vector<double> kX{12.1, 11.8, 13.4, 12.9, 12.2, 14.0, 11.5, 12.7, 13.1, 12.4};

TEST(Summary, MatchesNumpyAndScipy) {
  EXPECT_NEAR(mean(kX), 12.61, 1e-12);
  EXPECT_NEAR(variance(kX), 0.5832222222222221, 1e-12);
  EXPECT_NEAR(stddev(kX), std::sqrt(0.5832222222222221), 1e-12);
  EXPECT_NEAR(median(kX), 12.55, 1e-12);
  EXPECT_NEAR(mad(kX), 0.5, 1e-12);
  EXPECT_NEAR(mad(kX, kMadToSigma), 0.741301109252801, 1e-12);
  EXPECT_NEAR(coefficient_of_variation(kX), 0.06056224211460127, 1e-12);
  EXPECT_NEAR(robust_cv(kX), 0.741301109252801 / 12.55, 1e-12);
  struct Q {
    double p, value;
  };
  for (Q q : {Q{0, 11.5}, Q{0.1, 11.770000000000001}, Q{0.25, 12.125}, Q{0.5, 12.55}, Q{0.9, 13.46},
              Q{0.975, 13.865}, Q{1, 14.0}})
    EXPECT_NEAR(quantile(kX, q.p), q.value, 1e-12) << "p=" << q.p;
  EXPECT_EQ(quantile(kX, -1), 11.5);  // clamped
  EXPECT_EQ(quantile(kX, 2), 14.0);
}

TEST(Summary, OddCountsSingleValuesAndEmptyInput) {
  std::vector<double> odd{5, 1, 3};
  EXPECT_EQ(median(odd), 3);
  EXPECT_EQ(mad(odd), 2);
  std::vector<double> one{4.25};
  EXPECT_EQ(median(one), 4.25);
  EXPECT_EQ(mean(one), 4.25);
  EXPECT_TRUE(std::isnan(variance(one)));
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(mean(none)));
  EXPECT_TRUE(std::isnan(median(none)));
  EXPECT_TRUE(std::isnan(quantile(none, 0.5)));
  EXPECT_TRUE(std::isnan(mad(none)));
  EXPECT_EQ(summarize(none).brief(), "no values");
}

TEST(Summary, MeanAndVarianceStayAccurateOnALargeOffset) {
  // Catastrophic cancellation check: naive Σx² - n·mean² loses everything here.
  std::vector<double> x;
  for (int i = 0; i < 1000; ++i) x.push_back(1e9 + (i % 2 ? 1.0 : -1.0));
  EXPECT_NEAR(mean(x), 1e9, 1e-6);
  EXPECT_NEAR(variance(x), 1000.0 / 999.0, 1e-9);
}

TEST(Summary, SummarizeAndBrief) {
  Summary s = summarize(kX);
  EXPECT_EQ(s.n, 10u);
  EXPECT_EQ(s.min, 11.5);
  EXPECT_EQ(s.max, 14.0);
  EXPECT_NEAR(s.median, 12.55, 1e-12);
  EXPECT_EQ(s.brief(), "median 12.55 (MAD 0.5, n=10, CoV 6.1%)");
}

}  // namespace
}  // namespace kerntune::stats
