// kt_bench_run: runs one C++ optimizer on one problem and seed.
//
//   kt_bench_run --optimizer kerntune|kerntune_parego|random|sobol|dlib --problem NAME --seed N
//                [--budget B] [--out FILE]
// kerntune = bo::make_optimizer kind bo; random/sobol = kerntune's own kinds.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "kerntune/util/log.hpp"
#include "run.hpp"

namespace kerntune::bench {

Recorder::Recorder(std::ostream& out, const Problem& problem, const std::string& optimizer, std::uint64_t seed,
                   int budget)
    : out_(out), problem_(problem), noise_(noise_generator(problem, seed)), start_(std::chrono::steady_clock::now()) {
  nlohmann::json header;
  header["problem"] = problem.name;
  header["optimizer"] = optimizer;
  header["seed"] = seed;
  header["budget"] = budget;
  out_ << header.dump() << std::endl;
}

Evaluation Recorder::evaluate(std::vector<double> x, double optimizer_seconds, double optimizer_cpu_seconds) {
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!problem_.is_active(i, x)) x[i] = std::nan("");
  Evaluation e = problem_.evaluate(x, noise_);
  nlohmann::json line;
  line["i"] = count_++;
  line["failed"] = e.failed;
  line["observed"] = e.observed;
  line["truth"] = e.truth;
  line["opt_s"] = optimizer_seconds;
  line["x"] = x;  // natural units; NaN (inactive) is written as null
  if (std::isfinite(optimizer_cpu_seconds)) line["opt_cpu_s"] = optimizer_cpu_seconds;
  out_ << line.dump() << std::endl;
  return e;
}

void Recorder::finish() {
  nlohmann::json line;
  line["done"] = true;
  line["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << line.dump() << std::endl;
}

#ifndef KT_BENCH_WITH_DLIB
std::string run_dlib(std::uint64_t, int, Recorder&) { return "built without dlib (libdlib-dev)"; }
#endif

}  // namespace kerntune::bench

int main(int argc, char** argv) {
  using namespace kerntune::bench;
  // KT_BENCH_DEBUG=1: the optimizer's debug log (model fits, timings) on stderr.
  if (std::getenv("KT_BENCH_DEBUG")) kerntune::util::set_log_level(kerntune::util::LogLevel::debug);
  std::string optimizer, problem_name, out_path;
  std::uint64_t seed = 0;
  int budget = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "kt_bench_run: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--optimizer") optimizer = value();
    else if (arg == "--problem") problem_name = value();
    else if (arg == "--seed") seed = std::stoull(value());
    else if (arg == "--budget") budget = std::stoi(value());
    else if (arg == "--out") out_path = value();
    else {
      std::cerr << "usage: kt_bench_run --optimizer kerntune|kerntune_parego|random|sobol|dlib --problem NAME --seed N "
                   "[--budget B] [--out FILE]\n";
      return 2;
    }
  }
  const Problem* problem = find_problem(problem_name);
  if (!problem) {
    std::cerr << "kt_bench_run: unknown problem '" << problem_name << "'\n";
    return 2;
  }
  if (budget <= 0) budget = problem->budget;
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path);
    if (!file) {
      std::cerr << "kt_bench_run: cannot write " << out_path << "\n";
      return 1;
    }
  }
  std::ostream& out = out_path.empty() ? std::cout : file;
  Recorder recorder(out, *problem, optimizer, seed, budget);
  std::string error;
  if (optimizer == "kerntune") error = run_kerntune("bo", seed, budget, recorder);
  else if (optimizer == "kerntune_parego") error = run_kerntune("bo", seed, budget, recorder, kerntune::bo::Options::MultiObjective::parego);
  else if (optimizer == "random" || optimizer == "sobol") error = run_kerntune(optimizer, seed, budget, recorder);
  else if (optimizer == "dlib") error = run_dlib(seed, budget, recorder);
  else error = "unknown optimizer '" + optimizer + "'";
  if (!error.empty()) {
    std::cerr << "kt_bench_run: " << optimizer << " on " << problem->name << ": " << error << "\n";
    return 1;
  }
  recorder.finish();
  return 0;
}
