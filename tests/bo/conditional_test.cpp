// Conditional groups (docs/bo.md §2, "Conditional groups"): the kernel's
// gradients, that it ignores inactive children, that it stays PSD on a
// mixed-branch set, that the acquisition search moves into another branch
// and refines its children, and deterministic proposals on such a space.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <functional>
#include <random>
#include <utility>

#include "kerntune/bo/gp.hpp"
#include "kerntune/bo/kernel.hpp"
#include "gradient_check.hpp"
#include "kerntune/bo/optimizer.hpp"
#include "search.hpp"

namespace kerntune::bo {
namespace {

const double kNaN = std::nan("");

// x0: branch (categorical 3); x1: shared continuous; x2, x3: group 0 (branch
// 0); x4 continuous, x5 integer (9 levels): group 1 (branch 1); x6: group 2
// (branch 2); x7: an unconditional categorical (2).
std::vector<Dim> branch_dims(bool grouped) {
  std::vector<Dim> d = {{Dim::Kind::categorical, 0, 3}, {Dim::Kind::continuous, 0, 0},
                        {Dim::Kind::continuous, 0, 0},  {Dim::Kind::continuous, 0, 0},
                        {Dim::Kind::continuous, 0, 0},  {Dim::Kind::integer, 9, 0},
                        {Dim::Kind::continuous, 0, 0},  {Dim::Kind::categorical, 0, 2}};
  if (grouped) {
    d[2].group = d[3].group = 10;  // any ids; the kernel numbers groups by first appearance
    d[4].group = d[5].group = 11;
    d[6].group = 12;
  }
  return d;
}

Point mask(Point x) {
  int b = static_cast<int>(x[0]);
  if (b != 0) x[2] = x[3] = kNaN;
  if (b != 1) x[4] = x[5] = kNaN;
  if (b != 2) x[6] = kNaN;
  return x;
}

Point branch_point(std::mt19937_64& rng, int branch) {
  std::uniform_real_distribution<double> u(0, 1);
  Point x{static_cast<double>(branch), u(rng), u(rng), u(rng), u(rng), std::round(u(rng) * 8) / 8, u(rng),
          std::floor(u(rng) * 2)};
  return mask(x);
}

std::vector<Point> branch_points(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Point> pts;
  for (int i = 0; i < n; ++i) pts.push_back(branch_point(rng, i % 3));
  return pts;
}

Eigen::VectorXd random_theta(int n, std::uint64_t seed) { return testing::random_theta(n, seed, 0.6); }

Eigen::MatrixXd to_matrix(const std::vector<Point>& pts) {
  Eigen::MatrixXd X(static_cast<Eigen::Index>(pts.size()), static_cast<Eigen::Index>(pts[0].size()));
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t j = 0; j < pts[i].size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = pts[i][j];
  return X;
}

TEST(ConditionalKernel, LayoutAndConstantVariance) {
  MixedKernel flat(branch_dims(false)), k(branch_dims(true));
  EXPECT_EQ(flat.n_groups(), 0);
  ASSERT_EQ(k.n_groups(), 3);
  EXPECT_EQ(k.n_params(), flat.n_params() + 3);  // one log s_g per group, at the end
  EXPECT_EQ(k.group_index(0), flat.n_params());
  k.set_params(random_theta(k.n_params(), 1));
  double expect = std::exp(k.params()[0]);
  for (int g = 0; g < 3; ++g) expect += std::exp(k.params()[k.group_index(g)]);
  EXPECT_NEAR(k.variance(), expect, 1e-12);
  for (const Point& a : branch_points(9, 2)) EXPECT_NEAR(k.eval(a.data(), a.data()), k.variance(), 1e-12);
}

TEST(ConditionalKernel, ParameterGradientMatchesFiniteDifferences) {
  MixedKernel k(branch_dims(true));
  auto pts = branch_points(12, 3);
  for (std::uint64_t s : {5u, 6u}) {
    Eigen::VectorXd theta = random_theta(k.n_params(), s);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      for (std::size_t j : {i, (i + 1) % pts.size(), (i + 3) % pts.size()}) {  // same and other branches
        const Point &a = pts[i], &b = pts[j];
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
          EXPECT_NEAR(g[static_cast<std::size_t>(p)], (fp - fm) / (2 * h), 1e-7) << "param " << p << " pair " << i << "," << j;
        }
      }
    }
  }
}

