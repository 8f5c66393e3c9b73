// kerntune's optimizers on a benchmark problem: the problem's parameters are
// encoded the way the campaign encodes a search space — reals and integers in
// [0,1] (log-scaled where the parameter says so), categoricals as an index,
// NaN for an inactive conditional parameter.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "run.hpp"

namespace kerntune::bench {

namespace {

/// CPU time of the calling thread (the optimizer is single-threaded): on a
/// loaded machine it measures the optimizer's own cost, wall time the load.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double to_unit(const Param& p, double v) {
  if (p.log_scale) return (std::log(v) - std::log(p.lo)) / (std::log(p.hi) - std::log(p.lo));
  return (v - p.lo) / (p.hi - p.lo);
}

double from_unit(const Param& p, double u) {
  u = std::clamp(u, 0.0, 1.0);
  double v = p.log_scale ? std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo))) : p.lo + u * (p.hi - p.lo);
  if (p.type == Param::Type::integer) v = std::round(v);
  return std::clamp(v, p.lo, p.hi);
}

std::vector<double> decode(const Problem& problem, const bo::Point& u) {
  std::vector<double> x(problem.dims());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Param& p = problem.params[i];
    if (std::isnan(u[i])) x[i] = std::nan("");
    else if (p.type == Param::Type::categorical) x[i] = std::clamp(std::round(u[i]), 0.0, double(p.categories - 1));
    else x[i] = from_unit(p, u[i]);
  }
  return x;
}

/// `flat`: no conditional groups (the kernel's flat treatment of inactive
/// coordinates, as before issue 18), for comparisons.
bo::Problem adapt(const Problem& problem, bool flat) {
  bo::Problem out;
  std::vector<std::pair<int, std::vector<int>>> conditions;  // one group per (parent, values)
  for (const Param& p : problem.params) {
    bo::Dim d;
    if (p.parent >= 0 && !flat) {
      std::pair<int, std::vector<int>> c{p.parent, p.parent_values};
      auto it = std::find(conditions.begin(), conditions.end(), c);
      d.group = static_cast<int>(it - conditions.begin());
      if (it == conditions.end()) conditions.push_back(std::move(c));
    }
    if (p.type == Param::Type::real) {
      d.kind = bo::Dim::Kind::continuous;
    } else if (p.type == Param::Type::integer) {
      d.kind = bo::Dim::Kind::integer;
      d.levels = static_cast<long long>(p.hi - p.lo) + 1;
    } else {
      d.kind = bo::Dim::Kind::categorical;
      d.categories = p.categories;
    }
    out.dims.push_back(d);
  }
  // Snap to the parameter's own values and mask inactive coordinates; the
  // parents of conditional parameters come first, so one pass settles them.
  out.repair = [&problem](const bo::Point& in) {
    bo::Point u = in;
    u.resize(problem.dims(), std::nan(""));
    std::vector<double> x(problem.dims(), std::nan(""));
    for (std::size_t i = 0; i < u.size(); ++i) {
      const Param& p = problem.params[i];
      if (!problem.is_active(i, x)) {
        u[i] = std::nan("");
        continue;
      }
      if (p.type == Param::Type::categorical) {
        u[i] = std::isnan(u[i]) ? 0.0 : std::clamp(std::round(u[i]), 0.0, double(p.categories - 1));
        x[i] = u[i];
      } else {
        x[i] = from_unit(p, std::isnan(u[i]) ? 0.5 : u[i]);
        u[i] = std::clamp(to_unit(p, x[i]), 0.0, 1.0);
      }
    }
    return u;
  };
  out.valid = [&problem](const bo::Point& u) {
    if (u.size() != problem.dims()) return false;
    const std::vector<double> x = decode(problem, u);
    for (std::size_t i = 0; i < u.size(); ++i) {
      const bool active = problem.is_active(i, x);
      if (active == std::isnan(u[i])) return false;
      if (!active) continue;
      const Param& p = problem.params[i];
      if (p.type == Param::Type::categorical) {
        if (u[i] != std::round(u[i]) || u[i] < 0 || u[i] >= p.categories) return false;
      } else if (u[i] < 0 || u[i] > 1) {
        return false;
      }
    }
    return true;
  };
  out.sample = [&problem, repair = out.repair](std::mt19937_64& rng) {
    bo::Point u(problem.dims());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (std::size_t i = 0; i < u.size(); ++i) {
      const Param& p = problem.params[i];
      u[i] = p.type == Param::Type::categorical
                 ? double(std::uniform_int_distribution<int>(0, p.categories - 1)(rng))
                 : unit(rng);
    }
    return repair(u);
  };
  return out;
}

}  // namespace

std::string run_kerntune(const std::string& kind, std::uint64_t seed, int budget, Recorder& recorder,
                         bo::Options::MultiObjective multi) {
  const Problem& problem = recorder.problem();
  auto parsed = bo::parse_kind(kind);
  if (!parsed) return parsed.error().format();
  bo::Options options;
  options.kind = *parsed;
  options.seed = seed;
  options.n_objectives = problem.n_objectives;
  options.multi_objective = multi;
  // Experiment knobs (not used by the suite): KT_BENCH_TR=0|1 forces the
  // trust region off/on, KT_BENCH_NINIT=N sets the initial design's size.
  if (const char* tr = std::getenv("KT_BENCH_TR")) {  // -1 auto, 0 off, 1 on (the scripts' old spelling)
    const int v = std::atoi(tr);
    options.trust_region = v > 0 ? bo::Options::TrustRegion::on : v == 0 ? bo::Options::TrustRegion::off
                                                                         : bo::Options::TrustRegion::automatic;
  }
  if (const char* ni = std::getenv("KT_BENCH_NINIT")) options.n_initial = std::atoi(ni);
  // KT_BENCH_FLAT_CONDITIONAL=1: no conditional groups (docs/bo.md §2).
  const char* flat = std::getenv("KT_BENCH_FLAT_CONDITIONAL");
  auto optimizer = bo::make_optimizer(options, adapt(problem, flat && std::string(flat) == "1"));
  if (!optimizer) return optimizer.error().format();
  for (int i = 0; i < budget; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    auto points = (*optimizer)->ask(1, {});
    const double cpu = thread_cpu_seconds() - cpu_start;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!points) return "ask: " + points.error().format();
    if (points->size() != 1) return "ask(1) returned " + std::to_string(points->size()) + " points";
    const bo::Point& u = points->front();
    const Evaluation e = recorder.evaluate(decode(problem, u), seconds, cpu);
    bo::Observation obs;
    obs.x = u;
    obs.ok = !e.failed;
    obs.objectives = e.observed;
    obs.noise_var.assign(e.observed.size(), std::nan(""));
    (*optimizer)->tell(obs);
  }
  return {};
}

}  // namespace kerntune::bench
