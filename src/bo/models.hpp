#pragma once
// The surrogate models of one ask() and the acquisition built on them
// (internal to src/bo). docs/bo.md explains each piece.
#include <memory>
#include <optional>
#include <vector>

#include "kerntune/bo/gp.hpp"
#include "kerntune/bo/optimizer.hpp"
#include "ehvi.hpp"
#include "search.hpp"

namespace kerntune::bo::detail {

/// How the acquisition reads the models.
enum class Mode {
  improve,           ///< log-EI (or UCB) + log P(constraints) + log P(feasible)
  find_constraints,  ///< no observed point meets the outcome constraints yet: Σ log P
  find_feasible,     ///< no successful trial yet: optimistic log P(feasible)
};

/// Scale of the squashing noise of the ±1 feasibility regression:
/// P(feasible) = Φ(μ / √(σ² + κ²)).
inline constexpr double kFeasibilityKappa = 0.5;
/// Lower bound of the feasibility GP's learned label noise (labels ±1).
inline constexpr double kFeasibilityNoiseFloor = 0.1;
/// Failed trials (the most recent) that condition the objective model's variance.
inline constexpr int kMaxVisitedFailures = 100;
/// Sharpness of the failure guard (docs/bo.md, "Failures").
inline constexpr double kFailureGuardPower = 8;
/// Optimism of find_feasible mode: μ + β σ in place of μ.
inline constexpr double kFeasibilityBeta = 2.0;
/// UCB's exploration weight (on standardized targets).
inline constexpr double kUcbBeta = 2.0;
/// Feasibility gate (docs/bo.md, "Failures"): every acquisition variant pays
/// kGateSlope · (log P(feasible) − log g) below the gate g, with
/// g = min(kGateMax, kGateBase + observed failure share).
inline constexpr double kGateSlope = 10;
inline constexpr double kGateBase = 0.5;
inline constexpr double kGateMax = 0.95;

struct Models {
  Mode mode = Mode::improve;
  Options::Acquisition acquisition = Options::Acquisition::log_ei;
  std::optional<Gp> objective;  ///< standardized scalar objective (improve mode)
  double incumbent = 0;         ///< best posterior mean among feasible observed points
  /// Observation noise variance for augmented EI (Huang et al. 2006): log-EI
  /// gains log(1 − σn/√(σ²(x) + σn²)), so that points whose posterior is
  /// already much tighter than the noise (replicates) lose their appeal. 0: off.
  double aei_noise = 0;
  std::optional<Gp> feasibility;  ///< ±1 labels minus their mean
  double feasibility_offset = 0;  ///< that mean, added back to the latent
  /// The feasibility gate g in (0, 1); 0: off (find_feasible mode, no failures).
  double feasibility_gate = 0;
  /// Failed trials (rows), for the failure guard: log(1 − ρ^kFailureGuardPower)
  /// with ρ the feasibility kernel's correlation to the nearest failed trial.
  Eigen::MatrixXd failed;
  /// The objective's posterior mean at each successful observation (index as
  /// Targets::points_ok), before failures and fantasies: the trust region's replay.
  std::vector<double> ok_mean;
  /// EHVI (docs/bo.md, "Several objectives"): one GP per objective (each
  /// warped and standardized), in place of `objective`; `front` holds the
  /// posterior means at the feasible observed points (and at fantasized
  /// ones), `region` the boxes a new point can improve below the reference.
  std::vector<Gp> objectives;
  std::vector<std::vector<double>> front;
  ImprovementRegion region;
  std::vector<Gp> constraints;  ///< standardized constraint values
  std::vector<double> thresholds;  ///< 0 in each constraint's standardized units

  /// Kriging believer: conditions every model on its own mean at x.
  util::Status fantasize(const Point& x);
};

/// Conditions `gp` on its own posterior mean at the last `max_rows` rows of
/// `failed` (docs/bo.md §6): the mean stays as it was everywhere, the variance
/// near those points falls. Stops at the first failed update.
util::Status condition_on_failures(Gp& gp, const Eigen::MatrixXd& failed, int max_rows);

/// Exploration step when the search stagnates (docs/bo.md, "Stagnation"):
/// the objective's posterior standard deviation (log) plus log P(feasible)
/// and the failure guard — the most uncertain plausible point.
class ExploreAcquisition final : public Acquisition {
 public:
  explicit ExploreAcquisition(const Models& m) : m_(m) {}
  void values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const override;
  double value_grad(const Point& x, Eigen::VectorXd* grad) const override;

 private:
  const Models& m_;
};

/// Whether each of the last `streak` observations repeats an earlier one:
/// its correlation under `gp`'s kernel with some earlier point is at least
/// `rho`. A model that only proposes such near-duplicates learns nothing more.
bool stagnating(const Gp& gp, const std::vector<Observation>& obs, int streak, double rho);

/// log P(feasible) at x, without the gate (for logs and tests).
double feasibility_log_p(const Models& m, const Point& x);

class ModelAcquisition final : public Acquisition {
 public:
  explicit ModelAcquisition(const Models& m) : m_(m) {}
  void values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const override;
  double value_grad(const Point& x, Eigen::VectorXd* grad) const override;

 private:
  const Models& m_;
};

}  // namespace kerntune::bo::detail
