#pragma once
// The one recommender every reader uses (`best`, `tune`'s closing lines,
// `export`, `report`, `status`, the confirmation phase), and the interval of
// a configuration against the baseline. The rules, with a worked example:
// docs/recommendation.md.
//
//  * Feasible first: a configuration whose measured value of a limited metric
//    breaks its `limit:` is never recommended. It is judged on the median over
//    its independent runs — on its confirmation runs when it was confirmed.
//    A relative limit (">= 95% baseline") is a fraction of the median of the
//    defaults' runs: on confirmation, of the rebaselines interleaved with the
//    configuration's own rounds; otherwise of every run of the defaults.
//  * Noise-aware: among the feasible configurations, the pick is the lowest
//    posterior mean of a GP fitted to every successful search trial (the
//    surrogate the campaign used, bo::recommend), not the luckiest sample.
//    With fewer than 3 successful trials, or a space the metadata cannot
//    rebuild, the best observed median over runs.
//  * Confirmed candidates win over unconfirmed ones, ranked by that same
//    search-phase score: the confirmation data only vetoes (limits), it never
//    picks, so the interval it gives is not inflated by the choice.
//  * Several objectives: the feasible Pareto front of configurations.
//
// Intervals: the unit of replication is an independent run — a trial is one
// fresh boot on a kernel target, one process run on `command`. Repeats inside
// one run are summarized first (median). With confirmation, one round = one
// rebaseline and the confirm trial right after it; the interval is a
// Student-t interval of the mean per-round log ratio (exp back to a ratio),
// over the rounds. Unconfirmed, the candidate's runs against every run of the
// defaults (Welch t on log values), flagged unconfirmed: it was picked from
// these very data.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/bo/optimizer.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/space/space.hpp"

namespace kerntune::results {

/// A configuration relative to the baseline, for one metric.
struct Interval {
  double ratio = 1;       ///< candidate / baseline (geometric mean of the round ratios; NaN if unknown)
  double lo = 0, hi = 0;  ///< 95% bounds; NaN when there are too few independent rounds
  int rounds = 0;         ///< independent rounds (pairs when paired; the smaller side's runs otherwise)
  int baseline_runs = 0;  ///< independent runs of the defaults used
  int candidate_runs = 0; ///< independent runs of the candidate used
  bool paired = false;    ///< interleaved confirmation rounds
  bool confirmed = false; ///< from confirmation runs, not from the runs that picked the candidate
  std::string method;     ///< one line: how it was computed
  bool has_interval() const;
  /// "significant improvement" | "significant regression" | "not significant" | "no interval"
  std::string verdict(bool maximize) const;
};

/// The interval of the configuration of `view.trials[index]` for `metric`.
/// nullopt when the trial failed, measures the defaults, or either side has no value.
std::optional<Interval> compare_to_baseline(const CampaignView& view, std::size_t index, const std::string& metric);

struct Limit {
  std::string metric;
  std::string op;
  double limit = 0;       ///< the absolute bound judged against (NaN: a relative limit without a baseline)
  double value = 0;       ///< the value judged (NaN: not measured)
  bool met = false;
  bool on_confirmation = false;
  bool relative = false;  ///< ">= 95% baseline": limit = fraction × baseline
  double fraction = 0;    ///< relative: 0.95
  double baseline = 0;    ///< relative: the baseline's median judged against (NaN: none measured)
  /// ">= 1120", ">= 1120 (95% of the baseline's 1179)", ">= 95% baseline (no baseline measured)"
  std::string bound_text() const;
};

/// A configuration as the recommender judged it.
struct Candidate {
  std::size_t trial = 0;                ///< representative trial (its first search trial, else first confirm)
  std::string config;
  int search_runs = 0;                  ///< ok baseline/proposal trials of the configuration with the metric
  int confirm_runs = 0;                 ///< ok confirm trials
  std::map<std::string, double> value;  ///< per objective metric: median over the runs judged
  std::vector<Limit> limits;
  bool feasible = true;
  double score = 0;                     ///< search-phase score, lower is better (posterior mean or median, minimized)
};

struct Recommendation {
  Objective objective;                  ///< the one ranked by
  std::optional<std::size_t> pick;      ///< index into view.trials; nullopt: nothing feasible
  std::optional<std::size_t> raw_best;  ///< the luckiest feasible search trial (best single median)
  std::string rule;                     ///< how the pick was made, one line
  int candidates = 0;                   ///< configurations with a measured value
  int infeasible = 0;                   ///< of them, breaking a limit
  std::optional<Candidate> chosen;
  std::optional<Interval> interval;     ///< the pick against the baseline
  std::vector<Candidate> front;         ///< feasible Pareto front (two or more optimized objectives)
  std::vector<std::string> notes;       ///< plain-language caveats (unconfirmed, winner's curse, …)
};

struct RecommendOptions {
  std::string metric;  ///< rank by this objective (default: the first optimized)
};

/// The recommendation. Errors (invalid_input): `metric` is not an optimized
/// objective of the campaign; the campaign has no optimized objective.
util::Result<Recommendation> recommend(const CampaignView& view, const RecommendOptions& options = {});

/// Every configuration judged (feasibility and search-phase score for `objective`),
/// best first: what the confirmation phase picks its top candidates from.
std::vector<Candidate> rank_candidates(const CampaignView& view, const Objective& objective);

/// The optimizer's dimensions of a search space: one per encoded coordinate,
/// parameters with the same `when:` text in one conditional group (docs/bo.md
/// §2). The campaign's optimizer and the recommender's model both use it, so
/// the recommendation is judged by the same kernel the search used.
std::vector<bo::Dim> model_dims(const space::Space& space);

/// An interval as JSON (ratio, ci95, method, rounds, runs, paired, confirmed,
/// verdict); null when there is none. Non-finite numbers are null.
nlohmann::json to_json(const std::optional<Interval>& interval, bool maximize);
/// `best --json` (docs/schemas/best.schema.json): the recommended trial
/// (results::to_json of it) with the objective, the interval, the
/// recommendation's rule, notes and chosen candidate, and the Pareto front.
/// The dashboard serves the same object.
nlohmann::json to_json(const CampaignView& view, const Recommendation& rec);

}  // namespace kerntune::results
