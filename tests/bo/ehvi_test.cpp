// Hypervolume, the improvement region's boxes and exact log-EHVI (docs/bo.md,
// "Several objectives"); the EHVI acquisition and optimizer.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ehvi.hpp"
#include "kerntune/bo/acquisition.hpp"
#include "kerntune/bo/pareto.hpp"
#include "models.hpp"
#include "test_problems.hpp"

namespace kerntune::bo {
namespace {

using Pts = std::vector<std::vector<double>>;
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Hypervolume, TwoObjectivesByHand) {
  // Staircase below (4, 4): 3·1 + 2·1 + 1·1.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 3}, {2, 2}, {3, 1}}, {4, 4}), 6.0);
  // A dominated point, one beyond the reference and a duplicate add nothing.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 3}, {2, 2}, {3, 1}, {3, 3}, {5, 0}, {2, 2}}, {4, 4}), 6.0);
  EXPECT_DOUBLE_EQ(hypervolume({}, {4, 4}), 0.0);
  EXPECT_DOUBLE_EQ(hypervolume({{0.5, 0.25}}, {1, 1}), 0.5 * 0.75);
}

TEST(Hypervolume, ThreeObjectivesByHand) {
  EXPECT_DOUBLE_EQ(hypervolume({{1, 1, 1}}, {2, 3, 4}), 1.0 * 2 * 3);
  // a = (0,0,2): 2·2·1 = 4; b = (1,1,0): 1·1·3 = 3; c = (0,1,1): 2·1·2 = 4;
  // a∩b = (1,1,2): 1, a∩c = (0,1,2): 2, b∩c = (1,1,1): 2, a∩b∩c = 1.
  // Inclusion-exclusion: 4 + 3 + 4 − 1 − 2 − 2 + 1 = 7.
  EXPECT_DOUBLE_EQ(hypervolume({{0, 0, 2}, {1, 1, 0}}, {2, 2, 3}), 6.0);
  EXPECT_DOUBLE_EQ(hypervolume({{0, 0, 2}, {1, 1, 0}, {0, 1, 1}}, {2, 2, 3}), 7.0);
  EXPECT_DOUBLE_EQ(hypervolume({{0, 0, 2}, {1, 1, 0}, {0, 1, 1}, {1, 1, 2}}, {2, 2, 3}), 7.0);
}

/// The improvement of a point known exactly: HV(P ∪ {y}) − HV(P).
double hvi(const Pts& front, const std::vector<double>& y, const std::vector<double>& ref) {
  Pts with = front;
  with.push_back(y);
  return hypervolume(with, ref) - hypervolume(front, ref);
}

Pts random_points(std::size_t n, std::size_t m, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Pts p(n, std::vector<double>(m));
  for (auto& q : p)
    for (double& v : q) v = u(rng);
  return p;
}

TEST(ImprovementRegion, BoxesAreDisjointAndCoverExactlyTheUndominatedPart) {
  std::mt19937_64 rng(3);
  for (std::size_t m : {2u, 3u}) {
    for (int rep = 0; rep < 5; ++rep) {
      Pts front = random_points(6, m, rng);
      std::vector<double> ref(m, 1.1), low(m, -0.5);
      auto r = detail::improvement_region(front, ref);
      // Volume of the boxes clipped to [low, ref] = that box minus what the front dominates.
      double boxes = 0, cube = 1;
      for (const auto& b : r.boxes) {
        double v = 1;
        for (std::size_t k = 0; k < m; ++k) v *= b.hi[k] - std::max(b.lo[k], low[k]);
        boxes += v;
      }
      for (std::size_t k = 0; k < m; ++k) cube *= ref[k] - low[k];
      EXPECT_NEAR(boxes, cube - hypervolume(front, ref), 1e-12) << m;
    }
  }
}

TEST(LogEhvi, CertainPointIsItsHypervolumeImprovement) {
  std::mt19937_64 rng(7);
  for (std::size_t m : {2u, 3u}) {
    for (int rep = 0; rep < 20; ++rep) {
      Pts front = random_points(5, m, rng);
      std::vector<double> ref(m, 1.0);
      auto r = detail::improvement_region(front, ref);
      std::vector<double> y = random_points(1, m, rng)[0], var(m, 0.0);
      double expect = hvi(front, y, ref);
      double got = detail::log_ehvi(r, y.data(), var.data(), nullptr, nullptr);
      if (expect <= 0)
        EXPECT_EQ(got, -kInf);
      else
        EXPECT_NEAR(std::exp(got), expect, 1e-12) << m;
    }
  }
}

TEST(LogEhvi, ZeroForADominatedCertainPoint) {
  Pts front{{1, 3}, {2, 2}, {3, 1}};
  auto r = detail::improvement_region(front, {4, 4});
  std::vector<double> y{2.5, 2.5}, zero{0, 0}, tiny{1e-10, 1e-10};
  EXPECT_EQ(detail::log_ehvi(r, y.data(), zero.data(), nullptr, nullptr), -kInf);
  // Nearly certain: the improvement needs a 5·10⁴ σ deviation.
  EXPECT_LT(detail::log_ehvi(r, y.data(), tiny.data(), nullptr, nullptr), -1e6);
  // Beyond the reference as well.
  std::vector<double> far{5, 0.5};
  EXPECT_EQ(detail::log_ehvi(r, far.data(), zero.data(), nullptr, nullptr), -kInf);
}

TEST(LogEhvi, MatchesAMonteCarloEstimate) {
  struct Case {
    Pts front;
    std::vector<double> ref, mean, sd;
  };
  std::vector<Case> cases{
      {{{1, 3}, {2, 2}, {3, 1}}, {4, 4}, {2.2, 1.8}, {0.7, 0.4}},
      {{{0.2, 0.8}, {0.6, 0.3}}, {1, 1}, {0.9, 0.9}, {0.3, 0.2}},  // mean near the reference
      {{{0, 0, 2}, {1, 1, 0}, {0, 1, 1}}, {2, 2, 3}, {0.8, 0.6, 1.2}, {0.5, 0.6, 0.8}},
      {{{0.3, 0.5, 0.6}, {0.6, 0.2, 0.4}, {0.5, 0.6, 0.1}}, {1, 1, 1}, {0.5, 0.5, 0.5}, {0.2, 0.3, 0.25}},
  };
  std::mt19937_64 rng(42);
  for (const Case& c : cases) {
    const std::size_t m = c.ref.size();
    std::vector<double> var(m);
    for (std::size_t k = 0; k < m; ++k) var[k] = c.sd[k] * c.sd[k];
    double exact = std::exp(detail::log_ehvi(detail::improvement_region(c.front, c.ref), c.mean.data(), var.data(),
                                             nullptr, nullptr));
    const int n = 100000;
    double sum = 0, sum2 = 0;
    std::normal_distribution<double> g(0, 1);
    std::vector<double> y(m);
    for (int i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < m; ++k) y[k] = c.mean[k] + c.sd[k] * g(rng);
      double v = hvi(c.front, y, c.ref);
      sum += v;
      sum2 += v * v;
    }
    double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
    ASSERT_GT(mean, 0);
    EXPECT_NEAR(exact, mean, 4 * se) << "m=" << m << " exact " << exact << " mc " << mean;
  }
}

