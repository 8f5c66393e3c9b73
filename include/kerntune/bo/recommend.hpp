#pragma once
// The configuration to recommend after (or during) a campaign.
#include <optional>
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo {

/// Index of the observation to recommend for a single objective: the
/// successful, constraint-satisfying observation with the lowest *posterior
/// mean* of a GP fitted to all successful trials (docs/bo.md, "Recommendation"),
/// which discounts a lucky noisy measurement. With fewer than 3 successful
/// trials, or if the model cannot be fitted, the lowest observed value.
/// nullopt when no observation is successful and feasible.
std::optional<std::size_t> recommend(const std::vector<Dim>& dims,
                                     const std::vector<Observation>& observations);

/// The score recommend() ranks by, at every observation: the GP posterior
/// mean of the (transformed, standardized, minimized) first objective, or the
/// observed transformed value with fewer than 3 successful observations or a
/// failed fit. Only the order means anything. NaN for failed observations.
/// Constraints are ignored here (the caller judges feasibility).
std::vector<double> posterior_scores(const std::vector<Dim>& dims, const std::vector<Observation>& observations);

}  // namespace kerntune::bo