TEST(ConditionalKernel, InputGradientMatchesFiniteDifferences) {
  MixedKernel k(branch_dims(true));
  k.set_params(random_theta(k.n_params(), 8));
  auto pts = branch_points(9, 4);
  for (std::size_t i = 0; i < pts.size(); ++i) {
    for (std::size_t j : {(i + 3) % pts.size(), (i + 1) % pts.size()}) {
      Point a = pts[i];
      const Point& b = pts[j];
      std::vector<double> g(a.size());
      k.grad_x(a.data(), b.data(), g.data());
      for (std::size_t c = 1; c < 7; ++c) {  // the continuous/integer coordinates
        if (std::isnan(a[c])) {
          EXPECT_EQ(g[c], 0.0);
          continue;
        }
        const double h = 1e-6, v = a[c];
        a[c] = v + h;
        double fp = k.eval(a.data(), b.data());
        a[c] = v - h;
        double fm = k.eval(a.data(), b.data());
        a[c] = v;
        EXPECT_NEAR(g[c], (fp - fm) / (2 * h), 1e-6) << "coordinate " << c << " pair " << i << "," << j;
      }
    }
  }
}

TEST(ConditionalKernel, PackedGradientEqualsSumOfPairGradients) {
  MixedKernel k(branch_dims(true));
  k.set_params(random_theta(k.n_params(), 12));
  auto pts = branch_points(15, 5);
  auto pw = k.pairwise(to_matrix(pts));
  Eigen::ArrayXd kp, km, kc, g;
  k.packed_values(pw, kp, &km, &kc, &g);
  Eigen::ArrayXd w = Eigen::ArrayXd::LinSpaced(kp.size(), -1, 2);
  Eigen::VectorXd packed = k.packed_grad(pw, w, km, kc, g);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(k.n_params());
  std::vector<double> gp(static_cast<std::size_t>(k.n_params()));
  Eigen::Index p = 0;
  for (std::size_t j = 1; j < pts.size(); ++j)
    for (std::size_t i = 0; i < j; ++i, ++p) {
      EXPECT_NEAR(kp[p], k.eval(pts[i].data(), pts[j].data()), 1e-12);
      k.grad_params(pts[i].data(), pts[j].data(), gp.data());
      for (int q = 0; q < k.n_params(); ++q) sum[q] += w[p] * gp[static_cast<std::size_t>(q)];
    }
  for (int q = 0; q < k.n_params(); ++q) EXPECT_NEAR(packed[q], sum[q], 1e-9 * std::max(1.0, std::abs(sum[q]))) << q;
}

TEST(ConditionalKernel, LogPosteriorGradientMatchesFiniteDifferences) {
  Gp gp(branch_dims(true));
  auto pts = branch_points(24, 6);
  Eigen::MatrixXd X = to_matrix(pts);
  Eigen::VectorXd y(24), noise = Eigen::VectorXd::Zero(24);
  for (int i = 0; i < 24; ++i) {
    const Point& x = pts[static_cast<std::size_t>(i)];
    y[i] = std::sin(5 * x[1]) + (x[0] == 0 ? x[2] - x[3] : 0) + (x[0] == 1 ? 2 * x[4] * x[5] : 0) +
           (x[0] == 2 ? std::cos(4 * x[6]) : 0);
    if (i % 4 == 0) noise[i] = 0.02;
  }
  auto pw = gp.kernel().pairwise(X);
  testing::expect_posterior_gradient_matches_differences(gp, pw, y, noise, {31u, 32u}, 0.6);
}

TEST(ConditionalKernel, GramMatrixOfMixedBranchesIsPositiveSemidefinite) {
  MixedKernel k(branch_dims(true));
  auto pts = branch_points(90, 7);
  pts.push_back(pts[4]);  // a duplicate: singular but still PSD
  for (std::uint64_t s : {40u, 41u, 42u}) {
    Eigen::VectorXd theta = random_theta(k.n_params(), s);
    theta.segment(k.cont_index(0), 6).array() -= 1.5;  // short lengthscales: near-independent children
    k.set_params(theta);
    const auto n = static_cast<Eigen::Index>(pts.size());
    Eigen::MatrixXd K(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j)
        K(i, j) = k.eval(pts[static_cast<std::size_t>(i)].data(), pts[static_cast<std::size_t>(j)].data());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K);
    EXPECT_GE(es.eigenvalues().minCoeff(), -1e-9 * k.variance()) << "theta seed " << s;
    Eigen::LLT<Eigen::MatrixXd> llt(K + 1e-9 * k.variance() * Eigen::MatrixXd::Identity(n, n));
    EXPECT_EQ(llt.info(), Eigen::Success) << "theta seed " << s;
  }
}

