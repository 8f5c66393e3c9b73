#pragma once
// Benchmark problems for the optimizer suite, defined once and shared by every
// optimizer: the C++ runner (kerntune, dlib) calls them in-process, the Python
// peers (Optuna, OpenTURNS) call them through kt_bench_eval's pipe protocol.
//
// A point is given in natural units, one value per parameter: a real value, an
// integer value (as a double), or a category index; NaN for a parameter that is
// inactive (its condition does not hold). Every problem is MINIMIZED.
//
// An evaluation returns `truth` (the noise-free objective values, used only for
// scoring) and `observed` (what the optimizer is told: truth plus noise on the
// noisy problems), or `failed` (the kernel-like problem's failure region; no
// values). Noise comes from the caller's generator, so a run is reproducible
// from (problem, seed).
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace kerntune::bench {

struct Param {
  enum class Type { real, integer, categorical };
  std::string name;
  Type type = Type::real;
  double lo = 0, hi = 1;  ///< real/integer range, inclusive
  bool log_scale = false; ///< real/integer searched on a log scale (lo > 0)
  int categories = 0;     ///< categorical: indices 0..categories-1
  /// Conditional parameter: active only when params[parent] (a categorical)
  /// takes one of `parent_values`. -1: always active.
  int parent = -1;
  std::vector<int> parent_values;
};

struct Evaluation {
  bool failed = false;
  std::vector<double> observed;  ///< what an optimizer sees (noisy problems: with noise)
  std::vector<double> truth;     ///< noise-free values, for scoring only
};

struct Problem {
  std::string name;
  std::string description;
  std::vector<Param> params;
  int budget = 50;         ///< evaluations (50 for d <= 6, 100 for d <= 13, 150 for d >= 30)
  int n_objectives = 1;
  double noise_sd = 0;     ///< additive Gaussian noise on `observed` (0: noiseless)
  bool can_fail = false;   ///< has a failure region
  /// Single objective: the known optimum value. Several objectives: the maximal
  /// hypervolume dominated w.r.t. `reference` (problems_kernel.cpp, problems_multi.cpp).
  double optimum = 0;
  /// Value scored for a run that has no successful evaluation yet (the
  /// default configuration's value on the kernel-like problem); NaN if unused.
  double fallback = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> reference;  ///< several objectives: hypervolume reference point
  std::function<Evaluation(const std::vector<double>& x, std::mt19937_64& noise)> evaluate;

  std::size_t dims() const { return params.size(); }
  bool continuous_only() const;      ///< every parameter real and unconditional
  bool has_categorical() const;
  bool has_conditional() const;
  /// Whether parameter i is active for point x (its parent's value).
  bool is_active(std::size_t i, const std::vector<double>& x) const;
  /// JSON description (the first line kt_bench_eval prints).
  nlohmann::json describe() const;
};

/// The noise generator of one run: a function of (problem, seed) only, so every
/// optimizer of a seed sees the same noise sequence.
std::mt19937_64 noise_generator(const Problem& problem, std::uint64_t seed);

/// Every problem of the suite, in table order.
const std::vector<Problem>& all_problems();
/// The problem named `name`, or nullptr.
const Problem* find_problem(const std::string& name);

// Building blocks (exposed for tests and for composing problems).
double branin(double x1, double x2);
double hartmann6(const double* x);
double ackley(const std::vector<double>& x);
double levy(const std::vector<double>& x);
double currin(double x1, double x2);

/// Hypervolume dominated by `points` (two objectives, minimized) w.r.t. `reference`.
double hypervolume_2d(std::vector<std::pair<double, double>> points, std::pair<double, double> reference);

// Problem factories, one per family (problems*.cpp).
Problem make_kernel_like();
Problem make_branin_currin();
Problem make_latency2();
Problem make_latency6();
Problem make_cond_branches();
Problem make_cond_scheduler();
/// DTLZ2 with 2 or 3 objectives on [0,1]^dims (problems_multi.cpp); named
/// dtlz2_{m}obj for 6 dims, dtlz2_{m}obj_{dims}d otherwise.
Problem make_dtlz2(int n_objectives, int dims = 6);

}  // namespace kerntune::bench
