// The continuous, noisy and mixed problems of the suite, and the shared helpers.
// Closed forms and optima follow the Virtual Library of Simulation Experiments
// (Surjanovic & Bingham, sfu.ca/~ssurjano).
#include "problems.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace kerntune::bench {

namespace {

constexpr double kPi = std::numbers::pi;

Param real(std::string name, double lo, double hi) {
  Param p;
  p.name = std::move(name);
  p.type = Param::Type::real;
  p.lo = lo;
  p.hi = hi;
  return p;
}

Param integer(std::string name, double lo, double hi) {
  Param p = real(std::move(name), lo, hi);
  p.type = Param::Type::integer;
  return p;
}

Param categorical(std::string name, int k) {
  Param p;
  p.name = std::move(name);
  p.type = Param::Type::categorical;
  p.lo = 0;
  p.hi = k - 1;
  p.categories = k;
  return p;
}

// Wraps a noise-free single objective: observed = truth + N(0, sd).
std::function<Evaluation(const std::vector<double>&, std::mt19937_64&)> single(
    std::function<double(const std::vector<double>&)> f, double noise_sd) {
  return [f = std::move(f), noise_sd](const std::vector<double>& x, std::mt19937_64& rng) {
    Evaluation e;
    const double value = f(x);
    e.truth = {value};
    double observed = value;
    if (noise_sd > 0) observed += std::normal_distribution<double>(0.0, noise_sd)(rng);
    e.observed = {observed};
    return e;
  };
}

int category(double v, int k) {
  return std::clamp(static_cast<int>(std::lround(v)), 0, k - 1);
}

Problem make_branin(double noise_sd) {
  Problem p;
  p.name = noise_sd > 0 ? "branin_noisy" : "branin";
  p.description = noise_sd > 0 ? "Branin, additive Gaussian noise sd 2" : "Branin (2 real)";
  p.params = {real("x1", -5, 10), real("x2", 0, 15)};
  p.budget = 50;
  p.noise_sd = noise_sd;
  p.optimum = 0.397887357729739;
  p.evaluate = single([](const std::vector<double>& x) { return branin(x[0], x[1]); }, noise_sd);
  return p;
}

Problem make_hartmann6(double noise_sd) {
  Problem p;
  p.name = noise_sd > 0 ? "hartmann6_noisy" : "hartmann6";
  p.description = noise_sd > 0 ? "Hartmann6, additive Gaussian noise sd 0.15" : "Hartmann6 (6 real)";
  for (int i = 0; i < 6; ++i) p.params.push_back(real("x" + std::to_string(i), 0, 1));
  p.budget = 50;
  p.noise_sd = noise_sd;
  p.optimum = -3.322368011415515;
  p.evaluate = single([](const std::vector<double>& x) { return hartmann6(x.data()); }, noise_sd);
  return p;
}

Problem make_ackley10() {
  Problem p;
  p.name = "ackley10";
  p.description = "Ackley, 10 real in [-32.768, 32.768], optimum moved off the centre";
  for (int i = 0; i < 10; ++i) p.params.push_back(real("x" + std::to_string(i), -32.768, 32.768));
  p.budget = 100;
  p.optimum = 0;
  // Shifted: at the centre of the box an optimizer that probes the centre first
  // (dlib does) would find the optimum without searching.
  p.evaluate = single(
      [](const std::vector<double>& x) {
        static constexpr double kShift[10] = {3.1, -7.4, 11.2, -2.5, 5.8, -13.3, 8.6, -0.9, 14.7, -5.2};
        std::vector<double> z(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) z[i] = x[i] - kShift[i];
        return ackley(z);
      },
      0);
  return p;
}

Problem make_levy10() {
  Problem p;
  p.name = "levy10";
  p.description = "Levy, 10 real in [-10, 10]";
  for (int i = 0; i < 10; ++i) p.params.push_back(real("x" + std::to_string(i), -10, 10));
  p.budget = 100;
  p.optimum = 0;
  p.evaluate = single([](const std::vector<double>& x) { return levy(x); }, 0);
  return p;
}

// Hartmann6 hidden in 30 dimensions: 24 coordinates do nothing.
Problem make_hartmann6_in_30() {
  Problem p;
  p.name = "hartmann6_30d";
  p.description = "Hartmann6 embedded in 30 real (24 inert)";
  for (int i = 0; i < 30; ++i) p.params.push_back(real("x" + std::to_string(i), 0, 1));
  p.budget = 150;
  p.optimum = -3.322368011415515;
  p.evaluate = single(
      [](const std::vector<double>& x) {
        static constexpr std::array<int, 6> kActive = {3, 7, 12, 18, 22, 27};
        std::array<double, 6> z{};
        for (std::size_t i = 0; i < 6; ++i) z[i] = x[static_cast<std::size_t>(kActive[i])];
        return hartmann6(z.data());
      },
      0);
  return p;
}

// 5 reals, 3 integers, 2 categoricals. The first categorical shifts where the
// continuous optimum lies (an interaction, not just an offset); both add an
// offset. Optimum 0 at c0 = 1, c1 = 2, reals = shift[1], integers = 0 (none
// of them at the centre of its range).
Problem make_mixed_ackley() {
  Problem p;
  p.name = "mixed_ackley";
  p.description = "Ackley over 5 real + 3 int, 2 categoricals (5 and 3 levels) shifting and offsetting it";
  for (int i = 0; i < 5; ++i) p.params.push_back(real("x" + std::to_string(i), -5, 10));
  for (int i = 0; i < 3; ++i) p.params.push_back(integer("k" + std::to_string(i), -3, 7));
  p.params.push_back(categorical("c0", 5));
  p.params.push_back(categorical("c1", 3));
  p.budget = 100;
  p.optimum = 0;
  p.evaluate = single(
      [](const std::vector<double>& x) {
        static constexpr double kShift[5][5] = {{3, -2, 1, 0, 2},
                                                {1.5, 2.5, -1, 4, 0.5},
                                                {-3, 0, 2, 1, -1},
                                                {0, 3, 3, -2, 1},
                                                {2, 1, -3, 3, 4}};
        static constexpr double kOffset0[5] = {0.8, 0.0, 1.5, 0.4, 1.0};
        static constexpr double kOffset1[3] = {0.5, 1.0, 0.0};
        const int c0 = category(x[8], 5);
        const int c1 = category(x[9], 3);
        std::vector<double> z(8);
        for (int i = 0; i < 5; ++i) z[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] - kShift[c0][i];
        for (std::size_t i = 5; i < 8; ++i) z[i] = std::round(x[i]);
        return ackley(z) + kOffset0[c0] + kOffset1[c1];
      },
      0);
  return p;
}

// Hartmann6 whose coordinates a categorical permutes, plus two integers with a
// quadratic penalty. Optimum = Hartmann6's at c = 2, k0 = 7, k1 = 2.
Problem make_cat_hartmann() {
  Problem p;
  p.name = "cat_hartmann6";
  p.description = "Hartmann6 with a 4-level categorical permuting its inputs + 2 int in [0, 10]";
  for (int i = 0; i < 6; ++i) p.params.push_back(real("x" + std::to_string(i), 0, 1));
  p.params.push_back(categorical("perm", 4));
  p.params.push_back(integer("k0", 0, 10));
  p.params.push_back(integer("k1", 0, 10));
  p.budget = 100;
  p.optimum = -3.322368011415515;
  p.evaluate = single(
      [](const std::vector<double>& x) {
        static constexpr int kPerm[4][6] = {
            {5, 4, 3, 2, 1, 0}, {1, 0, 3, 2, 5, 4}, {0, 1, 2, 3, 4, 5}, {2, 0, 1, 5, 3, 4}};
        static constexpr double kOffset[4] = {0.3, 0.6, 0.0, 0.2};
        const int c = category(x[6], 4);
        std::array<double, 6> z{};
        for (std::size_t i = 0; i < 6; ++i) z[i] = x[static_cast<std::size_t>(kPerm[c][i])];
        const double k0 = std::round(x[7]);
        const double k1 = std::round(x[8]);
        return hartmann6(z.data()) + kOffset[c] + 0.02 * (k0 - 7) * (k0 - 7) + 0.02 * (k1 - 2) * (k1 - 2);
      },
      0);
  return p;
}

}  // namespace