TEST(ConditionalKernel, IgnoresChildrenThatAreNotActiveInBothPoints) {
  MixedKernel k(branch_dims(true)), flat(branch_dims(false));
  k.set_params(random_theta(k.n_params(), 13));
  flat.set_params(random_theta(flat.n_params(), 13));
  std::mt19937_64 rng(14);
  std::uniform_real_distribution<double> u(0, 1);
  int flat_changed = 0;
  for (int t = 0; t < 20; ++t) {
    Point a = branch_point(rng, 0), b = branch_point(rng, 1);  // group 0 on in a only, group 1 in b only
    double before = k.eval(a.data(), b.data()), before_flat = flat.eval(a.data(), b.data());
    a[2] = u(rng), a[3] = u(rng), b[4] = u(rng), b[5] = std::round(u(rng) * 8) / 8;
    EXPECT_DOUBLE_EQ(k.eval(a.data(), b.data()), before);
    flat_changed += flat.eval(a.data(), b.data()) != before_flat;
  }
  // The flat treatment does see them (the property is the new kernel's).
  EXPECT_GT(flat_changed, 10);
}

TEST(ConditionalKernel, ModelPredictsTheSameWhateverTheChildrenOfAnUnseenBranch) {
  // Data from branches 1 and 2 only: group 0 is off in every observation, so
  // the posterior at a branch-0 point cannot depend on its group-0 children.
  std::mt19937_64 rng(15);
  std::vector<Point> pts;
  for (int i = 0; i < 20; ++i) pts.push_back(branch_point(rng, 1 + i % 2));
  Eigen::MatrixXd X = to_matrix(pts);
  Eigen::VectorXd y(20);
  for (int i = 0; i < 20; ++i) y[i] = std::sin(4 * pts[static_cast<std::size_t>(i)][1]) + 0.3 * (i % 2);
  auto predict = [&](bool grouped, double c2, double c3) {
    Gp gp(branch_dims(grouped));
    FitOptions fo;
    fo.seed = 3;
    EXPECT_TRUE(gp.fit(X, y, Eigen::VectorXd::Zero(20), fo).has_value());
    EXPECT_TRUE(gp.condition(X, y, Eigen::VectorXd::Zero(20)).has_value());
    Point x{0, 0.4, c2, c3, kNaN, kNaN, kNaN, 1};
    double m = 0, v = 0;
    gp.predict_one(x.data(), m, v, nullptr, nullptr);
    return std::pair{m, v};
  };
  auto [m1, v1] = predict(true, 0.1, 0.9);
  auto [m2, v2] = predict(true, 0.8, 0.2);
  EXPECT_DOUBLE_EQ(m1, m2);
  EXPECT_DOUBLE_EQ(v1, v2);
  auto [f1, w1] = predict(false, 0.1, 0.9);
  auto [f2, w2] = predict(false, 0.8, 0.2);
  EXPECT_NE(w1, w2);  // the flat embedding puts them at different distances
}

TEST(ConditionalKernel, WithoutGroupsEqualsTheFlatKernel) {
  // group = -1 everywhere is the pre-issue-18 kernel: same parameters, same values.
  MixedKernel flat(branch_dims(false));
  auto dims = branch_dims(false);
  dims[7].group = 4;  // a categorical in a "group" stays in the overlap kernel
  MixedKernel cat_group(dims);
  ASSERT_EQ(cat_group.n_params(), flat.n_params());
  Eigen::VectorXd theta = random_theta(flat.n_params(), 16);
  flat.set_params(theta);
  cat_group.set_params(theta);
  auto pts = branch_points(10, 17);
  for (const Point& a : pts)
    for (const Point& b : pts) EXPECT_EQ(flat.eval(a.data(), b.data()), cat_group.eval(a.data(), b.data()));
}

// --- search and optimizer on a conditional problem ---

