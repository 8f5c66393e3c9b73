#include "kerntune/bo/recommend.hpp"

#include <limits>

#include "kerntune/bo/gp.hpp"
#include "targets.hpp"

namespace kerntune::bo {

std::optional<std::size_t> recommend(const std::vector<Dim>& dims,
                                     const std::vector<Observation>& observations) {
  std::size_t n_con = 0;
  for (const auto& o : observations) n_con = std::max(n_con, o.constraints.size());
  detail::TargetOptions to;
  to.n_constraints = static_cast<int>(n_con);
  detail::Targets t = detail::make_targets(dims, observations, to);
  if (!t.any_constraint_feasible) return std::nullopt;
  Eigen::VectorXd score = t.y;  // observed (transformed, standardized): same order
  if (t.n_ok >= 3) {
    Gp gp(dims);
    FitOptions fo;
    fo.seed = 1;
    if (gp.fit(t.X_ok, t.y, t.noise, fo) && gp.condition(t.X_ok, t.y, t.noise)) score = gp.train_mean();
  }
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

}  // namespace kerntune::bo
