#pragma once
// Problems shared by the bo tests: a mixed space with a condition and a
// constraint, and classic synthetic functions.
#include <cmath>
#include <numbers>
#include <random>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo::testing {

/// x0 continuous, x1 integer (5 levels), x2 categorical (3), x3 continuous
/// active only when x2 == 1 (a conditional parameter); constraint: x0 + x1 <= 1.5.
inline Problem mixed_problem() {
  Problem p;
  p.dims = {{Dim::Kind::continuous, 0, 0}, {Dim::Kind::integer, 5, 0},
            {Dim::Kind::categorical, 0, 3}, {Dim::Kind::continuous, 0, 0}};
  p.repair = [](const Point& in) {
    Point x = in;
    auto clamp01 = [](double v) { return std::isnan(v) ? 0.5 : std::clamp(v, 0.0, 1.0); };
    x[0] = clamp01(x[0]);
    x[1] = std::round(clamp01(x[1]) * 4) / 4;
    x[2] = std::isnan(x[2]) ? 0 : std::clamp(std::round(x[2]), 0.0, 2.0);
    x[3] = x[2] == 1 ? clamp01(x[3]) : std::nan("");
    return x;
  };
  p.valid = [](const Point& x) {
    if (x.size() != 4) return false;
    if (std::isnan(x[0]) || std::isnan(x[1]) || std::isnan(x[2])) return false;
    if (x[0] < 0 || x[0] > 1 || x[1] < 0 || x[1] > 1) return false;
    if (std::abs(x[1] * 4 - std::round(x[1] * 4)) > 1e-9) return false;
    if (x[2] != 0 && x[2] != 1 && x[2] != 2) return false;
    if ((x[2] == 1) == std::isnan(x[3])) return false;
    if (x[2] == 1 && (x[3] < 0 || x[3] > 1)) return false;
    return x[0] + x[1] <= 1.5;
  };
  p.sample = [repair = p.repair, valid = p.valid](std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    for (;;) {
      Point x = repair({u(rng), u(rng), std::floor(u(rng) * 3), u(rng)});
      if (valid(x)) return x;
    }
  };
  return p;
}

/// A box of `d` continuous dimensions with no conditions.
inline Problem box_problem(std::size_t d) {
  Problem p;
  p.dims.assign(d, Dim{Dim::Kind::continuous, 0, 0});
  p.repair = [](const Point& in) {
    Point x = in;
    for (double& v : x) v = std::isnan(v) ? 0.5 : std::clamp(v, 0.0, 1.0);
    return x;
  };
  p.valid = [d](const Point& x) {
    if (x.size() != d) return false;
    for (double v : x)
      if (!(v >= 0 && v <= 1)) return false;
    return true;
  };
  p.sample = [d](std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    Point x(d);
    for (double& v : x) v = u(rng);
    return x;
  };
  return p;
}

inline double branin(const Point& x) {
  double a = x[0] * 15 - 5, b = x[1] * 15;
  double t = b - 5.1 / (4 * std::numbers::pi * std::numbers::pi) * a * a + 5 / std::numbers::pi * a - 6;
  return t * t + 10 * (1 - 1 / (8 * std::numbers::pi)) * std::cos(a) + 10;
}
inline constexpr double branin_min = 0.397887;

inline double hartmann6(const Point& x) {
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double s = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j) e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    s += alpha[i] * std::exp(-e);
  }
  return -s;
}
inline constexpr double hartmann6_min = -3.32237;

}  // namespace kerntune::bo::testing