Problem branch_problem() {
  Problem p;
  p.dims = branch_dims(true);
  p.repair = [](const Point& in) {
    Point x = in;
    x.resize(8, kNaN);
    auto clamp01 = [](double v) { return std::isnan(v) ? 0.5 : std::clamp(v, 0.0, 1.0); };
    x[0] = std::isnan(x[0]) ? 0 : std::clamp(std::round(x[0]), 0.0, 2.0);
    for (int j : {1, 2, 3, 4, 6}) x[static_cast<std::size_t>(j)] = clamp01(x[static_cast<std::size_t>(j)]);
    x[5] = std::round(clamp01(x[5]) * 8) / 8;
    x[7] = std::isnan(x[7]) ? 0 : std::clamp(std::round(x[7]), 0.0, 1.0);
    return mask(x);
  };
  p.valid = [repair = p.repair](const Point& x) { return x.size() == 8 && detail::same_point(repair(x), x); };
  p.sample = [repair = p.repair](std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    return repair({std::floor(u(rng) * 3), u(rng), u(rng), u(rng), u(rng), u(rng), u(rng), std::floor(u(rng) * 2)});
  };
  return p;
}

/// Branch 2 with x6 = 0.8 is best; branch 0 is a decent local optimum.
double branch_objective(const Point& x) {
  double f = (x[1] - 0.3) * (x[1] - 0.3);
  switch (static_cast<int>(x[0])) {
    case 0: return f + 0.5 + 0.2 * (x[2] - 0.5) * (x[2] - 0.5) + 0.2 * x[3];
    case 1: return f + 1.0 + 0.3 * x[4] + 0.1 * x[5];
    default: return f + 2 * (x[6] - 0.8) * (x[6] - 0.8);
  }
}

Point row(const Eigen::MatrixXd& X, Eigen::Index i) {
  Point x(static_cast<std::size_t>(X.cols()));
  for (Eigen::Index j = 0; j < X.cols(); ++j) x[static_cast<std::size_t>(j)] = X(i, j);
  return x;
}

class Scripted : public detail::Acquisition {
 public:
  void values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const override {
    out.resize(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      out[i] = -branch_objective(row(X, i));
    }
  }
  double value_grad(const Point& x, Eigen::VectorXd* grad) const override {
    if (grad) {
      grad->setZero(static_cast<Eigen::Index>(x.size()));
      (*grad)[1] = -2 * (x[1] - 0.3);
      if (x[0] == 0) (*grad)[2] = -0.4 * (x[2] - 0.5), (*grad)[3] = -0.2;
      if (x[0] == 1) (*grad)[4] = -0.3, (*grad)[5] = -0.1;
      if (x[0] == 2) (*grad)[6] = -4 * (x[6] - 0.8);
    }
    return -branch_objective(x);
  }
};

TEST(ConditionalSearch, MovesToAnotherBranchAndRefinesItsChildren) {
  // One raw candidate in branch 0 and no perturbations: only the discrete
  // neighbourhood can leave the branch, and the children it switches on
  // must then be optimized (repair alone would leave x6 at 0.5).
  Problem p = branch_problem();
  Scripted acq;
  detail::SearchSpec spec;
  spec.seed = 4;
  spec.n_raw = 0;
  spec.n_perturb = 1;
  spec.anchors = {p.repair({0, 0.6, 0.2, 0.7, kNaN, kNaN, kNaN, 0})};
  spec.n_starts = 2;  // with no raw candidates, the perturbation is the one start
  auto r = detail::maximize(p, acq, spec, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->x[0], 2);
  EXPECT_NEAR(r->x[6], 0.8, 0.01);
  EXPECT_NEAR(r->x[1], 0.3, 0.01);
  EXPECT_TRUE(std::isnan(r->x[2]) && std::isnan(r->x[3]) && std::isnan(r->x[4]) && std::isnan(r->x[5]));
}

/// An acquisition given by a function of the point (no gradient).
class FromFunction : public detail::Acquisition {
 public:
  explicit FromFunction(std::function<double(const Point&)> f) : f_(std::move(f)) {}
  void values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const override {
    out.resize(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) out[i] = f_(row(X, i));
  }
  double value_grad(const Point& x, Eigen::VectorXd* grad) const override {
    if (grad) grad->setZero(static_cast<Eigen::Index>(x.size()));
    return f_(x);
  }

 private:
  std::function<double(const Point&)> f_;
};

