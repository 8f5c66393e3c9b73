// kt_bench_speed: the bo optimizer's fit + propose time.
//
//   kt_bench_speed --out DIR [--cases 50x10:20,200x30:10,...] [--q 1,4]
//                  [--objectives 2 --multi parego,ehvi]
//
// For each case n x d (":R" = repeats) and each repeat r, a data set of n
// points uniform in [0,1]^d with a smooth, anisotropic objective plus noise is
// drawn from seed r and written to DIR/data_n{n}_d{d}_r{r}.csv (x..., y) so the
// scikit-learn comparison fits exactly the same data. A fresh optimizer (kind
// bo, seed r) is told the first n-1 points untimed; then tell(last) + ask(q)
// is timed — that is the fit and the proposal, whether the optimizer fits
// eagerly in tell or lazily in ask. Writes DIR/kerntune.json:
// {"cases":[{"n","d","q","seconds":[...],"cpu_seconds":[...]}]}.
// --objectives 2 adds a second, conflicting objective; --multi lists the
// several-objective methods to time, alternating within each repeat (same
// data, same seed), each entry then carrying "multi" (speed_mo.py).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace {

using namespace kerntune;

struct Case {
  int n = 0, d = 0, repeats = 1;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

bo::Problem unit_cube(int d) {
  bo::Problem p;
  p.dims.assign(static_cast<std::size_t>(d), bo::Dim{});
  p.repair = [](const bo::Point& x) {
    bo::Point y = x;
    for (double& v : y) v = std::isnan(v) ? 0.5 : std::clamp(v, 0.0, 1.0);
    return y;
  };
  p.valid = [d](const bo::Point& x) {
    if (x.size() != static_cast<std::size_t>(d)) return false;
    for (double v : x)
      if (!(v >= 0 && v <= 1)) return false;
    return true;
  };
  p.sample = [d](std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    bo::Point x(static_cast<std::size_t>(d));
    for (double& v : x) v = u(rng);
    return x;
  };
  return p;
}

// CPU time of this process: on a shared, loaded machine wall time measures
// the other processes as much as the optimizer.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Smooth objective whose relevance decays with the coordinate index (so ARD
// lengthscales matter), plus noise.
double objective(const bo::Point& x, std::mt19937_64& rng) {
  double y = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double w = 1.0 / (1.0 + static_cast<double>(i));
    y += w * std::sin(3.0 * x[i] + static_cast<double>(i)) + 0.5 * w * (x[i] - 0.3) * (x[i] - 0.3);
  }
  return y + std::normal_distribution<double>(0.0, 0.05)(rng);
}

