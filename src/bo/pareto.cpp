#include "kerntune/bo/pareto.hpp"

#include <algorithm>
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

/// Dominated volume over the first k objectives of `pts` (all below the reference).
double volume(std::vector<const std::vector<double>*> pts, std::size_t k, const std::vector<double>& ref) {
  if (pts.empty()) return 0;
  const std::size_t last = k - 1;
  if (k == 1) {
    double lo = ref[0];
    for (const auto* p : pts) lo = std::min(lo, (*p)[0]);
    return ref[0] - lo;
  }
  std::stable_sort(pts.begin(), pts.end(), [&](const auto* a, const auto* b) { return (*a)[last] < (*b)[last]; });
  double total = 0;
  for (std::size_t j = 1; j <= pts.size(); ++j) {
    double thickness = (j == pts.size() ? ref[last] : (*pts[j])[last]) - (*pts[j - 1])[last];
    if (thickness > 0)
      total += thickness * volume({pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(j)}, k - 1, ref);
  }
  return total;
}
}  // namespace

double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference) {
  std::vector<const std::vector<double>*> below;
  for (const auto& p : points) {
    bool in = p.size() == reference.size() && !p.empty();
    for (std::size_t k = 0; k < p.size() && in; ++k) in = p[k] < reference[k];
    if (in) below.push_back(&p);
  }
  return volume(std::move(below), reference.size(), reference);
}

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
