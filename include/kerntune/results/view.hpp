#pragma once
// One typed read model of a stored campaign: what `best`, `trials`,
// `export`, `verify`, `report`, `status` and `gate` read. It sits below
// campaign, export, report and gate (docs/ARCHITECTURE.md) and is built only
// from the store: the campaign's metadata (objectives with direction and
// limit, parameters, defaults) and its trials. Readers never re-parse the
// stored recipe; a store written before the metadata held objectives is read
// through the recipe text once, here.
#include <cstdint>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/store/store.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::results {

/// Why a trial was run. baseline: trial 0, the defaults; proposal: the
/// optimizer's; rebaseline / confirm: the confirmation phase's interleaved
/// pairs (and `noise.baseline_every` re-measurements of the defaults).
enum class TrialKind { baseline, proposal, rebaseline, confirm, unknown };
TrialKind kind_from_string(std::string_view s);
std::string_view to_string(TrialKind k);
/// baseline or rebaseline: a measurement of the defaults.
inline bool measures_defaults(TrialKind k) { return k == TrialKind::baseline || k == TrialKind::rebaseline; }
/// baseline or proposal: the trials the search saw (and the budget counts).
inline bool is_search(TrialKind k) { return k == TrialKind::baseline || k == TrialKind::proposal; }

/// An objective or outcome constraint of the campaign.
struct Objective {
  std::string metric;
  bool optimized = false;   ///< has a direction (false: a limit only)
  bool maximize = false;
  std::string limit_op;     ///< "<=" | ">=" | "" (no limit)
  double limit = 0;         ///< the bound; with limit_relative, a fraction of the baseline (0.95)
  bool limit_relative = false;  ///< ">= 95% baseline": judged against the campaign's baseline measurements
  bool has_limit() const { return !limit_op.empty(); }
  /// The absolute bound: `limit`, or limit × baseline for a relative limit
  /// (nullopt when relative and the baseline is unknown or not positive).
  std::optional<double> threshold(std::optional<double> baseline = std::nullopt) const;
  /// Whether a measured value keeps the limit (true without a limit; false
  /// for a relative limit whose baseline is unknown).
  bool satisfied_by(double v, std::optional<double> baseline = std::nullopt) const;
  /// "mem <= 300", "get_rps >= 95% baseline"
  std::string limit_text() const;
  /// a better than b in this objective's direction.
  bool better(double a, double b) const { return maximize ? a > b : a < b; }
};

/// One stored trial, read once: the CLI, the report, export, gate and the
/// campaign's own replay all see this shape (docs/json-output.md, "trials").
struct Trial {
  std::int64_t id = 0;  ///< the store's row id (artifacts, measurement ids)
  int seq = 0;
  TrialKind kind = TrialKind::unknown;
  bool ok = false;
  nlohmann::json params = nlohmann::json::object();     ///< proposed
  nlohmann::json effective = nlohmann::json::object();  ///< typed parameter values and the target's own keys
  nlohmann::json adjusted = nlohmann::json::array();    ///< clamped/refused/unreadable parameters (docs/json-output.md)
  std::string config;  ///< canonical params JSON: equal strings = the same configuration
  std::map<std::string, std::vector<double>> samples;   ///< finite repeats of this run, in repeat order
  /// The run's value of each metric: the median over its repeats, or for a
  /// distribution metric (named in `pooled`) its percentile over all repeats'
  /// requests pooled (store::kPooledRepeat).
  std::map<std::string, double> metrics;
  std::set<std::string> pooled;
  std::map<std::string, std::string> units;
  std::string failure_stage, failure_reason;            ///< empty when ok
  std::map<std::string, double> timings;
  std::string worker;
  double started_at = 0, finished_at = 0;
  /// `noise.early_stop` stopped its repeats: {after, of, metric, incumbent,
  /// statistic, threshold, alpha, looks, why, ...} (docs/json-output.md); null: every repeat ran.
  nlohmann::json early_stop;
  /// Adaptive repeats gave this close contender more than its planned
  /// repeats: {after, planned, max, metric, incumbent, decided, why}; else null.
  nlohmann::json extra_repeats;
  /// The run's median of `metric` when the trial is ok and measured it.
  std::optional<double> value(const std::string& metric) const;
  /// "ok" | "failed", as stored and printed.
  std::string_view status() const { return ok ? "ok" : "failed"; }
  /// Wall time of the trial (finished_at − started_at; 0 when not known).
  double seconds() const { return finished_at > started_at ? finished_at - started_at : 0; }
  /// The recorded adjustment of parameter `name` (clamped, refused, unreadable), or nullptr.
  const nlohmann::json* adjustment(const std::string& name) const;
};

