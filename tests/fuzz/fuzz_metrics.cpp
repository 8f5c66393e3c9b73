// Fuzz target: metric extraction (src/workloads/metrics.cpp, metric_regex.cpp).
// Input: one repeat's output (stdout+stderr, arbitrary bytes). It is run
// through every shipped workload's metric regexes (recipes/workloads/*.yaml,
// loaded once), the KERNTUNE_METRIC line reader and the number parser.
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "kerntune/workloads/workload.hpp"

using namespace kerntune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<workloads::Workload> shipped = [] {
    std::vector<workloads::Workload> all;
    const std::vector<std::string> dirs = {KERNTUNE_SOURCE_DIR "/recipes/workloads"};
    for (const auto& name : workloads::available_workloads(dirs)) {
      auto w = workloads::load_workload(name, dirs);
      if (!w) __builtin_trap();  // a shipped workload must load
      all.push_back(std::move(*w));
    }
    if (all.empty()) __builtin_trap();
    return all;
  }();
  const std::string_view out = fuzz::as_text(data, size);
  for (const auto& w : shipped) (void)workloads::extract_metrics(w, out);
  for (const auto& [name, value] : workloads::parse_metric_lines(out))
    if (value.first != value.first) __builtin_trap();  // NaN is never recorded
  auto n = workloads::parse_number(out);
  if (n && (*n != *n)) __builtin_trap();
  return 0;
}
