// The bounded posterior (docs/bo.md, "Bounded posterior"): which rows a model
// keeps, that nothing changes below the cap, and that a long history costs
// about what the cap costs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kerntune/bo/optimizer.hpp"
#include "sequences.hpp"
#include "subset.hpp"
#include "test_problems.hpp"

namespace kerntune::bo {
namespace {

using detail::bounded_subset;

TEST(BoundedSubset, BelowTheCapEveryRowInOrder) {
  Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(50, 5.0, -5.0);
  std::vector<int> all = bounded_subset(s, 50);
  ASSERT_EQ(all.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(bounded_subset(s, 0).size(), 50u);  // 0: no bound
}

TEST(BoundedSubset, KeepsTheBestTheRecentAndASpreadUpToTheCap) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal(0, 1);
  Eigen::VectorXd s(1000);
  for (auto& v : s) v = normal(rng);
  const int cap = 200;
  std::vector<int> keep = bounded_subset(s, cap);
  ASSERT_EQ(static_cast<int>(keep.size()), cap);
  EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
  EXPECT_EQ(std::adjacent_find(keep.begin(), keep.end()), keep.end());  // distinct
  // The 50 best by score are all kept.
  std::vector<int> order(1000);
  for (int i = 0; i < 1000; ++i) order[static_cast<std::size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[a] < s[b]; });
  for (int i = 0; i < cap / 4; ++i)
    EXPECT_TRUE(std::binary_search(keep.begin(), keep.end(), order[static_cast<std::size_t>(i)])) << i;
  // The 50 most recent rows are all kept.
  for (int i = 1000 - cap / 4; i < 1000; ++i) EXPECT_TRUE(std::binary_search(keep.begin(), keep.end(), i)) << i;
  // The spread reaches the early history: some row in each tenth.
  for (int tenth = 0; tenth < 10; ++tenth)
    EXPECT_TRUE(std::any_of(keep.begin(), keep.end(), [&](int i) { return i / 100 == tenth; })) << tenth;
  EXPECT_EQ(keep, bounded_subset(s, cap));  // deterministic
}

/// n sequential observations of Hartmann-6 in the first six of `d` dims.
std::vector<Observation> history(const Problem& p, int n, std::uint64_t seed, double fail_above = 2.0) {
  std::mt19937_64 rng(seed);
  std::vector<Observation> out;
  for (int i = 0; i < n; ++i) {
    Observation ob;
    ob.x = p.sample(rng);
    ob.ok = ob.x[0] <= fail_above;
    if (ob.ok) ob.objectives = {testing::hartmann6({ob.x[0], ob.x[1], ob.x[2], ob.x[3], ob.x[4], ob.x[5]})};
    out.push_back(ob);
  }
  return out;
}

std::vector<Point> ask_after(Options o, const Problem& p, const std::vector<Observation>& h, int q) {
  auto made = make_optimizer(o, p);
  EXPECT_TRUE(made.has_value());
  for (const auto& ob : h) (*made)->tell(ob);
  auto x = (*made)->ask(q, {});
  EXPECT_TRUE(x.has_value());
  return x ? *x : std::vector<Point>{};
}

TEST(BoundedPosterior, BelowTheCapTheProposalsAreThoseOfTheFullPosterior) {
  auto p = testing::box_problem(8);
  auto h = history(p, 60, 11, 0.8);  // with failures: the feasibility model too
  Options bounded, full;
  bounded.seed = full.seed = 5;
  bounded.max_posterior_points = 60;
  full.max_posterior_points = 0;
  EXPECT_EQ(ask_after(bounded, p, h, 2), ask_after(full, p, h, 2));
}

TEST(BoundedPosterior, AboveTheCapProposalsAreValidDeterministicAndFromTheSmallerModel) {
  auto p = testing::box_problem(8);
  auto h = history(p, 150, 12, 0.9);
  Options o;
  o.seed = 3;
  o.max_posterior_points = 48;
  auto a = ask_after(o, p, h, 2);
  ASSERT_EQ(a.size(), 2u);
  for (const auto& x : a) EXPECT_TRUE(p.valid(x));
  EXPECT_EQ(a, ask_after(o, p, h, 2));
  // Different from the full posterior's (the model really is smaller) …
  Options full = o;
  full.max_posterior_points = 0;
  EXPECT_NE(a, ask_after(full, p, h, 2));
}

// How ask time stays flat past the cap is a speed goal, measured by the
// benchmarks (benchmarks/bo: kt_bench_speed --cases 400x30:3,2000x30:3;
// docs/bo.md §15), not by a timed test.

TEST(Sequences, BatchSobolEqualsPointByPoint) {
  for (std::size_t d : {1u, 7u, 30u}) {
    for (std::uint64_t first : {0u, 1u, 37u}) {
      Eigen::MatrixXd U = detail::sobol_units(d, 99, first, 20);
      for (int i = 0; i < 20; ++i) {
        std::vector<double> u = detail::sobol_unit(d, 99, first + static_cast<std::uint64_t>(i));
        for (std::size_t j = 0; j < d; ++j) ASSERT_EQ(U(i, static_cast<Eigen::Index>(j)), u[j]) << d << " " << first << " " << i;
      }
    }
  }
}

}  // namespace
}  // namespace kerntune::bo