/// A trial's early_stop record in words: "after 2 of 5 repeats: worse than trial 3: pooled t …".
std::string describe_early_stop(const nlohmann::json& early_stop);
/// A trial's extra_repeats record in words: "8 instead of 3 repeats: still as good as trial 0 after …".
std::string describe_extra_repeats(const nlohmann::json& extra_repeats);

/// The end of the search phase in `trials` (in seq order): one past its last
/// baseline or proposal. What follows is the confirmation phase.
inline std::size_t search_phase_end(const std::vector<Trial>& trials) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < trials.size(); ++i)
    if (is_search(trials[i].kind)) end = i + 1;
  return end;
}

struct CampaignView {
  store::CampaignRow campaign;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<Objective> objectives;  ///< recipe order
  nlohmann::json defaults = nlohmann::json::object();
  std::vector<Trial> trials;          ///< seq order
  /// The trial budget in force: metadata "budget" (rewritten at every start,
  /// a --trials override included), else the stored recipe's budget.trials.
  std::optional<int> budget;

  /// The objectives with a direction, in order.
  std::vector<Objective> optimized() const;
  /// The objective or constraint on `metric`, nullptr if the campaign has none.
  const Objective* find(const std::string& metric) const;
  const Trial* trial_by_seq(int seq) const;
  /// The first baseline trial, or nullptr.
  const Trial* baseline() const;
};

/// One stored row as the read model has it: params/effective parsed (a
/// malformed JSON reads as empty), the effective "adjusted" list split out,
/// repeats in order with non-finite values dropped, medians per metric.
Trial make_trial(const store::TrialRecord& r);

/// The read model of stored rows (no I/O): metadata and objectives parsed,
/// trials summarized. A malformed metadata/params JSON reads as empty.
CampaignView make_view(const store::CampaignRow& campaign, const std::vector<store::TrialRecord>& trials);
/// Loads a campaign's trials from an open store.
util::Result<CampaignView> load_view(store::Store& store, const store::CampaignRow& campaign);
/// The trial as `trials --json` prints it (docs/schemas/trial.schema.json).
nlohmann::json to_json(const Trial& t);
/// A stored artifact (a trial's log or output) as JSON, for `show trial
/// --json` and the dashboard: `content` is text (util::valid_utf8); when the
/// bytes are not well-formed UTF-8, `content_base64` holds them exactly.
nlohmann::json to_json(const store::ArtifactRow& artifact);
/// A parsed `limit:` text.
struct LimitSpec {
  std::string op;         ///< "<=" | ">="
  double value = 0;       ///< the bound, or the fraction of the baseline when relative
  bool relative = false;
};
/// Parses "<= 300", ">=0.95" (absolute) and ">= 95% baseline" / "<= 110% of
/// baseline" (relative: value 0.95, 1.10; the percentage must be positive and
/// finite); nullopt when malformed.
std::optional<LimitSpec> parse_limit(std::string_view text);
/// The canonical text parse_limit reads back: ">= 1120", ">= 95% baseline".
std::string format_limit(const LimitSpec& limit);

}  // namespace kerntune::results
