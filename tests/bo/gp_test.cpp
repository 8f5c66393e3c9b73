// Kernel and GP: gradients against finite differences, a closed-form
// posterior, the jitter ladder.
#include <gtest/gtest.h>

#include <cmath>
#include <Eigen/Eigenvalues>
#include <random>

#include "kerntune/bo/gp.hpp"
#include "kerntune/bo/kernel.hpp"
#include "gradient_check.hpp"
#include "test_problems.hpp"

namespace kerntune::bo {
namespace {

const double kNaN = std::nan("");

/// Mixed dims: continuous, integer, categorical(3), continuous (sometimes NaN), categorical(2).
std::vector<Dim> mixed_dims() {
  return {{Dim::Kind::continuous, 0, 0}, {Dim::Kind::integer, 5, 0}, {Dim::Kind::categorical, 0, 3},
          {Dim::Kind::continuous, 0, 0}, {Dim::Kind::categorical, 0, 2}};
}

std::vector<Point> mixed_points(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Point> pts;
  for (int i = 0; i < n; ++i) {
    Point x{u(rng), std::round(u(rng) * 4) / 4, std::floor(u(rng) * 3), u(rng), std::floor(u(rng) * 2)};
    if (x[2] != 1) x[3] = kNaN;     // conditional continuous
    if (i % 5 == 0) x[4] = kNaN;    // conditional categorical
    pts.push_back(x);
  }
  return pts;
}

Eigen::VectorXd random_theta(int n, std::uint64_t seed) { return testing::random_theta(n, seed, 0.5); }

TEST(MixedKernel, ParameterLayout) {
  MixedKernel k(mixed_dims());
  EXPECT_TRUE(k.mixed());
  EXPECT_EQ(k.n_params(), 1 + 1 + 3 + 2);
  MixedKernel only_cont(std::vector<Dim>(3, Dim{}));
  EXPECT_FALSE(only_cont.mixed());
  EXPECT_EQ(only_cont.n_params(), 4);
}

TEST(MixedKernel, SymmetricUnitDiagonalAndInactiveHandling) {
  MixedKernel k(mixed_dims());
  k.set_params(random_theta(k.n_params(), 3));
  auto pts = mixed_points(6, 1);
  for (auto& a : pts) {
    EXPECT_NEAR(k.eval(a.data(), a.data()), k.variance(), 1e-12);
    for (auto& b : pts) EXPECT_NEAR(k.eval(a.data(), b.data()), k.eval(b.data(), a.data()), 1e-14);
  }
  // An inactive coordinate equals another inactive one and differs from any active value.
  Point a{0.3, 0.5, 0, kNaN, 1}, b{0.3, 0.5, 0, kNaN, 1}, c{0.3, 0.5, 0, 0.5, 1};
  EXPECT_NEAR(k.eval(a.data(), b.data()), k.variance(), 1e-12);
  EXPECT_LT(k.eval(a.data(), c.data()), k.variance() * 0.999);
}

TEST(MixedKernel, GramMatrixIsPositiveDefinite) {
  MixedKernel k(mixed_dims());
  k.set_params(random_theta(k.n_params(), 5));
  auto pts = mixed_points(40, 2);
  Eigen::MatrixXd K(40, 40);
  for (int i = 0; i < 40; ++i)
    for (int j = 0; j < 40; ++j) K(i, j) = k.eval(pts[i].data(), pts[j].data());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K);
  EXPECT_GT(es.eigenvalues().minCoeff(), -1e-10);
}

TEST(MixedKernel, ParameterGradientMatchesFiniteDifferences) {
  MixedKernel k(mixed_dims());
  Eigen::VectorXd theta = random_theta(k.n_params(), 11);
  auto pts = mixed_points(8, 3);
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    const Point &a = pts[i], &b = pts[i + 1];
    k.set_params(theta);
    std::vector<double> g(static_cast<std::size_t>(k.n_params()));
    k.grad_params(a.data(), b.data(), g.data());
    for (int p = 0; p < k.n_params(); ++p) {
      const double h = 1e-6;
      Eigen::VectorXd tp = theta, tm = theta;
      tp[p] += h;
      tm[p] -= h;
      k.set_params(tp);
      double fp = k.eval(a.data(), b.data());
      k.set_params(tm);
      double fm = k.eval(a.data(), b.data());
      EXPECT_NEAR(g[static_cast<std::size_t>(p)], (fp - fm) / (2 * h), 1e-7) << "param " << p << " pair " << i;
    }
  }
}

