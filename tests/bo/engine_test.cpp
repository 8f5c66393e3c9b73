// The model-based optimizer end to end on synthetic problems.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/bo/pareto.hpp"
#include "kerntune/bo/recommend.hpp"
#include "kerntune/util/log.hpp"
#include "models.hpp"
#include "search.hpp"
#include "test_problems.hpp"
#include "model_targets.hpp"

namespace kerntune::bo {
namespace {

using detail::same_point;

Options bo_options(std::uint64_t seed) {
  Options o;
  o.kind = Options::Kind::bo;
  o.seed = seed;
  return o;
}

/// Runs `budget` sequential trials; returns the best objective seen.
template <class F>
double run(Options opt, const Problem& p, int budget, F f, std::vector<Observation>* history = nullptr) {
  auto made = make_optimizer(opt, p);
  EXPECT_TRUE(made.has_value());
  auto& o = *made;
  double best = INFINITY;
  for (int i = 0; i < budget; ++i) {
    auto x = o->ask(1, {});
    EXPECT_TRUE(x.has_value());
    Observation ob;
    ob.x = (*x)[0];
    ob.objectives = {f(ob.x)};
    best = std::min(best, ob.objectives[0]);
    o->tell(ob);
    if (history) history->push_back(ob);
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(BoEngine, BeatsRandomOnBraninInMedian) {
  auto p = testing::box_problem(2);
  std::vector<double> bo, rnd;
  for (std::uint64_t s = 1; s <= 5; ++s) {
    bo.push_back(run(bo_options(s), p, 30, testing::branin) - testing::branin_min);
    Options r = bo_options(s);
    r.kind = Options::Kind::random;
    rnd.push_back(run(r, p, 30, testing::branin) - testing::branin_min);
  }
  EXPECT_LT(median(bo), 0.1);
  EXPECT_LT(median(bo), 0.25 * median(rnd));
}

TEST(BoEngine, BeatsRandomOnHartmann6InMedian) {
  auto p = testing::box_problem(6);
  std::vector<double> bo, rnd;
  for (std::uint64_t s = 1; s <= 5; ++s) {
    bo.push_back(run(bo_options(s), p, 60, testing::hartmann6) - testing::hartmann6_min);
    Options r = bo_options(s);
    r.kind = Options::Kind::random;
    rnd.push_back(run(r, p, 60, testing::hartmann6) - testing::hartmann6_min);
  }
  std::printf("Hartmann6 regret at 60: bo median %.3f, random median %.3f\n", median(bo), median(rnd));
  EXPECT_LT(median(bo), 0.5 * median(rnd));
}

/// A mixed problem with a failure region (x0 > 0.75 fails) and an objective
/// whose optimum sits near the region's edge.
double mixed_objective(const Point& x) {
  double cat_bonus = x[2] == 1 ? -0.3 : (x[2] == 2 ? 0.2 : 0.0);
  double cond = std::isnan(x[3]) ? 0.0 : 0.5 * (x[3] - 0.3) * (x[3] - 0.3);
  return (x[0] - 0.7) * (x[0] - 0.7) + (x[1] - 0.25) * (x[1] - 0.25) + cat_bonus + cond;
}
bool mixed_fails(const Point& x) { return x[0] > 0.75 || (x[2] == 2 && x[1] > 0.6); }

TEST(BoEngine, LearnsAFailureRegion) {
  auto p = testing::mixed_problem();
  int early = 0, late = 0;
  double best = INFINITY;
  for (std::uint64_t s = 1; s <= 3; ++s) {
    auto o = std::move(*make_optimizer(bo_options(s), p));
    for (int i = 0; i < 60; ++i) {
      auto x = o->ask(1, {});
      ASSERT_TRUE(x.has_value());
      Observation ob;
      ob.x = (*x)[0];
      ASSERT_TRUE(p.valid(ob.x));
      ob.ok = !mixed_fails(ob.x);
      if (ob.ok) ob.objectives = {mixed_objective(ob.x)}, best = std::min(best, ob.objectives[0]);
      if (!ob.ok && i < 20) ++early;
      if (!ob.ok && i >= 40) ++late;
      o->tell(ob);
    }
  }
  // Failure share of the last 20 trials well below that of the first 20.
  EXPECT_LT(late, early);
  EXPECT_LE(late, 6);  // of 60 late trials over three seeds
  EXPECT_LT(best, -0.25);
}

TEST(BoEngine, BeforeTheFirstSuccessItMovesAwayFromFailures) {
  auto p = testing::box_problem(2);
  auto o = std::move(*make_optimizer(bo_options(3), p));
  // Everything left of x0 = 0.8 fails.
  int successes = 0;
  for (int i = 0; i < 25; ++i) {
    auto x = (*o->ask(1, {}))[0];
    Observation ob;
    ob.x = x;
    ob.ok = x[0] > 0.8;
    if (ob.ok) ob.objectives = {x[1]}, ++successes;
    o->tell(ob);
  }
  EXPECT_GE(successes, 5);
}

TEST(BoEngine, ProposalsRespectConditionsConstraintsAndAvoidRepeats) {
  auto p = testing::mixed_problem();
  Options opt = bo_options(9);
  opt.n_constraints = 1;
  auto o = std::move(*make_optimizer(opt, p));
  std::vector<Point> seen;
  for (int round = 0; round < 12; ++round) {
    std::vector<Point> pending;
    if (round % 3 == 1) pending = {p.sample(*std::make_unique<std::mt19937_64>(round))};
    auto xs = o->ask(3, pending);
    ASSERT_TRUE(xs.has_value());
    ASSERT_EQ(xs->size(), 3u);
    for (std::size_t i = 0; i < xs->size(); ++i) {
      const Point& x = (*xs)[i];
      EXPECT_TRUE(p.valid(x));
      EXPECT_TRUE(same_point(p.repair(x), x));
      for (const Point& s : seen) EXPECT_FALSE(same_point(s, x));
      for (const Point& s : pending) EXPECT_FALSE(same_point(s, x));
      for (std::size_t j = 0; j < i; ++j) EXPECT_FALSE(same_point((*xs)[j], x));
    }
    for (const Point& x : *xs) {
      Observation ob;
      ob.x = x;
      ob.ok = !mixed_fails(x);
      ob.objectives = {mixed_objective(x)};
      ob.noise_var = {0.001};
      ob.constraints = {x[0] - 0.6};  // outcome constraint
      o->tell(ob);
      seen.push_back(x);
    }
  }
}

TEST(BoEngine, SameHistorySameProposals) {
  auto p = testing::mixed_problem();
  std::vector<Observation> history;
  Options opt = bo_options(4);
  run(opt, p, 18, [](const Point& x) { return mixed_objective(x); }, &history);
  history[3].ok = false;
  auto a = std::move(*make_optimizer(opt, p));
  auto b = std::move(*make_optimizer(opt, p));
  for (const auto& ob : history) a->tell(ob);
  // b asks in between (as a live campaign does) — must not change later answers.
  for (const auto& ob : history) {
    b->tell(ob);
    (void)b->ask(1, {});
  }
  Point pend = history[0].x;
  pend[0] = 0.123;
  pend = p.repair(pend);
  auto xa = a->ask(2, {pend});
  auto xb = b->ask(2, {pend});
  ASSERT_TRUE(xa && xb);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(same_point((*xa)[i], (*xb)[i]));
}

TEST(BoEngine, SameHistorySameProposalsWhenTheWarpSwitches) {
  // A latency-like objective: positive, multiplicative log-normal noise, so
  // the evidence warp (docs/bo.md §3) engages and refits; proposals must still
  // be a function of (seed, history) only.
  Problem p = testing::box_problem(3);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<Observation> history;
  Options opt = bo_options(11);
  run(opt, p, 20, [&](const Point& x) { return std::exp(3 * (x[0] - x[1]) * (x[0] - x[1]) + 2 * (1 - x[1]) + noise(rng)); },
      &history);
  auto a = std::move(*make_optimizer(opt, p));
  auto b = std::move(*make_optimizer(opt, p));
  for (const auto& ob : history) a->tell(ob);
  for (const auto& ob : history) {
    b->tell(ob);
    (void)b->ask(1, {});
  }
  auto xa = a->ask(2, {});
  auto xb = b->ask(2, {});
  ASSERT_TRUE(xa && xb);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(same_point((*xa)[i], (*xb)[i]));
}

TEST(BoEngine, ConstrainedOutcomeIsFoundFeasible) {
  // Minimize x0 + x1 subject to 0.8 - x0 - 2·x1² <= 0 (outcome constraint).
  auto p = testing::box_problem(2);
  Options opt = bo_options(2);
  opt.n_constraints = 1;
  auto o = std::move(*make_optimizer(opt, p));
  double best = INFINITY;
  for (int i = 0; i < 35; ++i) {
    auto x = (*o->ask(1, {}))[0];
    Observation ob;
    ob.x = x;
    ob.objectives = {x[0] + x[1]};
    ob.constraints = {0.8 - x[0] - 2 * x[1] * x[1]};
    if (ob.constraints[0] <= 0) best = std::min(best, ob.objectives[0]);
    o->tell(ob);
  }
  // The constrained optimum is ~0.675 (x1 = 0.25, x0 = 0.675 → sum 0.675 + 0.25 - …); random finds ~0.9.
  EXPECT_LT(best, 0.78);
}

class TwoObjectives : public ::testing::TestWithParam<Options::MultiObjective> {};

TEST_P(TwoObjectives, SpreadAlongTheFront) {
  auto p = testing::box_problem(2);
  Options opt = bo_options(6);
  opt.n_objectives = 2;
  opt.multi_objective = GetParam();
  auto o = std::move(*make_optimizer(opt, p));
  std::vector<Observation> hist;
  for (int i = 0; i < 30; ++i) {
    auto x = (*o->ask(1, {}))[0];
    Observation ob;
    ob.x = x;
    ob.objectives = {x[0] * x[0] + x[1] * x[1], (x[0] - 1) * (x[0] - 1) + x[1] * x[1]};
    o->tell(ob);
    hist.push_back(ob);
  }
  auto front = pareto_front(hist);
  EXPECT_GE(front.size(), 6u);
  // Front members have small x1 (the true front is x1 = 0).
  int near = 0;
  for (auto i : front) near += hist[i].x[1] < 0.15;
  EXPECT_GE(near * 2, static_cast<int>(front.size()));
}

INSTANTIATE_TEST_SUITE_P(BoEngine, TwoObjectives,
                         ::testing::Values(Options::MultiObjective::ehvi, Options::MultiObjective::parego),
                         [](const auto& param_info) { return to_string(param_info.param); });

TEST(Pareto, FrontOfHandMadeObservations) {
  auto ob = [](double a, double b, bool ok = true, double c = -1) {
    Observation o;
    o.x = {0};
    o.ok = ok;
    o.objectives = {a, b};
    o.constraints = {c};
    return o;
  };
  std::vector<Observation> v{ob(1, 5), ob(2, 2), ob(3, 3), ob(5, 1), ob(0, 0, false), ob(0.5, 0.5, true, 1), ob(2, 2)};
  EXPECT_EQ(pareto_front(v), (std::vector<std::size_t>{0, 1, 3, 6}));
}

TEST(BoEngine, WarmStartFromARelatedCampaignHelpsEarly) {
  auto p = testing::box_problem(2);
  auto shifted = [](const Point& x) { return testing::branin(x) * 1.3 + 4; };  // same shape, other scale
  std::vector<Observation> prior;
  run(bo_options(99), p, 30, shifted, &prior);
  std::vector<double> with, without;
  for (std::uint64_t s = 1; s <= 4; ++s) {
    Options a = bo_options(s), b = bo_options(s);
    a.prior = prior;
    a.n_initial = 3;
    b.n_initial = 3;
    with.push_back(run(a, p, 10, testing::branin));
    without.push_back(run(b, p, 10, testing::branin));
  }
  EXPECT_LT(median(with), median(without));
  EXPECT_LT(median(with), 2.0);
}

TEST(BoEngine, TrustRegionModeOnManyDimensionsMakesProgress) {
  auto p = testing::box_problem(30);
  auto f = [](const Point& x) {  // Hartmann6 embedded in 30 dims
    return testing::hartmann6({x[3], x[7], x[12], x[18], x[22], x[27]});
  };
  double bo = run(bo_options(1), p, 60, f);
  Options r = bo_options(1);
  r.kind = Options::Kind::random;
  double rnd = run(r, p, 60, f);
  EXPECT_LT(bo, rnd);
}

// The speed goal (p95 ask under 0.1 s at n = 200, d = 30) is measured by
// benchmarks/bo/speed.py, not here: a timed test fails on a loaded machine or
// under sanitizers. This checks the large case itself works.
TEST(BoEngine, AskAtTwoHundredPointsInThirtyDimsGivesAValidNewPoint) {
  auto p = testing::box_problem(30);
  auto o = std::move(*make_optimizer(bo_options(1), p));
  std::mt19937_64 rng(1);
  std::vector<std::vector<double>> seen;
  for (int i = 0; i < 200; ++i) {
    Observation ob;
    ob.x = p.sample(rng);
    ob.objectives = {testing::hartmann6({ob.x[0], ob.x[1], ob.x[2], ob.x[3], ob.x[4], ob.x[5]})};
    seen.push_back(ob.x);
    o->tell(ob);
  }
  auto x = o->ask(1, {});
  ASSERT_TRUE(x.has_value()) << x.error().message;
  ASSERT_EQ(x->size(), 1u);
  ASSERT_EQ((*x)[0].size(), 30u);
  for (double v : (*x)[0]) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
  EXPECT_EQ(std::find(seen.begin(), seen.end(), (*x)[0]), seen.end());
}

TEST(Targets, TrustRegionShrinksOnFailuresAndGrowsOnSuccesses) {
  std::vector<double> seq(5, 10.0);
  for (int i = 0; i < 20; ++i) seq.push_back(10.0);  // no improvement
  EXPECT_LT(detail::trust_region_length(seq, 5, 4, 1), 0.8);
  std::vector<double> good(5, 10.0);
  for (int i = 0; i < 6; ++i) good.push_back(9.0 - i);
  EXPECT_GT(detail::trust_region_length(good, 5, 4, 1), 0.8);
}

TEST(Targets, WarpSlopesMatchFiniteDifferencesAndAreMonotone) {
  Eigen::VectorXd pos(12), neg(12);
  for (int i = 0; i < 12; ++i) pos[i] = std::exp(0.4 * i) + 0.5, neg[i] = -pos[i];
  for (const Eigen::VectorXd* raw : {&pos, &neg}) {
    auto warps = detail::warp_candidates(*raw);
    // identity, the Yeo-Johnson grid, and Box-Cox only for positive values
    ASSERT_EQ(warps.size(), raw == &pos ? 29u : 25u);
    for (const auto& w : warps)
      for (int i = 0; i + 1 < raw->size(); ++i) {
        double y = (*raw)[i], h = 1e-6 * std::max(1.0, std::abs(y));
        double fd = (w.apply(y + h) - w.apply(y - h)) / (2 * h);
        EXPECT_NEAR(w.slope(y), fd, 1e-5 * std::max(1.0, std::abs(fd)));
        EXPECT_GT(w.slope(y), 0);
      }
  }
}

TEST(Targets, IidWarpTamesASkewedMetricAndLeavesASymmetricOne) {
  Eigen::VectorXd y(40), lin(40);
  for (int i = 0; i < 40; ++i) y[i] = std::exp(0.15 * i), lin[i] = i;
  detail::Warp w = detail::iid_warp(y, detail::warp_candidates(y));
  EXPECT_EQ(w.kind, detail::Warp::Kind::box_cox);  // exactly log-linear: the log
  EXPECT_EQ(w.lambda, 0.0);
  EXPECT_EQ(detail::iid_warp(lin, detail::warp_candidates(lin)), detail::Warp{});
}

/// Observations of exp(g(x)) (or g(x)) on a 2-d grid-like Sobol design.
std::vector<Observation> warp_observations(bool exponentiate) {
  std::vector<Observation> obs;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 30; ++i) {
    Observation o;
    o.x = {u(rng), u(rng)};
    double g = 2.5 * std::sin(3 * o.x[0]) + 3 * o.x[1] * o.x[1];
    o.objectives = {exponentiate ? std::exp(g) : g};
    obs.push_back(o);
  }
  return obs;
}

TEST(Targets, GpEvidenceRecoversALogTransform) {
  std::vector<Dim> dims = {{Dim::Kind::continuous, 0, 0}, {Dim::Kind::continuous, 0, 0}};
  for (bool exponentiate : {true, false}) {
    detail::Targets t = detail::make_targets(dims, warp_observations(exponentiate), {});
    detail::set_warp(t, detail::Warp{});  // start from the identity: the evidence must find the warp
    Gp gp(dims);
    FitOptions fo;
    ASSERT_TRUE(gp.fit(t.X_ok, t.y, t.noise, fo));
    std::vector<int> rows(t.y.size());
    std::iota(rows.begin(), rows.end(), 0);
    auto w = detail::evidence_warp(gp, t, rows);
    if (exponentiate) {
      ASSERT_TRUE(w.has_value());
      EXPECT_EQ(w->kind, detail::Warp::Kind::box_cox);
      EXPECT_EQ(w->lambda, 0.0);  // y = exp(smooth): the log is the transform
    } else {
      // Already smooth: the identity stays (or a mild Yeo-Johnson, never the log).
      if (w) {
        EXPECT_NE(w->kind, detail::Warp::Kind::box_cox);
        EXPECT_GE(w->lambda, 0.5);
      }
    }
  }
}

}  // namespace
}  // namespace kerntune::bo

namespace kerntune::bo {
namespace {

TEST(Recommend, PrefersTheConsistentRegionOverALuckyNoisyPoint) {
  // f(x) = (x − 0.3)² measured with noise; one far point got a lucky draw.
  std::vector<Observation> obs;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.01);
  for (int i = 0; i < 25; ++i) {
    Observation o;
    o.x = {i / 24.0};
    o.objectives = {(o.x[0] - 0.3) * (o.x[0] - 0.3) + noise(rng)};
    obs.push_back(o);
  }
  obs[22].objectives[0] = -0.03;  // x ≈ 0.92: an outlier below every honest value
  auto r = recommend({Dim{}}, obs);
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(obs[*r].x[0], 0.3, 0.1);
  // Failures and infeasible points are never recommended.
  obs[7].ok = false;
  for (auto& o : obs) o.constraints = {o.x[0] < 0.25 ? 1.0 : -1.0};
  auto r2 = recommend({Dim{}}, obs);
  ASSERT_TRUE(r2.has_value());
  EXPECT_GE(obs[*r2].x[0], 0.25);
  EXPECT_NE(*r2, 7u);
  std::vector<Observation> none(1);
  none[0].x = {0.5};
  none[0].ok = false;
  EXPECT_FALSE(recommend({Dim{}}, none).has_value());
}

}  // namespace
}  // namespace kerntune::bo

