#pragma once
// Pareto front of finished trials (for `kerntune best` and the report) and
// the hypervolume of a point set.
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo {

/// Indices (ascending) of the observations that are ok, have finite
/// objectives, satisfy every outcome constraint (<= 0) and are not dominated
/// by another such observation (all objectives minimized; a point dominates
/// another when it is no worse in every objective and better in one).
/// Exact duplicates of a front member are all kept.
std::vector<std::size_t> pareto_front(const std::vector<Observation>& observations);

/// Volume of the region below `reference` dominated by `points` (all
/// objectives minimized; any number of objectives, exact by slicing along the
/// last one: practical up to 3–4). Points not below the reference in every
/// objective add nothing; a point of another length is ignored.
double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference);

}  // namespace kerntune::bo