TEST(LogEhvi, DerivativesMatchFiniteDifferences) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  for (std::size_t m : {2u, 3u}) {
    Pts front = random_points(6, m, rng);
    auto r = detail::improvement_region(front, std::vector<double>(m, 1.1));
    // Near the front, far above it (a tiny improvement: the log form's tail), and below it.
    for (double shift : {0.0, 1.5, -0.8}) {
      for (int rep = 0; rep < 4; ++rep) {
        std::vector<double> mean(m), var(m), dm(m), dv(m);
        for (std::size_t k = 0; k < m; ++k) mean[k] = u(rng) + shift, var[k] = 0.002 + 0.05 * u(rng);
        double v = detail::log_ehvi(r, mean.data(), var.data(), dm.data(), dv.data());
        ASSERT_TRUE(std::isfinite(v));
        for (std::size_t k = 0; k < m; ++k) {
          const double h = 1e-6;
          auto at = [&](std::vector<double> mu, std::vector<double> s2) {
            return detail::log_ehvi(r, mu.data(), s2.data(), nullptr, nullptr);
          };
          auto mp = mean, mm = mean, vp = var, vm = var;
          mp[k] += h, mm[k] -= h, vp[k] += h * var[k], vm[k] -= h * var[k];
          double fd_m = (at(mp, var) - at(mm, var)) / (2 * h);
          double fd_v = (at(mean, vp) - at(mean, vm)) / (2 * h * var[k]);
          EXPECT_NEAR(dm[k], fd_m, 1e-4 * std::max(1.0, std::abs(fd_m))) << m << " " << shift;
          EXPECT_NEAR(dv[k], fd_v, 1e-4 * std::max(1.0, std::abs(fd_v))) << m << " " << shift;
        }
      }
    }
  }
}

