#pragma once
// Pareto front of finished trials (for `kerntune best` and the report).
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo {

/// Indices (ascending) of the observations that are ok, have finite
/// objectives, satisfy every outcome constraint (<= 0) and are not dominated
/// by another such observation (all objectives minimized; a point dominates
/// another when it is no worse in every objective and better in one).
/// Exact duplicates of a front member are all kept.
std::vector<std::size_t> pareto_front(const std::vector<Observation>& observations);

}  // namespace kerntune::bo
