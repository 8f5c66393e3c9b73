#include "kerntune/campaign/results.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>


namespace kerntune::campaign {

util::Result<store::CampaignRow> resolve_campaign(store::Store& store, const std::string& name) {
  if (!name.empty()) {
    KT_TRY(auto row, store.find_campaign(name));
    if (!row) {
      KT_TRY(auto all, store.campaigns());
      std::vector<std::string> names;
      for (const auto& c : all) names.push_back(c.name);
      return util::invalid_input(fmt::format("no campaign named '{}' in the database{}", name,
                                             names.empty() ? std::string(" (it holds none)")
                                                           : fmt::format(" (it holds: {})", fmt::join(names, ", "))));
    }
    return *row;
  }
  KT_TRY(auto all, store.campaigns());
  if (all.empty()) return util::invalid_input("the database holds no campaign yet (run 'kerntune tune RECIPE' first)");
  if (all.size() > 1) {
    std::vector<std::string> names;
    for (const auto& c : all) names.push_back(c.name);
    return util::invalid_input(fmt::format("the database holds several campaigns; choose one with --campaign ({})", fmt::join(names, ", ")));
  }
  return all.front();
}

}  // namespace kerntune::campaign
