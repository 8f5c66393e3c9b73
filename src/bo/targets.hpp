#pragma once
// From observations to model targets (internal to src/bo): scalarization of
// several objectives (ParEGO), power transform and standardization, known
// noise in the same units, constraint and feasibility labels, the trust-region
// replay, and the warm-start prior. docs/bo.md, "Targets".
#include <Eigen/Core>
#include <memory>
#include <vector>

#include "kerntune/bo/gp.hpp"
#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo::detail {

struct TargetOptions {
  int n_objectives = 1;
  int n_constraints = 0;
  std::uint64_t scalarization_seed = 0;  ///< ParEGO weights (several objectives)
  const std::vector<Observation>* prior = nullptr;
  /// Single-objective warm start: the prior GP, fitted once and reused.
  std::shared_ptr<const Gp>* prior_cache = nullptr;
};

struct ConstraintTarget {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;   ///< standardized
  double threshold = 0;  ///< 0 in standardized units
};

struct Targets {
  int n_ok = 0, n_fail = 0;
  Eigen::MatrixXd X_all;     ///< every observation
  Eigen::VectorXd label;     ///< +1 ok, −1 failed, minus their mean
  double label_offset = 0;   ///< that mean
  Eigen::MatrixXd X_ok;      ///< successful observations
  std::vector<Point> points_ok;
  std::vector<std::size_t> ok_index;  ///< observation index of each successful trial
  Eigen::VectorXd y;         ///< transformed, standardized scalar objective
  Eigen::VectorXd noise;     ///< known noise variance, same units (0 unknown)
  std::vector<bool> feasible_ok;  ///< observed constraints all <= 0
  bool any_constraint_feasible = false;
  std::vector<ConstraintTarget> cons;
  std::vector<double> sequence;  ///< raw scalar per observation in order (+inf failed/infeasible)
  int best_index = -1;           ///< into points_ok
  std::vector<Point> anchors;    ///< best feasible observed points, best first
  std::shared_ptr<const Gp> prior_gp;
  double prior_weight = 0;
};

Targets make_targets(const std::vector<Dim>& dims, const std::vector<Observation>& obs,
                     const TargetOptions& options);

/// Priors of the ±1 feasibility regression.
GpPriors feasibility_priors();

/// Yeo-Johnson transform with the λ of largest profile likelihood over a grid,
/// applied only when it beats λ = 1 (identity) clearly. Returns λ; writes the
/// transformed values and the derivative dT/dy at each value.
double power_transform(const Eigen::VectorXd& y, Eigen::VectorXd& out, Eigen::VectorXd& slope);

/// TuRBO side length after replaying `sequence` (docs/bo.md, "Trust region").
double trust_region_length(const std::vector<double>& sequence, std::size_t n_initial, std::size_t dims,
                           int q);

}  // namespace kerntune::bo::detail