TEST(MixedKernel, InputGradientMatchesFiniteDifferences) {
  MixedKernel k(mixed_dims());
  k.set_params(random_theta(k.n_params(), 13));
  auto pts = mixed_points(8, 4);
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    Point a = pts[i];
    const Point& b = pts[i + 1];
    std::vector<double> g(a.size());
    k.grad_x(a.data(), b.data(), g.data());
    for (std::size_t j : {0u, 1u, 3u}) {
      if (std::isnan(a[j])) {
        EXPECT_EQ(g[j], 0.0);
        continue;
      }
      const double h = 1e-6;
      Point ap = a, am = a;
      ap[j] += h;
      am[j] -= h;
      double fd = (k.eval(ap.data(), b.data()) - k.eval(am.data(), b.data())) / (2 * h);
      EXPECT_NEAR(g[j], fd, 1e-6) << "dim " << j;
    }
  }
}

TEST(MixedKernel, PackedGradientEqualsSumOfPairGradients) {
  MixedKernel k(mixed_dims());
  k.set_params(random_theta(k.n_params(), 17));
  auto pts = mixed_points(7, 5);
  Eigen::MatrixXd X(7, 5);
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 5; ++j) X(i, j) = pts[i][j];
  auto pw = k.pairwise(X);
  Eigen::ArrayXd kp, km, kc, g;
  k.packed_values(pw, kp, &km, &kc, &g);
  Eigen::ArrayXd w = Eigen::ArrayXd::LinSpaced(kp.size(), -1, 2);
  Eigen::VectorXd packed = k.packed_grad(pw, w, km, kc, g);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(k.n_params());
  std::vector<double> gp(static_cast<std::size_t>(k.n_params()));
  Eigen::Index p = 0;
  for (int j = 1; j < 7; ++j)
    for (int i = 0; i < j; ++i, ++p) {
      EXPECT_NEAR(kp[p], k.eval(pts[i].data(), pts[j].data()), 1e-13);
      k.grad_params(pts[i].data(), pts[j].data(), gp.data());
      for (int q = 0; q < k.n_params(); ++q) sum[q] += w[p] * gp[static_cast<std::size_t>(q)];
    }
  EXPECT_LT((packed - sum).norm(), 1e-10);
}

TEST(Gp, LogPosteriorGradientMatchesFiniteDifferences) {
  Gp gp(mixed_dims());
  auto pts = mixed_points(25, 6);
  Eigen::MatrixXd X(25, 5);
  Eigen::VectorXd y(25), noise(25);
  for (int i = 0; i < 25; ++i) {
    for (int j = 0; j < 5; ++j) X(i, j) = pts[i][j];
    y[i] = std::sin(6 * pts[i][0]) + pts[i][2] - (std::isnan(pts[i][3]) ? 0 : pts[i][3]);
    noise[i] = i % 3 == 0 ? 0.01 : 0.0;  // some known noise
  }
  auto pw = gp.kernel().pairwise(X);
  testing::expect_posterior_gradient_matches_differences(gp, pw, y, noise, {21u, 22u, 23u}, 0.5);
}

TEST(Gp, NegLogLikelihoodsDifferAsTheFitObjectiveDoes) {
  // Columns compared at the same hyperparameters: their difference is the
  // difference of the fit's objective (the prior term cancels), with and
  // without known noise.
  Gp gp(mixed_dims());
  auto pts = mixed_points(20, 8);
  Eigen::MatrixXd X(20, 5), Y(20, 2), N = Eigen::MatrixXd::Zero(20, 2);
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 5; ++j) X(i, j) = pts[i][j];
    Y(i, 0) = std::sin(6 * pts[i][0]) + pts[i][2];
    Y(i, 1) = std::exp(Y(i, 0)) - 1;
  }
  auto pw = gp.kernel().pairwise(X);
  Eigen::VectorXd theta = gp.prior_mode() + random_theta(gp.n_hyper(), 31);
  gp.set_hyper(theta);
  for (bool known : {false, true}) {
    if (known) N.col(1).setConstant(0.02);
    Eigen::VectorXd nll = gp.neg_log_likelihoods(X, Y, N);
    double a = gp.neg_log_posterior(theta, pw, Y.col(0), N.col(0), nullptr);
    double b = gp.neg_log_posterior(theta, pw, Y.col(1), N.col(1), nullptr);
    EXPECT_NEAR(nll[0] - nll[1], a - b, 1e-8 * std::max(1.0, std::abs(a - b)));
  }
}

