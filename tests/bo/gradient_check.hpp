#pragma once
// Finite-difference check of the GP's hyperparameter gradient, shared by the
// bo tests (gp_test: mixed spaces; conditional_test: conditional groups).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>

#include "kerntune/bo/gp.hpp"

namespace kerntune::bo::testing {

/// n normal draws of spread `sd` (a perturbation of hyperparameters in log space).
inline Eigen::VectorXd random_theta(int n, std::uint64_t seed, double sd) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, sd);
  Eigen::VectorXd t(n);
  for (int i = 0; i < n; ++i) t[i] = g(rng);
  return t;
}

/// At the prior mode plus random_theta(·, s, sd) for each seed s, the
/// analytic gradient of neg_log_posterior matches central differences
/// (h = 1e-5) to 1e-4 relative.
inline void expect_posterior_gradient_matches_differences(const Gp& gp, const MixedKernel::Pairwise& pw,
                                                          const Eigen::VectorXd& y, const Eigen::VectorXd& noise,
                                                          std::initializer_list<std::uint64_t> seeds, double sd) {
  for (std::uint64_t s : seeds) {
    Eigen::VectorXd theta = gp.prior_mode() + random_theta(gp.n_hyper(), s, sd);
    Eigen::VectorXd grad;
    double f = gp.neg_log_posterior(theta, pw, y, noise, &grad);
    ASSERT_TRUE(std::isfinite(f));
    for (int p = 0; p < gp.n_hyper(); ++p) {
      const double h = 1e-5;
      Eigen::VectorXd tp = theta, tm = theta;
      tp[p] += h;
      tm[p] -= h;
      double fd = (gp.neg_log_posterior(tp, pw, y, noise, nullptr) - gp.neg_log_posterior(tm, pw, y, noise, nullptr)) / (2 * h);
      EXPECT_NEAR(grad[p], fd, 1e-4 * std::max(1.0, std::abs(fd))) << "hyperparameter " << p;
    }
  }
}

}  // namespace kerntune::bo::testing
