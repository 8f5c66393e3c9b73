// dlib's global optimizer on a benchmark problem. find_min_global is a loop
// around global_function_search (LIPO upper bounds + trust region); it is
// driven here directly so that it can be seeded (find_min_global always uses
// the same seed) and runs the same way whatever the evaluation time.
// Encoding, as a dlib user would write it: reals as reals, log-scaled
// parameters as their logarithm, integers as integer variables, a categorical
// as an integer index (dlib has no categorical type), conditional parameters
// always passed (the problem ignores them when inactive). A failed evaluation
// must still return a number: the worst value seen so far (the default
// configuration's before any success).
#include <dlib/global_optimization.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "run.hpp"

namespace kerntune::bench {

std::string run_dlib(std::uint64_t seed, int budget, Recorder& recorder) {
  const Problem& problem = recorder.problem();
  if (problem.n_objectives != 1) return "dlib optimizes a single objective";
  const auto d = static_cast<long>(problem.dims());
  dlib::matrix<double, 0, 1> lower(d), upper(d);
  std::vector<bool> is_integer(problem.dims());
  for (long i = 0; i < d; ++i) {
    const Param& p = problem.params[static_cast<std::size_t>(i)];
    lower(i) = p.log_scale ? std::log(p.lo) : p.lo;
    upper(i) = p.log_scale ? std::log(p.hi) : p.hi;
    is_integer[static_cast<std::size_t>(i)] = p.type != Param::Type::real && !p.log_scale;
  }
  dlib::global_function_search search(dlib::function_spec(lower, upper, is_integer));
  search.set_seed(static_cast<time_t>(seed));
  double worst = -std::numeric_limits<double>::infinity();
  for (int n = 0; n < budget; ++n) {
    const auto start = std::chrono::steady_clock::now();
    dlib::function_evaluation_request request = search.get_next_x();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<double> x(problem.dims());
    for (long i = 0; i < d; ++i) {
      const Param& p = problem.params[static_cast<std::size_t>(i)];
      double v = request.x()(i);
      if (p.log_scale) v = std::exp(v);
      if (p.type != Param::Type::real) v = std::round(v);
      x[static_cast<std::size_t>(i)] = std::clamp(v, p.lo, p.hi);
    }
    const Evaluation e = recorder.evaluate(x, seconds);
    double y;
    if (e.failed) {
      y = std::isfinite(worst) ? worst : (std::isnan(problem.fallback) ? 0.0 : problem.fallback);
    } else {
      y = e.observed.front();
      worst = std::max(worst, y);
    }
    request.set(-y);  // dlib maximizes
  }
  return {};
}

}  // namespace kerntune::bench