namespace kerntune::bo {
namespace {

TEST(Stagnation, RecognizesOnlyAStreakOfRepeats) {
  std::vector<Dim> dims(2, Dim{Dim::Kind::continuous, 0, 0});
  Gp gp(dims);
  Eigen::VectorXd theta = gp.prior_mode();
  theta[1] = theta[2] = std::log(0.2);
  gp.set_hyper(theta);
  std::vector<Observation> obs;
  for (Point x : {Point{0.1, 0.1}, Point{0.9, 0.2}, Point{0.5, 0.8}, Point{0.2, 0.6}}) obs.push_back({x, true, {1.0}, {}, {}});
  for (double e : {1e-4, 2e-4, 3e-4}) obs.push_back({Point{0.1 + e, 0.1}, true, {1.0}, {}, {}});
  EXPECT_TRUE(detail::stagnating(gp, obs, 3, 0.999));
  EXPECT_FALSE(detail::stagnating(gp, obs, 4, 0.999));  // the 4th-last is a new point
  obs.push_back({Point{0.7, 0.7}, true, {1.0}, {}, {}});
  EXPECT_FALSE(detail::stagnating(gp, obs, 3, 0.999));
}

TEST(BoEngine, AfterAStreakOfRepeatsItExploresAwayFromTheData) {
  Problem p = testing::box_problem(2);
  auto f = [](const Point& x) { return (x[0] - 1) * (x[0] - 1) + (x[1] - 0.3) * (x[1] - 0.3); };
  auto made = make_optimizer(bo_options(3), p);
  ASSERT_TRUE(made.has_value());
  std::vector<Point> seen;
  // A space-filling start, then three near-duplicates at the boundary optimum.
  for (Point x : {Point{0.1, 0.1}, Point{0.6, 0.9}, Point{0.3, 0.5}, Point{0.8, 0.6}, Point{0.5, 0.2},
                  Point{0.95, 0.35}, Point{1.0, 0.3}, Point{1.0, 0.3001}, Point{1.0, 0.3002}, Point{1.0, 0.3003}}) {
    (*made)->tell({x, true, {f(x)}, {}, {}});
    seen.push_back(x);
  }
  auto next = (*made)->ask(1, {});
  ASSERT_TRUE(next.has_value());
  double nearest = INFINITY;
  for (const Point& x : seen) nearest = std::min(nearest, std::hypot((*next)[0][0] - x[0], (*next)[0][1] - x[1]));
  EXPECT_GT(nearest, 0.1);
}

}  // namespace
}  // namespace kerntune::bo
