#include "kerntune/bo/recommend.hpp"

#include <limits>

#include "kerntune/bo/gp.hpp"
#include "model_targets.hpp"

namespace kerntune::bo {

namespace {
/// The posterior mean at the successful observations (warped, standardized
/// units: same order as the raw values), with the warp revised by the GP's
/// evidence as in ask() (docs/bo.md §3); the observed targets if the fit fails.
Eigen::VectorXd fitted_scores(const std::vector<Dim>& dims, detail::Targets& t) {
  if (t.n_ok < 3) return t.y;
  Gp gp(dims);
  FitOptions fo;
  fo.seed = 1;
  if (!gp.fit(t.X_ok, t.y, t.noise, fo)) return t.y;
  std::vector<int> rows = fit_subset(t.y, fo.max_points);
  if (auto w = detail::evidence_warp(gp, t, rows)) {
    detail::set_warp(t, *w);
    fo.start = gp.hyper();
    fo.start_only = true;
    if (!gp.fit(t.X_ok, t.y, t.noise, fo)) return t.y;
  }
  if (!gp.condition(t.X_ok, t.y, t.noise)) return t.y;
  return gp.train_mean();
}
}  // namespace

std::optional<std::size_t> recommend(const std::vector<Dim>& dims,
                                     const std::vector<Observation>& observations) {
  std::size_t n_con = 0;
  for (const auto& o : observations) n_con = std::max(n_con, o.constraints.size());
  detail::TargetOptions to;
  to.n_constraints = static_cast<int>(n_con);
  detail::Targets t = detail::make_targets(dims, observations, to);
  if (!t.any_constraint_feasible) return std::nullopt;
  Eigen::VectorXd score = fitted_scores(dims, t);
  std::optional<std::size_t> best;
  double best_score = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < score.size(); ++i) {
    if (!t.feasible_ok[static_cast<std::size_t>(i)]) continue;
    if (score[i] < best_score) {
      best_score = score[i];
      best = t.ok_index[static_cast<std::size_t>(i)];
    }
  }
  return best;
}

std::vector<double> posterior_scores(const std::vector<Dim>& dims, const std::vector<Observation>& observations) {
  std::vector<double> out(observations.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<Observation> plain = observations;
  for (auto& o : plain) o.constraints.clear();
  detail::Targets t = detail::make_targets(dims, plain, {});
  if (t.n_ok == 0) return out;
  Eigen::VectorXd score = fitted_scores(dims, t);
  for (Eigen::Index i = 0; i < score.size(); ++i) out[t.ok_index[static_cast<std::size_t>(i)]] = score[i];
  return out;
}

}  // namespace kerntune::bo
