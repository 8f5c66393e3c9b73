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

}  // namespace kerntune::bo
