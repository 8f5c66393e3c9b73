#include "kerntune/bo/pareto.hpp"

#include <cmath>

namespace kerntune::bo {

namespace {
bool usable(const Observation& o) {
  if (!o.ok || o.objectives.empty()) return false;
  for (double v : o.objectives)
    if (!std::isfinite(v)) return false;
  for (double c : o.constraints)
    if (!(c <= 0)) return false;
  return true;
}
bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}
}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<Observation>& observations) {
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < observations.size(); ++i) {
    if (!usable(observations[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < observations.size() && !dominated; ++j)
      dominated = j != i && usable(observations[j]) &&
                  observations[j].objectives.size() == observations[i].objectives.size() &&
                  dominates(observations[j].objectives, observations[i].objectives);
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace kerntune::bo
