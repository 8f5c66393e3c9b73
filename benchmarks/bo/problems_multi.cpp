// Several-objective problems beyond Branin-Currin: DTLZ2 (Deb, Thiele,
// Laumanns, Zitzler 2002) with 2 and 3 objectives on [0,1]^d.
#include <cmath>
#include <numbers>
#include <string>

#include "problems.hpp"

namespace kerntune::bench {

namespace {

Param unit_param(std::string name) {
  Param p;
  p.name = std::move(name);
  return p;
}

/// DTLZ2 with m objectives: the first m−1 coordinates place a point on the
/// front (the positive orthant of the unit sphere), the others' distance from
/// 0.5 (g) pushes it out by the factor 1 + g.
std::vector<double> dtlz2(const std::vector<double>& x, int m) {
  double g = 0;
  for (std::size_t i = static_cast<std::size_t>(m - 1); i < x.size(); ++i) g += (x[i] - 0.5) * (x[i] - 0.5);
  std::vector<double> f(static_cast<std::size_t>(m), 1 + g);
  const double h = std::numbers::pi / 2;
  for (int k = 0; k < m; ++k) {
    auto kk = static_cast<std::size_t>(k);
    for (int j = 0; j < m - 1 - k; ++j) f[kk] *= std::cos(h * x[static_cast<std::size_t>(j)]);
    if (k > 0) f[kk] *= std::sin(h * x[static_cast<std::size_t>(m - 1 - k)]);
  }
  return f;
}

}  // namespace

// The front is the unit sphere's positive orthant, so the region it dominates
// below the reference (r, …, r), r >= 1, is the cube minus the ball's orthant:
// r² − π/4 (2 objectives), r³ − π/6 (3 objectives).
Problem make_dtlz2(int n_objectives, int dims) {
  Problem p;
  p.name = "dtlz2_" + std::to_string(n_objectives) + "obj" + (dims == 6 ? "" : "_" + std::to_string(dims) + "d");
  p.n_objectives = n_objectives;
  const double r = 1.1;
  p.reference.assign(static_cast<std::size_t>(n_objectives), r);
  p.optimum = n_objectives == 2 ? r * r - std::numbers::pi / 4 : r * r * r - std::numbers::pi / 6;
  p.description = "DTLZ2, " + std::to_string(n_objectives) + " objectives on " + std::to_string(dims) +
                  " real; score by hypervolume w.r.t. (1.1, …)";
  for (int i = 0; i < dims; ++i) p.params.push_back(unit_param("x" + std::to_string(i)));
  p.budget = 50;
  p.evaluate = [n_objectives](const std::vector<double>& x, std::mt19937_64&) {
    Evaluation e;
    e.truth = dtlz2(x, n_objectives);
    e.observed = e.truth;
    return e;
  };
  return p;
}

}  // namespace kerntune::bench
