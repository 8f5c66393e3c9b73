// Conditional-group problems (issue 18): a choice switches whole groups of
// child parameters on and off (as an I/O scheduler selects its own tunables),
// and the optimum lies inside the child group of a non-default choice, while
// the default branch has a broad, easy, worse basin. Branch 0 is the default
// (the value an optimizer's repair picks for an unset choice).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "problems.hpp"

namespace kerntune::bench {

namespace {

Param make(std::string name, Param::Type type, double lo, double hi, int categories = 0) {
  Param p;
  p.name = std::move(name);
  p.type = type;
  p.lo = lo;
  p.hi = hi;
  p.categories = categories;
  return p;
}

Param child(Param p, int parent, int value) {
  p.parent = parent;
  p.parent_values = {value};
  return p;
}

int branch(double v, int k) { return std::clamp(static_cast<int>(std::lround(v)), 0, k - 1); }

double sq(double v) { return v * v; }

}  // namespace

// algo (3 branches) + a shared real; branch 0: two reals (a broad bowl, 0.5);
// branch 1: a real and an integer (0.3); branch 2: three reals with the
// optimum (0 at c = (0.75, 0.2, 0.6)) in a basin that covers about an eighth
// of the group's square (values below 0.3), elsewhere up to 1 — a random
// branch-2 point is worse than the other branches (about 0.9), so only a
// model of the children inside branch 2 finds it.
Problem make_cond_branches() {
  using T = Param::Type;
  Problem p;
  p.name = "cond_branches";
  p.description = "choice of 3 branches with 2/2/3 children + 1 shared real; optimum in branch 2's children";
  p.params.push_back(make("algo", T::categorical, 0, 2, 3));
  p.params.push_back(make("shared", T::real, 0, 1));
  p.params.push_back(child(make("a1", T::real, 0, 1), 0, 0));
  p.params.push_back(child(make("a2", T::real, 0, 1), 0, 0));
  p.params.push_back(child(make("b1", T::real, 0, 1), 0, 1));
  p.params.push_back(child(make("b2", T::integer, 1, 16), 0, 1));
  p.params.push_back(child(make("c1", T::real, 0, 1), 0, 2));
  p.params.push_back(child(make("c2", T::real, 0, 1), 0, 2));
  p.params.push_back(child(make("c3", T::real, 0, 1), 0, 2));
  p.budget = 100;
  p.optimum = 0;
  p.evaluate = [](const std::vector<double>& x, std::mt19937_64&) {
    double f = 2 * sq(x[1] - 0.35);
    switch (branch(x[0], 3)) {
      case 0: f += 0.5 + 0.6 * (sq(x[2] - 0.5) + sq(x[3] - 0.5)); break;
      case 1: f += 0.3 + 0.8 * sq(x[4] - 0.2) + 0.3 * sq((std::round(x[5]) - 12) / 15); break;
      default:
        f += 1 - std::exp(-(sq(x[6] - 0.75) + sq(x[7] - 0.2)) / 0.12 - sq(x[8] - 0.6) / 0.4);
    }
    Evaluation e;
    e.truth = e.observed = {f};
    return e;
  };
  return p;
}

// sched (4 branches) + two shared reals that interact; branch 0: no children
// (1.0); branch 1: a real and an integer (0.6); branch 2: a categorical and a
// real (0.2); branch 3: Branin over its two reals, scaled ((branin − min)/25,
// optimum 0 at Branin's three minimizers; typical values 1–3).
Problem make_cond_scheduler() {
  using T = Param::Type;
  Problem p;
  p.name = "cond_scheduler";
  p.description = "choice of 4 branches (0/2/2/2 children, one categorical) + 2 shared reals; Branin in branch 3";
  p.params.push_back(make("sched", T::categorical, 0, 3, 4));
  p.params.push_back(make("u", T::real, 0, 1));
  p.params.push_back(make("v", T::real, 0, 1));
  p.params.push_back(child(make("p1", T::real, 0, 1), 0, 1));
  p.params.push_back(child(make("p2", T::integer, 0, 7), 0, 1));
  p.params.push_back(child(make("q1", T::categorical, 0, 2, 3), 0, 2));
  p.params.push_back(child(make("q2", T::real, 0, 1), 0, 2));
  p.params.push_back(child(make("r1", T::real, -5, 10), 0, 3));
  p.params.push_back(child(make("r2", T::real, 0, 15), 0, 3));
  p.budget = 100;
  p.optimum = 0;
  p.evaluate = [](const std::vector<double>& x, std::mt19937_64&) {
    const double du = x[1] - 0.7, dv = x[2] - 0.3;
    double f = du * du + dv * dv + 0.5 * du * dv;
    static constexpr double kQ[3] = {0.5, 0.2, 0.7};
    switch (branch(x[0], 4)) {
      case 0: f += 1.0; break;
      case 1: f += 0.6 + 0.5 * sq(x[3] - 0.4) + 0.4 * sq((std::round(x[4]) - 3) / 7); break;
      case 2: f += kQ[branch(x[5], 3)] + 0.8 * sq(x[6] - 0.9); break;
      default: f += std::max(0.0, branin(x[7], x[8]) - 0.39788735772973816) / 25;
    }
    Evaluation e;
    e.truth = e.observed = {f};
    return e;
  };
  return p;
}

}  // namespace kerntune::bench
