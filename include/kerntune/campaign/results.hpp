#pragma once
// Reading a campaign's results: per-trial summaries (medians over repeats),
// the best trial per objective, the improvement over the baseline, and the
// JSON shapes that `kerntune trials/best --json` print (docs/json-output.md).
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/store/store.hpp"

namespace kerntune::campaign {

struct TrialSummary {
  int seq = 0;
  std::string kind;
  std::string status;
  nlohmann::json params;
  nlohmann::json effective;
  std::map<std::string, double> metrics;              ///< median over repeats
  std::map<std::string, std::vector<double>> samples; ///< raw repeats
  std::map<std::string, std::string> units;
  std::optional<std::pair<std::string, std::string>> failure;  ///< stage, reason
  std::map<std::string, double> timings;
  std::string worker;
  double started_at = 0;
  double finished_at = 0;
};

TrialSummary summarize(const store::TrialRecord& t);
nlohmann::json to_json(const TrialSummary& t);

/// Index (into `trials`) of the best ok baseline/proposal/confirm trial for a
/// metric; nullopt when no ok trial has it.
std::optional<std::size_t> best_index(const std::vector<TrialSummary>& trials, const std::string& metric,
                                      bool maximize);

/// The best trial's metric over the baseline's, as a ratio of medians with a
/// bootstrap 95% interval. When the campaign confirmed that configuration
/// (interleaved rebaseline/confirm pairs), the pairs are used (paired
/// bootstrap over repeats); otherwise all baseline measurements against the
/// trial's own repeats (unpaired). nullopt without enough data.
struct Improvement {
  double ratio = 1;
  double lo = 1;
  double hi = 1;
  int n = 0;               ///< samples per side
  std::string method;      ///< "paired (interleaved confirmation)" | "unpaired"
};
std::optional<Improvement> improvement(const std::vector<TrialSummary>& trials, std::size_t best,
                                       const std::string& metric);

/// Resolves a campaign by name; with an empty name, the only campaign in the
/// store (an error lists the names when there are several).
util::Result<store::CampaignRow> resolve_campaign(store::Store& store, const std::string& name);

}  // namespace kerntune::campaign
