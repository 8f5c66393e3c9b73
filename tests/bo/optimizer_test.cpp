// make_optimizer, parse_kind and the model-free optimizers.
#include <gtest/gtest.h>

#include <cmath>

#include "kerntune/bo/optimizer.hpp"
#include "test_problems.hpp"

namespace kerntune::bo {
namespace {

bool same_point(const Point& a, const Point& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return false;
    if (!std::isnan(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

Observation observe(const Point& x) {
  Observation o;
  o.x = x;
  o.objectives = {x[0] + (std::isnan(x[3]) ? 0.0 : x[3])};
  return o;
}

Options options(Options::Kind kind, std::uint64_t seed) {
  Options o;
  o.kind = kind;
  o.seed = seed;
  return o;
}

TEST(BoKind, ParsesAndPrints) {
  for (auto k : {Options::Kind::random, Options::Kind::sobol, Options::Kind::bo}) {
    auto parsed = parse_kind(to_string(k));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, k);
  }
  auto bad = parse_kind("tpe");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("tpe"), std::string::npos);
}

TEST(BoFactory, RejectsProblemWithoutCallbacks) {
  Problem p;
  p.dims = {Dim{}};
  EXPECT_FALSE(make_optimizer(Options{}, p).has_value());
}

class ModelFree : public ::testing::TestWithParam<Options::Kind> {};

TEST_P(ModelFree, ProposalsAreValidAndDeterministicOnReplay) {
  Options opt;
  opt.kind = GetParam();
  opt.seed = 42;
  auto problem = testing::mixed_problem();
  auto a = make_optimizer(opt, problem);
  ASSERT_TRUE(a.has_value());
  std::vector<Observation> history;
  std::vector<Point> all;
  for (int round = 0; round < 20; ++round) {
    auto pts = (*a)->ask(2, {});
    ASSERT_TRUE(pts.has_value());
    ASSERT_EQ(pts->size(), 2u);
    for (const Point& x : *pts) {
      EXPECT_TRUE(problem.valid(x));
      all.push_back(x);
      history.push_back(observe(x));
      (*a)->tell(history.back());
    }
  }
  // A fresh optimizer told the same history proposes the same next points.
  auto b = make_optimizer(opt, problem);
  ASSERT_TRUE(b.has_value());
  for (const auto& o : history) (*b)->tell(o);
  auto next_a = (*a)->ask(3, {all[0]});
  auto next_b = (*b)->ask(3, {all[0]});
  ASSERT_TRUE(next_a && next_b);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(same_point((*next_a)[i], (*next_b)[i]));
  // Another seed gives another sequence.
  opt.seed = 43;
  auto c = make_optimizer(opt, problem);
  auto first_c = (*c)->ask(1, {});
  auto first_d = (*make_optimizer(options(GetParam(), 42), problem))->ask(1, {});
  EXPECT_FALSE(same_point((*first_c)[0], (*first_d)[0]));
  // Pending points shift the sequence: q points asked at once differ.
  auto batch = (*c)->ask(4, {});
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) EXPECT_FALSE(same_point((*batch)[i], (*batch)[j]));
}

INSTANTIATE_TEST_SUITE_P(Kinds, ModelFree,
                         ::testing::Values(Options::Kind::random, Options::Kind::sobol));

TEST(Sobol, FillsTheSpaceBetterThanRandom) {
  // Star discrepancy proxy: the largest empty-ish gap; with 64 Sobol points in
  // 2-D every cell of an 8x8 grid holds exactly one point.
  auto problem = testing::box_problem(2);
  auto opt = make_optimizer(options(Options::Kind::sobol, 7), problem);
  ASSERT_TRUE(opt.has_value());
  auto pts = (*opt)->ask(64, {});
  ASSERT_TRUE(pts.has_value());
  int cells[8][8] = {};
  for (const Point& x : *pts) ++cells[static_cast<int>(x[0] * 8)][static_cast<int>(x[1] * 8)];
  for (auto& row : cells)
    for (int c : row) EXPECT_EQ(c, 1);
}

}  // namespace
}  // namespace kerntune::bo
