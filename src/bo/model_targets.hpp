#pragma once
// From observations to model targets (internal to src/bo): scalarization of
// several objectives (ParEGO), power transform and standardization, known
// noise in the same units, constraint and feasibility labels, the trust-region
// replay, and the warm-start prior. docs/bo.md, "Targets".
#include <Eigen/Core>
#include <memory>
#include <optional>
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

/// An output warping (docs/bo.md §3): a monotone increasing map T of the raw
/// scalar objective, applied before standardization and the GP fit.
struct Warp {
  enum class Kind {
    identity,
    yeo_johnson,      ///< Yeo-Johnson(λ) of (y − center)/scale
    box_cox,          ///< Box-Cox(λ) of y > 0 (λ = 0: log)
  };
  Kind kind = Kind::identity;
  double lambda = 1;
  double center = 0, scale = 1;
  double apply(double y) const;
  double slope(double y) const;  ///< dT/dy (> 0)
  bool operator==(const Warp&) const = default;
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
  Eigen::VectorXd y;         ///< warped, standardized scalar objective
  Eigen::VectorXd noise;     ///< known noise variance, same units (0 unknown)
  Eigen::VectorXd raw_y;     ///< the scalar objective before the warp
  Eigen::VectorXd raw_noise; ///< known noise variance on the raw scale (0 unknown)
  Warp warp;                 ///< the warp y and noise carry
  std::vector<Warp> warps;   ///< the candidates (docs/bo.md §3)
  /// Several objectives: each objective's raw values and known noise variance
  /// (0 unknown) at the successful observations, for one GP per objective (EHVI).
  std::vector<Eigen::VectorXd> objective_raw, objective_raw_noise;
  std::vector<bool> feasible_ok;  ///< observed constraints all <= 0
  bool any_constraint_feasible = false;
  std::vector<ConstraintTarget> cons;
  std::vector<double> sequence;  ///< raw scalar per observation in order (+inf failed/infeasible)
  int best_index = -1;           ///< into points_ok
  std::vector<Point> anchors;    ///< best feasible observed points, best first
  std::shared_ptr<const Gp> prior_gp;
  double prior_weight = 0;
};

/// Re-expresses t.y and t.noise under warp w.
void set_warp(Targets& t, const Warp& w);

/// The candidate warp of largest evidence under gp's current hyperparameters
/// (the GP's marginal likelihood of the warped rows `rows` of t, with the
/// Jacobian back to the raw scale), if it beats t.warp by kWarpMargin
/// (docs/bo.md §3); nullopt to keep t.warp.
std::optional<Warp> evidence_warp(const Gp& gp, const Targets& t, const std::vector<int>& rows);
inline constexpr double kWarpMargin = 1.0;

Targets make_targets(const std::vector<Dim>& dims, const std::vector<Observation>& obs,
                     const TargetOptions& options);

/// Priors of the ±1 feasibility regression.
GpPriors feasibility_priors();

/// The warps considered for these raw values: identity, a Yeo-Johnson grid on
/// the standardized values, and Box-Cox when every value is positive. (No
/// Box-Cox of −y for negative values: −log(−y) stretches the values near 0,
/// the worst ones of a minimization — measured on hartmann6.)
std::vector<Warp> warp_candidates(const Eigen::VectorXd& raw);

/// Standardized targets z = (T(raw) − m)/s; returns the log-Jacobian of
/// raw → z, Σ log T'(raw_i) − n log s; `slope` (if non-null) gets dz/draw.
double warp_targets(const Warp& w, const Eigen::VectorXd& raw, Eigen::VectorXd& z, Eigen::VectorXd* slope);

/// The candidate of largest iid-Gaussian profile likelihood of the raw values
/// (the Jacobian included), kept only when it beats the identity by a
/// likelihood-ratio margin: the cheap first choice before the GP's evidence.
Warp iid_warp(const Eigen::VectorXd& raw, const std::vector<Warp>& candidates);

/// TuRBO side length after replaying `sequence` (docs/bo.md, "Trust region").
double trust_region_length(const std::vector<double>& sequence, std::size_t n_initial, std::size_t dims,
                           int q);

}  // namespace kerntune::bo::detail