// A second objective in conflict with the first near its optimum.
double objective2(const bo::Point& x, std::mt19937_64& rng) {
  double y = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double w = 1.0 / (1.0 + static_cast<double>(i));
    y += w * (x[i] - 0.8) * (x[i] - 0.8) + 0.3 * w * std::cos(2.0 * x[i] + static_cast<double>(i));
  }
  return y + std::normal_distribution<double>(0.0, 0.05)(rng);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir, cases_text = "50x10:20,200x30:10,500x30:5,1000x60:5", q_text = "1,4", multi_text = "parego";
  int n_objectives = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "usage: kt_bench_speed --out DIR [--cases NxD:R,...] [--q 1,4]\n";
      return 2;
    }
    if (arg == "--out") out_dir = argv[++i];
    else if (arg == "--cases") cases_text = argv[++i];
    else if (arg == "--q") q_text = argv[++i];
    else if (arg == "--objectives") n_objectives = std::stoi(argv[++i]);
    else if (arg == "--multi") multi_text = argv[++i];
    else {
      std::cerr << "kt_bench_speed: unknown option " << arg << "\n";
      return 2;
    }
  }
  if (out_dir.empty()) {
    std::cerr << "kt_bench_speed: --out DIR is required\n";
    return 2;
  }
  std::vector<Case> cases;
  for (const std::string& c : split(cases_text, ',')) {
    Case k;
    if (std::sscanf(c.c_str(), "%dx%d:%d", &k.n, &k.d, &k.repeats) < 2 || k.n < 2 || k.d < 1) {
      std::cerr << "kt_bench_speed: bad case '" << c << "' (expected NxD or NxD:R)\n";
      return 2;
    }
    cases.push_back(k);
  }
  std::vector<int> qs;
  for (const std::string& q : split(q_text, ',')) qs.push_back(std::stoi(q));
  if (n_objectives < 1 || n_objectives > 2) {
    std::cerr << "kt_bench_speed: --objectives must be 1 or 2\n";
    return 2;
  }
  std::vector<bo::Options::MultiObjective> methods;
  for (const std::string& m : split(multi_text, ',')) {
    auto parsed = bo::parse_multi_objective(m);
    if (!parsed) {
      std::cerr << "kt_bench_speed: " << parsed.error().format() << "\n";
      return 2;
    }
    methods.push_back(*parsed);
  }

  nlohmann::json result;
  result["cases"] = nlohmann::json::array();
  for (const Case& c : cases) {
    for (int q : qs) {
      std::vector<std::vector<double>> seconds(methods.size()), cpu(methods.size());
      for (int r = 0; r < c.repeats; ++r) {
        std::mt19937_64 rng(static_cast<std::uint64_t>(r) * 7919 + static_cast<std::uint64_t>(c.n * 131 + c.d));
        bo::Problem problem = unit_cube(c.d);
        std::vector<bo::Observation> data;
        for (int i = 0; i < c.n; ++i) {
          bo::Observation o;
          o.x = problem.sample(rng);
          o.objectives = {objective(o.x, rng)};
          if (n_objectives == 2) o.objectives.push_back(objective2(o.x, rng));
          o.noise_var.assign(o.objectives.size(), std::nan(""));
          data.push_back(std::move(o));
        }
        if (q == qs.front()) {
          std::ofstream csv(out_dir + "/data_n" + std::to_string(c.n) + "_d" + std::to_string(c.d) + "_r" +
                            std::to_string(r) + ".csv");
          csv.precision(17);
          for (const auto& o : data) {
            for (double v : o.x) csv << v << ",";
            csv << o.objectives[0] << "\n";
          }
        }
        for (std::size_t k = 0; k < methods.size(); ++k) {
          bo::Options options;
          options.kind = bo::Options::Kind::bo;
          options.seed = static_cast<std::uint64_t>(r);
          options.n_objectives = n_objectives;
          options.multi_objective = methods[k];
          auto optimizer = bo::make_optimizer(options, problem);
          if (!optimizer) {
            std::cerr << "kt_bench_speed: " << optimizer.error().format() << "\n";
            return 1;
          }
          for (int i = 0; i + 1 < c.n; ++i) (*optimizer)->tell(data[static_cast<std::size_t>(i)]);
          const auto start = std::chrono::steady_clock::now();
          const double cpu_start = cpu_seconds();
          (*optimizer)->tell(data.back());
          auto proposal = (*optimizer)->ask(q, {});
          const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          cpu[k].push_back(cpu_seconds() - cpu_start);
          if (!proposal) {
            std::cerr << "kt_bench_speed: ask failed at n=" << c.n << " d=" << c.d << ": "
                      << proposal.error().format() << "\n";
            return 1;
          }
          seconds[k].push_back(s);
          std::cerr << "kt_bench_speed: n=" << c.n << " d=" << c.d << " q=" << q << " " << bo::to_string(methods[k])
                    << " repeat " << r << ": " << s << " s\n";
        }
      }
      for (std::size_t k = 0; k < methods.size(); ++k) {
        nlohmann::json entry;
        entry["n"] = c.n;
        entry["d"] = c.d;
        entry["q"] = q;
        if (n_objectives > 1) entry["multi"] = bo::to_string(methods[k]);
        entry["seconds"] = seconds[k];
        entry["cpu_seconds"] = cpu[k];
        result["cases"].push_back(entry);
      }
    }
  }
  std::ofstream(out_dir + "/kerntune.json") << result.dump(1) << "\n";
  return 0;
}
