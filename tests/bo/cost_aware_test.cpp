// Cost-aware search (docs/bo.md §16): with a cost context the optimizer holds
// the dear coordinates at the target's state when a cheap proposal there is
// worth its cost, moves them when the held subspace has nothing to offer,
// ignores an even context, and stays deterministic.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kerntune/bo/optimizer.hpp"
#include "test_problems.hpp"

namespace kerntune::bo {
namespace {

// x0, x1: tier 1 (a boot parameter each); x2: tier 0 (a sysctl).
// Minimum at (0.2, 0.8, 0.5).
double f(const Point& x) {
  return std::pow(x[0] - 0.2, 2) + std::pow(x[1] - 0.8, 2) + std::pow(x[2] - 0.5, 2);
}

Problem problem(std::vector<int> tiers = {1, 1, 0}) {
  Problem p = testing::box_problem(tiers.size());
  for (std::size_t j = 0; j < tiers.size(); ++j) p.dims[j].cost_tier = tiers[j];
  return p;
}

std::unique_ptr<Optimizer> told(const Problem& p, int n, std::uint64_t seed = 3) {
  Options o;
  o.seed = seed;
  auto opt = make_optimizer(o, p);
  EXPECT_TRUE(opt.has_value());
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    Point x(p.dims.size());
    for (double& v : x) v = u(rng);
    Observation ob;
    ob.x = x;
    ob.objectives = {f(x)};
    (*opt)->tell(ob);
  }
  return std::move(*opt);
}

Point ask_one(Optimizer& o) {
  auto r = o.ask(1, {});
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r && !r->empty() ? r->front() : Point{};
}

TEST(CostAware, HoldsTheDearCoordinatesWhenStayingIsWorthItsCost) {
  Problem p = problem();
  auto opt = told(p, 14);
  opt->set_cost_context({{0.2, 0.8, 0.05}, {1.0, 50.0}});  // booted at the dear optimum, sysctl off
  Point x = ask_one(*opt);
  ASSERT_EQ(x.size(), 3u);
  EXPECT_EQ(x[0], 0.2);
  EXPECT_EQ(x[1], 0.8);
  EXPECT_NE(x[2], 0.05);
  EXPECT_NEAR(x[2], 0.5, 0.3);  // the cheap coordinate moves towards its optimum
}

TEST(CostAware, MovesWhenTheHeldSubspaceHasNothingToOffer) {
  Problem p = problem();
  auto opt = told(p, 14);
  opt->set_cost_context({{0.95, 0.05, 0.5}, {1.0, 2.0}});  // booted far from the dear optimum
  Point x = ask_one(*opt);
  ASSERT_EQ(x.size(), 3u);
  EXPECT_TRUE(x[0] != 0.95 || x[1] != 0.05) << "stayed at a boot whose best is 1.1 above the optimum";
}

TEST(CostAware, AnEvenOrEmptyContextProposesWhatNoContextDoes) {
  Problem p = problem();
  Point plain = ask_one(*told(p, 14));
  auto even = told(p, 14);
  even->set_cost_context({{0.2, 0.8, 0.05}, {4.0, 4.0}});
  EXPECT_EQ(ask_one(*even), plain);
  auto empty = told(p, 14);
  empty->set_cost_context({});
  EXPECT_EQ(ask_one(*empty), plain);
}

TEST(CostAware, ProposalsAreDeterministicForAHistoryAndAContext) {
  Problem p = problem();
  auto a = told(p, 14), b = told(p, 14);
  CostContext c{{0.3, 0.7, 0.9}, {1.0, 5.0}};
  a->set_cost_context(c);
  b->set_cost_context(c);
  EXPECT_EQ(ask_one(*a), ask_one(*b));
}

TEST(CostAware, ThreeTiersHoldTheDearestWhileTheMiddleMoves) {
  // x0: tier 2 (a Kconfig symbol), x1: tier 1 (a boot parameter), x2: tier 0.
  Problem p = problem({2, 1, 0});
  auto opt = told(p, 14);
  opt->set_cost_context({{0.2, 0.1, 0.5}, {1.0, 1.5, 100.0}});  // the kernel is right, the command line is not
  Point x = ask_one(*opt);
  ASSERT_EQ(x.size(), 3u);
  EXPECT_EQ(x[0], 0.2);  // no rebuild
  EXPECT_NE(x[1], 0.1);  // a reboot is cheap next to what x1 = 0.1 loses
}

}  // namespace
}  // namespace kerntune::bo
