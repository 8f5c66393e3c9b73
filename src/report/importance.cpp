// Parameter importance from a GP refitted on the stored trials: the
// first-order functional-ANOVA effect of each parameter on the posterior mean,
// estimated as the variance of its partial dependence (the mean averaged over
// the observed points with that one parameter set to each grid value).
// docs/report.md, "Parameter importance", explains the method and its limits.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "kerntune/bo/gp.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/stats/stats.hpp"

namespace kerntune::report {
namespace {

std::string label(const ParamMeta& p, double t) {
  double x = p.log_scale && p.lo > 0 ? std::exp(std::log(p.lo) + t * (std::log(p.hi) - std::log(p.lo)))
                                     : p.lo + t * (p.hi - p.lo);
  if (p.type == "int") return fmt::format("{}", std::llround(x));
  return fmt::format("{:.4g}", x);
}

}  // namespace

bool categorical(const ParamMeta& p) { return p.type == "bool" || p.type == "tristate" || p.type == "choice"; }

double encode(const ParamMeta& p, const nlohmann::json& v) {
  if (v.is_null()) return std::nan("");
  if (categorical(p)) {
    std::string s = v.is_string() ? v.get<std::string>() : util::dump_json(v);
    auto it = std::find(p.values.begin(), p.values.end(), s);
    return it == p.values.end() ? std::nan("") : static_cast<double>(it - p.values.begin());
  }
  if (!v.is_number()) return std::nan("");
  double x = v.get<double>();
  if (p.hi <= p.lo) return 0.5;
  double t = p.log_scale && p.lo > 0 && x > 0 ? (std::log(x) - std::log(p.lo)) / (std::log(p.hi) - std::log(p.lo))
                                              : (x - p.lo) / (p.hi - p.lo);
  return std::clamp(t, 0.0, 1.0);
}

double axis_position(const ParamMeta& p, const nlohmann::json& v) {
  double x = encode(p, v);
  if (!categorical(p) || std::isnan(x)) return x;
  return p.values.size() > 1 ? x / static_cast<double>(p.values.size() - 1) : 0.5;
}


Importance importance(const std::vector<ParamMeta>& params, const std::vector<Trial>& trials,
                      const Objective& objective, const ImportanceOptions& options) {
  Importance out;
  out.metric = objective.metric;
  if (params.empty()) {
    out.note = "the campaign's metadata lists no parameters";
    return out;
  }
  std::vector<const Trial*> ok;
  for (const auto& t : trials)
    if (t.ok && t.kind != results::TrialKind::rebaseline && t.metrics.contains(objective.metric)) ok.push_back(&t);
  // At most max_points trials, evenly spread over the history.
  if (static_cast<int>(ok.size()) > options.max_points) {
    std::vector<const Trial*> sub;
    for (int i = 0; i < options.max_points; ++i) sub.push_back(ok[static_cast<std::size_t>(i) * ok.size() / options.max_points]);
    ok = sub;
  }
  out.points = static_cast<int>(ok.size());
  if (ok.size() < 5) {
    out.note = fmt::format("only {} successful trials with '{}': at least 5 are needed to fit a model", ok.size(), objective.metric);
    return out;
  }
  const int n = static_cast<int>(ok.size());
  const int d = static_cast<int>(params.size());
  std::vector<bo::Dim> dims;
  for (const auto& p : params) {
    bo::Dim dim;
    if (categorical(p)) {
      dim.kind = bo::Dim::Kind::categorical;
      dim.categories = static_cast<int>(std::max<std::size_t>(p.values.size(), 1));
    }
    dims.push_back(dim);
  }
  Eigen::MatrixXd X(n, d);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) {
      const auto& pj = ok[i]->params;
      X(i, j) = pj.contains(params[j].name) ? encode(params[j], pj[params[j].name]) : std::nan("");
    }
    y[i] = ok[i]->metrics.at(objective.metric);
  }
  std::vector<double> yv(y.data(), y.data() + n);
  double mu = stats::mean(yv), sd = stats::stddev(yv);
  if (!(sd > 0)) {
    out.note = fmt::format("'{}' did not vary over the successful trials: nothing to explain", objective.metric);
    return out;
  }
  Eigen::VectorXd ys = (y.array() - mu) / sd;
  Eigen::VectorXd noise = Eigen::VectorXd::Zero(n);
  bo::Gp gp(dims);
  bo::FitOptions fo;
  fo.seed = options.seed;
  fo.restarts = 3;
  auto fit = gp.fit(X, ys, noise, fo);
  if (!fit) {
    out.note = "the model could not be fitted: " + fit.error().message;
    return out;
  }
  if (auto st = gp.condition(X, ys, noise); !st) {
    out.note = "the model could not be conditioned: " + st.error().message;
    return out;
  }
  // Background: observed points, evenly spread.
  int nb = std::min(n, options.background);
  std::vector<int> bg;
  for (int i = 0; i < nb; ++i) bg.push_back(i * n / nb);

  double total = 0;
  for (int j = 0; j < d; ++j) {
    const auto& p = params[j];
    ParamImportance pi;
    pi.name = p.name;
    pi.categorical = categorical(p);
    pi.lengthscale = gp.kernel().lengthscale(j);
    if (pi.categorical) {
      for (std::size_t k = 0; k < p.values.size(); ++k) {
        pi.grid_x.push_back(static_cast<double>(k));
        pi.grid_labels.push_back(p.values[k]);
      }
    } else {
      int g = std::max(options.grid, 2);
      for (int k = 0; k < g; ++k) {
        double t = static_cast<double>(k) / (g - 1);
        pi.grid_x.push_back(t);
        pi.grid_labels.push_back(label(p, t));
      }
    }
    std::vector<int> rows;
    for (int r : bg)
      if (!std::isnan(X(r, j))) rows.push_back(r);
    if (rows.empty() || pi.grid_x.size() < 2) continue;  // never active: no effect to show
    const int g = static_cast<int>(pi.grid_x.size());
    Eigen::MatrixXd Xs(static_cast<Eigen::Index>(rows.size()) * g, d);
    for (int k = 0; k < g; ++k)
      for (std::size_t r = 0; r < rows.size(); ++r) {
        Eigen::Index row = k * static_cast<Eigen::Index>(rows.size()) + static_cast<Eigen::Index>(r);
        Xs.row(row) = X.row(rows[r]);
        Xs(row, j) = pi.grid_x[k];
      }
    Eigen::VectorXd mean, var;
    gp.predict(Xs, mean, var);
    for (int k = 0; k < g; ++k) {
      double s = mean.segment(k * static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.size())).mean();
      pi.pd.push_back(mu + sd * s);
    }
    double v = stats::variance(pi.pd) * (g - 1) / g;  // population variance over the grid
    pi.effect_sd = std::sqrt(std::max(v, 0.0));
    total += v;
    out.params.push_back(std::move(pi));
  }
  for (auto& pi : out.params) pi.share = total > 0 ? pi.effect_sd * pi.effect_sd / total : 0;
  std::stable_sort(out.params.begin(), out.params.end(),
                   [](const ParamImportance& a, const ParamImportance& b) { return a.effect_sd > b.effect_sd; });
  return out;
}

}  // namespace kerntune::report