double branin(double x1, double x2) {
  const double b = 5.1 / (4 * kPi * kPi);
  const double c = 5 / kPi;
  const double t = 1 / (8 * kPi);
  const double u = x2 - b * x1 * x1 + c * x1 - 6;
  return u * u + 10 * (1 - t) * std::cos(x1) + 10;
}

double hartmann6(const double* x) {
  static constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                      {0.05, 10, 17, 0.1, 8, 14},
                                      {3, 3.5, 1.7, 10, 17, 8},
                                      {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double kP[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                      {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                      {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                      {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += kA[i][j] * (x[j] - kP[i][j]) * (x[j] - kP[i][j]);
    sum += kAlpha[i] * std::exp(-inner);
  }
  return -sum;
}

double ackley(const std::vector<double>& x) {
  const double d = static_cast<double>(x.size());
  double sq = 0, cs = 0;
  for (double v : x) {
    sq += v * v;
    cs += std::cos(2 * kPi * v);
  }
  return -20 * std::exp(-0.2 * std::sqrt(sq / d)) - std::exp(cs / d) + 20 + std::numbers::e;
}

double levy(const std::vector<double>& x) {
  const std::size_t d = x.size();
  auto w = [&](std::size_t i) { return 1 + (x[i] - 1) / 4; };
  const double s1 = std::sin(kPi * w(0));
  double sum = s1 * s1;
  for (std::size_t i = 0; i + 1 < d; ++i) {
    const double wi = w(i);
    const double s = std::sin(kPi * wi + 1);
    sum += (wi - 1) * (wi - 1) * (1 + 10 * s * s);
  }
  const double wd = w(d - 1);
  const double sd = std::sin(2 * kPi * wd);
  return sum + (wd - 1) * (wd - 1) * (1 + sd * sd);
}

double currin(double x1, double x2) {
  const double factor = x2 <= 0 ? 1.0 : 1 - std::exp(-1 / (2 * x2));
  const double num = 2300 * x1 * x1 * x1 + 1900 * x1 * x1 + 2092 * x1 + 60;
  const double den = 100 * x1 * x1 * x1 + 500 * x1 * x1 + 4 * x1 + 20;
  return factor * num / den;
}

double hypervolume_2d(std::vector<std::pair<double, double>> points, std::pair<double, double> reference) {
  std::erase_if(points, [&](const auto& q) { return !(q.first < reference.first && q.second < reference.second); });
  std::sort(points.begin(), points.end());
  double volume = 0;
  double best_second = reference.second;
  for (const auto& [a, b] : points) {
    if (b < best_second) {
      volume += (reference.first - a) * (best_second - b);
      best_second = b;
    }
  }
  return volume;
}

bool Problem::continuous_only() const {
  return std::all_of(params.begin(), params.end(),
                     [](const Param& q) { return q.type == Param::Type::real && q.parent < 0; });
}

bool Problem::has_categorical() const {
  return std::any_of(params.begin(), params.end(),
                     [](const Param& q) { return q.type == Param::Type::categorical; });
}

bool Problem::has_conditional() const {
  return std::any_of(params.begin(), params.end(), [](const Param& q) { return q.parent >= 0; });
}

bool Problem::is_active(std::size_t i, const std::vector<double>& x) const {
  const Param& q = params.at(i);
  if (q.parent < 0) return true;
  const auto parent = static_cast<std::size_t>(q.parent);
  if (!is_active(parent, x) || std::isnan(x.at(parent))) return false;
  const int value = category(x[parent], params[parent].categories);
  return std::find(q.parent_values.begin(), q.parent_values.end(), value) != q.parent_values.end();
}

nlohmann::json Problem::describe() const {
  nlohmann::json j;
  j["name"] = name;
  j["description"] = description;
  j["budget"] = budget;
  j["n_objectives"] = n_objectives;
  j["noise_sd"] = noise_sd;
  j["can_fail"] = can_fail;
  j["optimum"] = optimum;
  j["fallback"] = std::isnan(fallback) ? nlohmann::json(nullptr) : nlohmann::json(fallback);
  j["reference"] = reference;
  j["continuous_only"] = continuous_only();
  j["has_categorical"] = has_categorical();
  j["has_conditional"] = has_conditional();
  nlohmann::json ps = nlohmann::json::array();
  for (const Param& q : params) {
    nlohmann::json pj;
    pj["name"] = q.name;
    pj["type"] = q.type == Param::Type::real ? "real" : q.type == Param::Type::integer ? "integer" : "categorical";
    pj["lo"] = q.lo;
    pj["hi"] = q.hi;
    pj["log"] = q.log_scale;
    pj["categories"] = q.categories;
    pj["parent"] = q.parent;
    pj["parent_values"] = q.parent_values;
    ps.push_back(pj);
  }
  j["params"] = ps;
  return j;
}

const std::vector<Problem>& all_problems() {
  static const std::vector<Problem> problems = [] {
    std::vector<Problem> v;
    v.push_back(make_branin(0));
    v.push_back(make_hartmann6(0));
    v.push_back(make_ackley10());
    v.push_back(make_levy10());
    v.push_back(make_hartmann6_in_30());
    v.push_back(make_branin(2.0));
    v.push_back(make_hartmann6(0.15));
    v.push_back(make_mixed_ackley());
    v.push_back(make_cat_hartmann());
    v.push_back(make_kernel_like());
    v.push_back(make_branin_currin());
    v.push_back(make_dtlz2(2));
    v.push_back(make_dtlz2(3));
    v.push_back(make_dtlz2(3, 4));
    v.push_back(make_latency2());
    v.push_back(make_latency6());
    v.push_back(make_cond_branches());
    v.push_back(make_cond_scheduler());
    return v;
  }();
  return problems;
}

std::mt19937_64 noise_generator(const Problem& problem, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, stable across builds
  for (unsigned char ch : problem.name) h = (h ^ ch) * 1099511628211ull;
  std::seed_seq seq{static_cast<std::uint32_t>(h), static_cast<std::uint32_t>(h >> 32),
                    static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), 0x6b74u};
  return std::mt19937_64(seq);
}

const Problem* find_problem(const std::string& name) {
  for (const Problem& p : all_problems())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace kerntune::bench
