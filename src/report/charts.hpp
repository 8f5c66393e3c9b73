#pragma once
// The report's charts as inline SVG fragments (internal to the report).
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kerntune/report/report.hpp"

namespace kerntune::report::charts {

/// Every trial on one plot: ok trials as `circle.trial.ok` at their median
/// with a `line.spread` from the lowest to the highest repeat; failed trials
/// as `path.trial.failed` (data-stage) on a strip under the axis; the
/// best-so-far step line `path.best-line`; the baseline's repeats as
/// `rect.baseline-band` (min–max) with its median `line.baseline`.
std::string convergence(const std::vector<Trial>& trials, const Objective& objective);

/// Scatter of two objectives over ok trials; the non-dominated ones as
/// `circle.front` joined by `path.front-line`, the others `circle.dominated`.
using report::FrontMarks;
/// With marks: the front and the pick are the recommender's (`circle.front`,
/// `circle.infeasible`, `circle.pick`); without, the trials' own front.
std::string pareto(const std::vector<Trial>& trials, const Objective& a, const Objective& b, const FrontMarks& marks = {});

/// Horizontal bars (`rect.bar`, data-param) of each parameter's effect.
std::string importance(const Importance& imp, const std::string& unit);

/// Partial dependence of one parameter (`svg.pd`).
std::string partial_dependence(const ParamImportance& p, const std::string& metric);

/// Fill colour of a failure stage (shared by the legend and the table).
std::string stage_colour(const std::string& stage);

}  // namespace kerntune::report::charts