TEST(ReferencePoint, NadirOfTheNondominatedPlusATenthOfTheRange) {
  // (3, 3) is dominated: the nadir is (2, 2) from the front {(0,2),(2,0)};
  // the ranges over every point are 3 and 3.
  auto ref = detail::reference_point({{0, 2}, {2, 0}, {3, 3}});
  ASSERT_EQ(ref.size(), 2u);
  EXPECT_DOUBLE_EQ(ref[0], 2 + 0.3);
  EXPECT_DOUBLE_EQ(ref[1], 2 + 0.3);
  auto one = detail::reference_point({{1, 1}});
  EXPECT_DOUBLE_EQ(one[0], 1 + detail::kReferenceFloor);
}

/// Two GPs on a 2-d box, and a constraint GP, for the acquisition tests.
struct EhviModels {
  detail::Models m;
  EhviModels() {
    std::vector<Dim> dims{{Dim::Kind::continuous, 0, 0}, {Dim::Kind::continuous, 0, 0}};
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    const int n = 14;
    Eigen::MatrixXd X(n, 2);
    Eigen::VectorXd f1(n), f2(n), con(n), zero = Eigen::VectorXd::Zero(n);
    for (int i = 0; i < n; ++i) {
      X(i, 0) = u(rng), X(i, 1) = u(rng);
      f1[i] = X(i, 0) + 0.2 * std::sin(6 * X(i, 1));
      f2[i] = 1 - std::sqrt(X(i, 0)) + 0.3 * X(i, 1);
      con[i] = X(i, 1) - 0.7;
    }
    Pts observed;
    for (const Eigen::VectorXd* f : {&f1, &f2}) {
      Gp gp(dims);
      gp.set_hyper(gp.prior_mode());
      EXPECT_TRUE(gp.condition(X, *f, zero));
      m.objectives.push_back(gp);
    }
    for (int i = 0; i < n; ++i) observed.push_back({f1[i], f2[i]});
    m.front = detail::nondominated(observed);
    m.region = detail::improvement_region(m.front, detail::reference_point(observed));
    Gp c(dims);
    c.set_hyper(c.prior_mode());
    EXPECT_TRUE(c.condition(X, con, zero));
    m.constraints = {c};
    m.thresholds = {0.0};
    m.mode = detail::Mode::improve;
  }
};

TEST(EhviAcquisition, IsLogEhviPlusLogProbabilityOfMeetingTheConstraint) {
  EhviModels s;
  detail::ModelAcquisition acq(s.m);
  for (Point x : {Point{0.1, 0.2}, Point{0.7, 0.9}, Point{0.4, 0.5}}) {
    double mean[2], var[2], cm = 0, cv = 0;
    for (int k = 0; k < 2; ++k) s.m.objectives[static_cast<std::size_t>(k)].predict_one(x.data(), mean[k], var[k], nullptr, nullptr);
    s.m.constraints[0].predict_one(x.data(), cm, cv, nullptr, nullptr);
    double expect = detail::log_ehvi(s.m.region, mean, var, nullptr, nullptr) + log_ndtr((0 - cm) / std::sqrt(cv));
    EXPECT_NEAR(acq.value_grad(x, nullptr), expect, 1e-9);
  }
}

TEST(EhviAcquisition, GradientMatchesFiniteDifferences) {
  EhviModels s;
  detail::ModelAcquisition acq(s.m);
  for (Point x : {Point{0.1, 0.2}, Point{0.7, 0.9}, Point{0.45, 0.55}, Point{0.95, 0.05}}) {
    Eigen::VectorXd g;
    double v = acq.value_grad(x, &g);
    Eigen::MatrixXd row(1, 2);
    row << x[0], x[1];
    Eigen::VectorXd vb;
    acq.values(row, vb);
    EXPECT_NEAR(v, vb[0], 1e-9);
    for (std::size_t j : {0u, 1u}) {
      const double h = 1e-6;
      Point xp = x, xm = x;
      xp[j] += h;
      xm[j] -= h;
      double fd = (acq.value_grad(xp, nullptr) - acq.value_grad(xm, nullptr)) / (2 * h);
      EXPECT_NEAR(g[static_cast<Eigen::Index>(j)], fd, 1e-4 * std::max(1.0, std::abs(fd)));
    }
  }
}