TEST(Gp, PosteriorMatchesClosedFormTwoPointCase) {
  // 1-D, points 0.2 and 0.6 with targets 1 and -1, noise floor σ²; the
  // posterior at x* = 0.3 written out with the 2×2 inverse by hand.
  Gp gp({Dim{}});
  const double s = 1.5, ell = 0.4, sn = 1e-3;
  Eigen::VectorXd theta(3);
  theta << std::log(s), std::log(ell), std::log(sn);
  gp.set_hyper(theta);
  auto matern = [&](double r) {
    double a = std::sqrt(5.0) * r / ell;
    return s * (1 + a + a * a / 3) * std::exp(-a);
  };
  Eigen::MatrixXd X(2, 1);
  X << 0.2, 0.6;
  Eigen::VectorXd y(2), noise = Eigen::VectorXd::Zero(2);
  y << 1, -1;
  ASSERT_TRUE(gp.condition(X, y, noise).has_value());
  double k11 = s + sn, k12 = matern(0.4), det = k11 * k11 - k12 * k12;
  double a1 = (k11 * 1 - k12 * -1) / det, a2 = (-k12 * 1 + k11 * -1) / det;
  double ks1 = matern(0.1), ks2 = matern(0.3);
  double mean = ks1 * a1 + ks2 * a2;
  double quad = (k11 * ks1 * ks1 - 2 * k12 * ks1 * ks2 + k11 * ks2 * ks2) / det;
  double var = s - quad;
  double m = 0, v = 0;
  double xs = 0.3;
  gp.predict_one(&xs, m, v, nullptr, nullptr);
  EXPECT_NEAR(m, mean, 1e-10);
  EXPECT_NEAR(v, var, 1e-10);
  // Means at the training points, the O(n) way and the general way.
  Eigen::VectorXd tm = gp.train_mean(), pm, pv;
  gp.predict(X, pm, pv);
  EXPECT_NEAR((tm - pm).norm(), 0.0, 1e-10);
  Eigen::MatrixXd Xs(1, 1);
  Xs << 0.3;
  Eigen::VectorXd mb, vb;
  gp.predict(Xs, mb, vb);
  EXPECT_NEAR(mb[0], mean, 1e-10);
  EXPECT_NEAR(vb[0], var, 1e-10);
}

TEST(Gp, PredictionGradientsMatchFiniteDifferences) {
  Gp gp(mixed_dims());
  gp.set_hyper(gp.prior_mode() + random_theta(gp.n_hyper(), 31) * 0.5);
  auto pts = mixed_points(20, 7);
  Eigen::MatrixXd X(20, 5);
  Eigen::VectorXd y(20), noise = Eigen::VectorXd::Constant(20, 1e-4);
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 5; ++j) X(i, j) = pts[i][j];
    y[i] = std::cos(5 * pts[i][0]) * (1 + pts[i][1]);
  }
  ASSERT_TRUE(gp.condition(X, y, noise).has_value());
  for (const Point& x0 : mixed_points(5, 8)) {
    double m = 0, v = 0;
    Eigen::VectorXd dm, dv;
    gp.predict_one(x0.data(), m, v, &dm, &dv);
    for (std::size_t j : {0u, 1u, 3u}) {
      if (std::isnan(x0[j])) continue;
      const double h = 1e-6;
      Point xp = x0, xm = x0;
      xp[j] += h;
      xm[j] -= h;
      double mp, vp, mm, vm;
      gp.predict_one(xp.data(), mp, vp, nullptr, nullptr);
      gp.predict_one(xm.data(), mm, vm, nullptr, nullptr);
      EXPECT_NEAR(dm[static_cast<Eigen::Index>(j)], (mp - mm) / (2 * h), 1e-5);
      EXPECT_NEAR(dv[static_cast<Eigen::Index>(j)], (vp - vm) / (2 * h), 1e-5);
    }
  }
}

TEST(Gp, FitRecoversALongerLengthscaleForASmootherFunction) {
  auto fit_ell = [](double freq) {
    Gp gp({Dim{}});
    Eigen::MatrixXd X(30, 1);
    Eigen::VectorXd y(30), noise = Eigen::VectorXd::Zero(30);
    for (int i = 0; i < 30; ++i) {
      X(i, 0) = i / 29.0;
      y[i] = std::sin(freq * X(i, 0));
    }
    y = (y.array() - y.mean()) / std::sqrt((y.array() - y.mean()).square().mean());
    FitOptions o;
    auto r = gp.fit(X, y, noise, o);
    EXPECT_TRUE(r.has_value());
    return gp.kernel().lengthscale(0);
  };
  EXPECT_GT(fit_ell(3), 2 * fit_ell(25));
}

TEST(Cholesky, JitterLadderRescuesSemidefiniteAndReportsIndefinite) {
  Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(5, 5);  // rank 1
  auto l = cholesky_with_jitter(ones);
  ASSERT_TRUE(l.has_value());
  EXPECT_LT(((*l) * l->transpose() - ones).norm(), 1e-1);
  Eigen::MatrixXd bad = Eigen::MatrixXd::Identity(3, 3);
  bad(2, 2) = -1;
  auto e = cholesky_with_jitter(bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("positive definite"), std::string::npos);
}

}  // namespace
}  // namespace kerntune::bo
