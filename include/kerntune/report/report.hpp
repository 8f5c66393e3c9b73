#pragma once
// The campaign report: one self-contained HTML page (inline SVG and CSS, a few
// lines of inline JS for table sorting, a CSP that forbids every network
// request) answering "what did it find, how sure is it, which knobs mattered".
// Reading guide: docs/report.md.
//
// The report reads a campaign through its read model (results::CampaignView:
// metadata, objectives, typed trials) and the campaign's events; the
// recommendation and its interval come from results::recommend, the function
// `kerntune best` uses, so both always agree.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kerntune/results/cost.hpp"
#include "kerntune/results/recommend.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::report {

/// The report reads a campaign through its read model: each trial is a
/// results::Trial, each objective a results::Objective (kerntune/results/view.hpp).
using results::Objective;
using results::Trial;

/// The best trial's metric over the baseline's, with a 95% interval (NaN
/// bounds when there is no interval). Computed by the caller.
struct Improvement {
  double ratio = 1, lo = 1, hi = 1;
  int n = 0;
  std::string method;
};

struct ReportInput {
  results::CampaignView view;
  std::vector<store::EventRow> events;
  std::optional<Improvement> improvement;
};

struct ImportanceOptions {
  int grid = 16;               ///< grid points per continuous parameter
  int background = 64;         ///< rows of observed points averaged over
  int max_points = 150;        ///< GP trained on at most this many trials
  std::uint64_t seed = 1;
};

/// Importance of one parameter: the variance of its partial dependence
/// (first-order functional-ANOVA effect of the GP posterior mean, averaged
/// over the observed points), its share of the sum over parameters, and the
/// partial-dependence curve in the metric's units.
struct ParamImportance {
  std::string name;
  double effect_sd = 0;        ///< standard deviation of the PD curve (metric units)
  double share = 0;            ///< effect variance / sum over parameters
  double lengthscale = 0;      ///< the GP's ARD lengthscale for this dimension
  std::vector<std::string> grid_labels;  ///< x values (natural units)
  std::vector<double> grid_x;            ///< encoded x in [0,1] or category index
  std::vector<double> pd;                ///< partial dependence, metric units
  bool categorical = false;
};

struct Importance {
  std::string metric;
  std::vector<ParamImportance> params;   ///< sorted, most important first
  int points = 0;                        ///< ok trials the model saw
  std::string note;                      ///< why there is none, when params is empty
};

/// Parameter metadata (the campaign metadata's "parameters").
struct ParamMeta {
  std::string name, domain, type;
  nlohmann::json default_value;
  double lo = 0, hi = 1;
  bool log_scale = false;
  std::vector<std::string> values;
  std::string when;
};
std::vector<ParamMeta> parameters(const results::CampaignView& view);
/// bool, tristate and choice parameters: their values are categories.
bool categorical(const ParamMeta& p);
/// A value as the importance model sees it: a category's index, else the
/// position in the range (log scale when the parameter has one) in [0, 1];
/// NaN for an inactive (null) or unknown value.
double encode(const ParamMeta& p, const nlohmann::json& v);
/// Its position on a parallel-coordinates axis, in [0, 1] (a category's
/// index over the last index); NaN as for encode.
double axis_position(const ParamMeta& p, const nlohmann::json& v);
/// The objective the report and `status` lead with: the first optimized one,
/// else (a campaign that recorded none) the first metric measured, minimized.
Objective main_objective(const results::CampaignView& view);

/// Index (into `view.trials`) of the recommended trial for `objective`:
/// results::recommend, the rule `kerntune best` and `export` use (feasible
/// first, the surrogate's posterior mean); nullopt when nothing qualifies.
std::optional<std::size_t> best_index(const results::CampaignView& view, const Objective& objective);

/// Fits a GP (kerntune::bo) on the ok trials' encoded parameters and the
/// standardized objective, then computes each parameter's partial dependence.
/// Empty params (with a note) when there are fewer than 5 ok trials or no
/// parameter varies.
Importance importance(const std::vector<ParamMeta>& params, const std::vector<Trial>& trials,
                      const Objective& objective, const ImportanceOptions& options = {});

/// What the recommender said of each configuration (canonical params JSON):
/// the report's Pareto chart and the dashboard's mark the same points.
struct FrontMarks {
  std::set<std::string> front;       ///< the feasible Pareto front
  std::set<std::string> infeasible;  ///< breaking an outcome limit
  std::string pick;                  ///< the recommendation
};
FrontMarks front_marks(const results::CampaignView& view, const results::Recommendation& rec);

struct RenderOptions {
  ImportanceOptions importance;
  int partial_dependence_plots = 3;  ///< PD plots for the top N parameters
};

/// The whole page. Deterministic for given input.
std::string render_html(const ReportInput& input, const RenderOptions& options = {});

}  // namespace kerntune::report

namespace kerntune::report {

/// A running (or finished) campaign at a glance, for `kerntune status`.
/// Trials counted toward the budget are baselines and proposals (the
/// campaign's rule); rebaselines and confirmations are listed separately.
struct StatusSnapshot {
  std::string campaign;
  std::string state;               ///< the campaign row's status
  int done = 0;                    ///< baseline + proposal trials stored
  int extra = 0;                   ///< rebaseline + confirm trials stored
  std::optional<int> budget;       ///< CampaignView::budget
  int failed = 0;
  std::optional<Trial> last;   ///< the most recently finished trial
  Objective objective;
  std::optional<double> baseline;  ///< the baseline trial's median
  std::optional<Trial> best;
  double elapsed_seconds = 0;      ///< first trial start → last trial end (or now while running)
  double since_last_seconds = 0;   ///< now − last trial end
  /// Remaining search trials × wall time per trial so far, plus the
  /// confirmation trials still to run × their cost (docs/cli.md, "status").
  std::optional<double> eta_seconds;
  int confirmation_left = 0;       ///< confirmation-phase trials not yet run (in the ETA)
  /// What a trial costs, by what it had to do (results/cost.hpp).
  using Cost = results::TrialCost;
  std::vector<Cost> costs;         ///< kinds that occurred, dearest first
};
/// `now` is unix seconds (passed in so tests are deterministic).
StatusSnapshot status(const results::CampaignView& view, double now);
/// The `status --json` object (docs/schemas/status.schema.json).
nlohmann::json to_json(const StatusSnapshot& s);
/// Human-readable lines (no colour).
std::string format_status(const StatusSnapshot& s);

}  // namespace kerntune::report
