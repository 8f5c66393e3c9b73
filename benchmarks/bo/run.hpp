#pragma once
// The C++ side of the benchmark runner: one optimizer × problem × seed, every
// evaluation written as a JSON line as it happens (so a run cut short by a
// timeout still leaves its prefix).
//
// Output lines: a header {"problem","optimizer","seed","budget"}; one line per
// evaluation {"i","failed","observed","truth","opt_s","x"[,"opt_cpu_s"]} (opt_s: seconds the
// optimizer spent proposing this point); a final {"done":true,"seconds":...}.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>

#include "kerntune/bo/optimizer.hpp"
#include "problems.hpp"

namespace kerntune::bench {

class Recorder {
 public:
  Recorder(std::ostream& out, const Problem& problem, const std::string& optimizer, std::uint64_t seed,
           int budget);
  /// Evaluates x (natural units; inactive coordinates are masked to NaN here)
  /// and writes its line.
  /// optimizer_cpu_seconds (NaN: not measured) is written as "opt_cpu_s".
  Evaluation evaluate(std::vector<double> x, double optimizer_seconds, double optimizer_cpu_seconds = NAN);
  /// Writes the final line.
  void finish();
  int evaluations() const { return count_; }
  const Problem& problem() const { return problem_; }

 private:
  std::ostream& out_;
  const Problem& problem_;
  std::mt19937_64 noise_;
  int count_ = 0;
  std::chrono::steady_clock::time_point start_;
};

/// kerntune's optimizers through bo::make_optimizer; kind: "random" | "sobol" | "bo".
/// Returns an error message, empty on success.
/// `multi`: how several objectives are handled (kerntune_parego: ParEGO in
/// place of the default EHVI).
std::string run_kerntune(const std::string& kind, std::uint64_t seed, int budget, Recorder& recorder,
                         bo::Options::MultiObjective multi = bo::Options{}.multi_objective);
/// dlib's global_function_search (the engine of find_min_global), seeded.
std::string run_dlib(std::uint64_t seed, int budget, Recorder& recorder);

}  // namespace kerntune::bench