TEST(EhviAcquisition, AFantasizedPointJoinsTheFrontAndLosesItsImprovement) {
  EhviModels s;
  s.m.constraints.clear();  // the EHVI part alone
  s.m.thresholds.clear();
  // The grid point of largest EHVI.
  Point x;
  double top = -kInf;
  for (int i = 0; i <= 20; ++i)
    for (int j = 0; j <= 20; ++j) {
      Point p{i / 20.0, j / 20.0};
      double v = detail::ModelAcquisition(s.m).value_grad(p, nullptr);
      if (v > top) top = v, x = p;
    }
  double before = detail::ModelAcquisition(s.m).value_grad(x, nullptr);
  std::size_t n_front = s.m.front.size();
  ASSERT_TRUE(s.m.fantasize(x));
  EXPECT_EQ(s.m.front.size(), n_front + 1);
  EXPECT_LT(detail::ModelAcquisition(s.m).value_grad(x, nullptr), before - 1);
}

/// Two conflicting objectives on [0,1]^3 (a Branin-Currin-like trade-off) and
/// an outcome constraint.
Observation observe(const Point& x) {
  Observation o;
  o.x = x;
  o.objectives = {x[0] * x[0] + 0.3 * x[2], (1 - x[0]) * (1 - x[0]) + 0.2 * x[1]};
  o.constraints = {x[1] - 0.8};
  return o;
}

std::vector<Point> run_ehvi(std::uint64_t seed, int steps) {
  Options o;
  o.seed = seed;
  o.n_objectives = 2;
  o.n_constraints = 1;
  o.multi_objective = Options::MultiObjective::ehvi;
  auto opt = make_optimizer(o, testing::box_problem(3));
  EXPECT_TRUE(opt.has_value());
  std::vector<Point> out;
  for (int i = 0; i < steps; ++i) {
    auto p = (*opt)->ask(i % 3 == 2 ? 2 : 1, {});  // batches too
    EXPECT_TRUE(p.has_value());
    if (!p) break;
    for (const Point& x : *p) {
      out.push_back(x);
      (*opt)->tell(observe(x));
    }
  }
  return out;
}

TEST(EhviOptimizer, ProposalsAreDeterministicForASeedAndHistory) {
  auto a = run_ehvi(4, 14), b = run_ehvi(4, 14);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << i;
  // The model-based proposals are not the ParEGO ones.
  Options o;
  o.multi_objective = Options::MultiObjective::parego;
  o.seed = 4;
  o.n_objectives = 2;
  o.n_constraints = 1;
  auto parego = make_optimizer(o, testing::box_problem(3));
  ASSERT_TRUE(parego.has_value());
  for (std::size_t i = 0; i < 12; ++i) (*parego)->tell(observe(a[i]));
  auto ehvi = make_optimizer([&] { auto e = o; e.multi_objective = Options::MultiObjective::ehvi; return e; }(),
                             testing::box_problem(3));
  ASSERT_TRUE(ehvi.has_value());
  for (std::size_t i = 0; i < 12; ++i) (*ehvi)->tell(observe(a[i]));
  auto pa = (*parego)->ask(1, {}), pe = (*ehvi)->ask(1, {});
  ASSERT_TRUE(pa && pe);
  EXPECT_NE(pa->front(), pe->front());
}

TEST(EhviOptimizer, IsTheDefaultForSeveralObjectives) {
  EXPECT_EQ(Options{}.multi_objective, Options::MultiObjective::ehvi);
}

TEST(EhviOptimizer, AWarmStartKeepsParego) {
  // The per-objective GPs have no prior mean: with a prior campaign the
  // default proposes exactly what ParEGO does.
  Options o;
  o.seed = 2;
  o.n_objectives = 2;
  o.n_constraints = 1;
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 12; ++i) o.prior.push_back(observe({u(rng), u(rng), u(rng)}));
  Options parego = o;
  parego.multi_objective = Options::MultiObjective::parego;
  auto a = make_optimizer(o, testing::box_problem(3)), b = make_optimizer(parego, testing::box_problem(3));
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 8; ++i) {
    auto pa = (*a)->ask(1, {}), pb = (*b)->ask(1, {});
    ASSERT_TRUE(pa && pb);
    ASSERT_EQ(pa->front(), pb->front()) << i;
    (*a)->tell(observe(pa->front()));
    (*b)->tell(observe(pb->front()));
  }
}

TEST(EhviOptimizer, ParsesItsName) {
  EXPECT_EQ(*parse_multi_objective("ehvi"), Options::MultiObjective::ehvi);
  EXPECT_EQ(*parse_multi_objective("parego"), Options::MultiObjective::parego);
  EXPECT_FALSE(parse_multi_objective("qehvi").has_value());
  EXPECT_EQ(to_string(Options::MultiObjective::ehvi), "ehvi");
}

}  // namespace
}  // namespace kerntune::bo
