// kt_bench_eval: the benchmark problems as a pipe service, so the Python peers
// evaluate exactly the functions the C++ runner does.
//
//   kt_bench_eval --list           JSON array describing every problem
//   kt_bench_eval PROBLEM SEED     first line: the problem's JSON description;
//                                  then one request per input line: a JSON array
//                                  of natural values (null = inactive); one reply
//                                  line: {"failed":bool,"observed":[..],"truth":[..]}
#include <cmath>
#include <iostream>
#include <string>

#include "problems.hpp"

namespace {

int usage() {
  std::cerr << "usage: kt_bench_eval --list | kt_bench_eval PROBLEM SEED\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kerntune::bench;
  if (argc == 2 && std::string(argv[1]) == "--list") {
    nlohmann::json all = nlohmann::json::array();
    for (const Problem& p : all_problems()) all.push_back(p.describe());
    std::cout << all.dump() << "\n";
    return 0;
  }
  if (argc != 3) return usage();
  const Problem* problem = find_problem(argv[1]);
  if (!problem) {
    std::cerr << "kt_bench_eval: unknown problem '" << argv[1] << "'\n";
    return 2;
  }
  const auto seed = std::stoull(argv[2]);
  auto rng = noise_generator(*problem, seed);
  std::cout << problem->describe().dump() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      std::cerr << "kt_bench_eval: bad request: " << e.what() << "\n";
      return 2;
    }
    if (!request.is_array() || request.size() != problem->dims()) {
      std::cerr << "kt_bench_eval: expected an array of " << problem->dims() << " values\n";
      return 2;
    }
    std::vector<double> x(problem->dims());
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = request[i].is_null() ? std::nan("") : request[i].get<double>();
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!problem->is_active(i, x)) x[i] = std::nan("");
    const Evaluation e = problem->evaluate(x, rng);
    nlohmann::json reply;
    reply["failed"] = e.failed;
    reply["observed"] = e.observed;
    reply["truth"] = e.truth;
    std::cout << reply.dump() << std::endl;
  }
  return 0;
}