TEST(ConditionalSearch, BranchChangeTriesTheChildrenOfTheBestAnchorInThatBranch) {
  // Branch 1 beats branch 0 only with small children (x4 + x5 < 0.2), as the
  // best observed branch-1 point has them; repair's fill (0.5, 0.5) does not.
  // Without gradient steps only a branch change that carries the anchor's
  // children over gets there.
  Problem p = branch_problem();
  FromFunction acq([](const Point& x) {
    switch (static_cast<int>(x[0])) {
      case 0: return -0.5;
      case 1: return -2.5 * (x[4] + x[5]);
      default: return -9.0;
    }
  });
  detail::SearchSpec spec;
  spec.seed = 5;
  spec.n_raw = 0;
  spec.n_perturb = 1;
  spec.grad_iterations = 0;
  spec.n_starts = 2;  // with no raw candidates, the perturbation is the one start
  spec.anchors = {p.repair({0, 0.3, 0.2, 0.7, kNaN, kNaN, kNaN, 0}), p.repair({1, 0.9, kNaN, kNaN, 0.0, 0.0, kNaN, 0})};
  auto r = detail::maximize(p, acq, spec, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->x[0], 1);
  EXPECT_EQ(r->x[4], 0.0);
  EXPECT_EQ(r->x[5], 0.0);
}

std::vector<Observation> history(const Problem& p, int n) {
  std::mt19937_64 rng(21);
  std::vector<Observation> obs;
  for (int i = 0; i < n; ++i) {
    Observation o;
    o.x = p.sample(rng);
    o.objectives = {branch_objective(o.x)};
    obs.push_back(o);
  }
  return obs;
}

TEST(ConditionalOptimizer, ProposalsAreDeterministicValidAndMaskInactiveChildren) {
  Problem p = branch_problem();
  Options o;
  o.seed = 7;
  auto run = [&]() {
    auto opt = make_optimizer(o, p).value();
    for (const Observation& ob : history(p, 14)) opt->tell(ob);
    return opt->ask(3, {}).value();
  };
  auto a = run(), b = run();
  ASSERT_EQ(a.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(detail::same_point(a[i], b[i])) << i;
    EXPECT_TRUE(p.valid(a[i])) << i;
  }
}

TEST(ConditionalOptimizer, EveryThirdModelProposalSearchesTheLeastSampledOtherBranch) {
  // Branch 0 holds the incumbent and 7 of 10 points, branch 2 two poor ones,
  // branch 1 one: the model alone proposes next to the incumbent (branch 0),
  // and a branch turn (docs/bo.md §2) sends the third model-based proposal
  // into branch 1, the least-sampled branch other than the incumbent's.
  Problem p = branch_problem();
  std::vector<Observation> obs;
  auto add = [&](Point x) {
    Observation ob;
    ob.x = p.repair(x);
    ob.objectives = {branch_objective(ob.x)};
    obs.push_back(ob);
  };
  for (int i = 0; i < 7; ++i) add({0, 0.1 + 0.1 * i, 0.15 * i, 0.1 * (6 - i), kNaN, kNaN, kNaN, static_cast<double>(i % 2)});
  add({1, 0.8, kNaN, kNaN, 0.7, 0.5, kNaN, 0});
  add({2, 0.9, kNaN, kNaN, kNaN, kNaN, 0.0, 1});
  add({2, 0.1, kNaN, kNaN, kNaN, kNaN, 0.1, 0});
  Options o;
  o.seed = 5;
  o.n_initial = 5;  // 10 observations: model-based proposals 0..4 told, this is the 6th (a turn)
  auto branch_of_next = [&](std::size_t told) {
    auto opt = make_optimizer(o, p).value();
    for (std::size_t i = 0; i < told; ++i) opt->tell(obs[i]);
    return opt->ask(1, {}).value().front()[0];
  };
  EXPECT_EQ(branch_of_next(10), 1);
  // One observation earlier (not a turn) the model stays with the incumbent's branch.
  obs.erase(obs.begin() + 6);
  EXPECT_EQ(branch_of_next(9), 0);
}

TEST(ConditionalOptimizer, FindsTheOptimumInANonDefaultBranchsChildGroup) {
  Problem p = branch_problem();
  Options o;
  o.seed = 3;
  auto opt = make_optimizer(o, p).value();
  double best = 1e9;
  for (int i = 0; i < 30; ++i) {
    Point x = opt->ask(1, {}).value().front();
    Observation ob;
    ob.x = x;
    ob.objectives = {branch_objective(x)};
    best = std::min(best, ob.objectives[0]);
    opt->tell(ob);
  }
  // Branch 0's best is 0.5; the optimum (branch 2) is 0.
  EXPECT_LT(best, 0.05);
}

}  // namespace
}  // namespace kerntune::bo
