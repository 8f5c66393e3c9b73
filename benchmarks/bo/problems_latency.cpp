// Latency-like problems (issue 18): positive objectives with right-skewed,
// multiplicative noise (log-normal, plus rare heavy-tailed stalls), the
// optimum on the edge of a range, and two knobs that want to agree.
#include <cmath>
#include <random>

#include "problems.hpp"

namespace kerntune::bench {

namespace {

Param unit_real(std::string name) {
  Param p;
  p.name = std::move(name);
  p.type = Param::Type::real;
  p.lo = 0;
  p.hi = 1;
  return p;
}

// Multiplicative noise: log-normal with log-sd `sigma`, and with probability
// 5% a stall that multiplies the value by 1 + Exp(mean 2) (a heavy right tail).
double skewed(double value, double sigma, std::mt19937_64& rng) {
  double v = value * std::exp(std::normal_distribution<double>(0.0, sigma)(rng));
  if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < 0.05)
    v *= 1 + std::exponential_distribution<double>(0.5)(rng);
  return v;
}

Problem latency_problem(std::string name, std::string description, int dims, int budget, double sigma,
                        double optimum, double (*base)(const std::vector<double>&)) {
  Problem p;
  p.name = std::move(name);
  p.description = std::move(description);
  for (int i = 0; i < dims; ++i) p.params.push_back(unit_real("x" + std::to_string(i)));
  p.budget = budget;
  p.noise_sd = sigma;  // log-sd of the multiplicative noise
  p.optimum = optimum;
  p.evaluate = [base, sigma](const std::vector<double>& x, std::mt19937_64& rng) {
    Evaluation e;
    const double value = base(x);
    e.truth = {value};
    e.observed = {skewed(value, sigma, rng)};
    return e;
  };
  return p;
}

// Two knobs that want to agree (x0 ≈ x1) and both want the top of their
// range: exp(4 (x0 − x1)² + 2.5 (1 − x1)); from 1 (at (1, 1)) to e^6.5.
double latency2(const std::vector<double>& x) {
  const double gap = x[0] - x[1];
  return 2.0 * std::exp(4 * gap * gap + 2.5 * (1 - x[1]));
}

// Six knobs: the agreeing pair on its edge, an interior optimum (x2 = 0.3),
// a mild slope toward the bottom edge (x3), a weak ripple (x4) and an inert knob (x5).
double latency6(const std::vector<double>& x) {
  const double gap = x[0] - x[1];
  const double e = 3 * gap * gap + 2 * (1 - x[1]) + 4 * (x[2] - 0.3) * (x[2] - 0.3) + 1.2 * x[3] +
                   0.3 * (1 - std::cos(6 * x[4]));
  return 5.0 * std::exp(e);
}

}  // namespace

Problem make_latency2() {
  return latency_problem("latency2", "latency-like: 2 agreeing knobs, optimum on the edge, log-normal noise sd 0.3 + 5% stalls",
                         2, 50, 0.3, 2.0, latency2);
}

Problem make_latency6() {
  return latency_problem("latency6", "latency-like: 6 knobs (agreeing pair on an edge, 1 inert), log-normal noise sd 0.3 + 5% stalls",
                         6, 50, 0.3, 5.0, latency6);
}

}  // namespace kerntune::bench
