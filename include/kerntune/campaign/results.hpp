#pragma once
// Finding a stored campaign by name. What a campaign's trials mean (kinds,
// medians, effective values, timings) is read once, by the read model
// (kerntune/results/view.hpp); the one recommender is results/recommend.hpp.
#include <string>

#include "kerntune/store/store.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::campaign {

/// Resolves a campaign by name; with an empty name, the only campaign in the
/// store (an error lists the names when there are several).
util::Result<store::CampaignRow> resolve_campaign(store::Store& store, const std::string& name);

}  // namespace kerntune::campaign
