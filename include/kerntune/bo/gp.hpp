#pragma once
// Gaussian-process regression on a mixed space (docs/bo.md, "Model").
//
// Targets are given already transformed/standardized by the caller; each
// observation may carry a known noise variance (same units) that is added to
// a learned homoscedastic noise floor. Hyperparameters are fit by MAP in log
// space (L-BFGS-B with analytic gradients, several restarts). Every Cholesky
// goes through a jitter ladder and reports failure instead of returning
// garbage. An optional prior mean w·m(x), where m is the posterior mean of
// another GP (warm start), is subtracted before fitting and added back in
// predictions.
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <optional>

#include "kerntune/bo/kernel.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::bo {

/// Log-normal priors of the hyperparameters (means and deviations in log space).
struct GpPriors {
  double lengthscale_mu = 0;             ///< 0: √2 + log(d)/2 (Hvarfner et al. 2024)
  double lengthscale_sigma = 1.7320508;  ///< √3
  double scale_mu = 0, scale_sigma = 1;  ///< signal variance of standardized targets
  double noise_mu = -4, noise_sigma = 1; ///< log noise variance (BoTorch's default prior)
  double mix_sigma = 1.5;                ///< logit λ ~ N(0, 1.5²)
  /// log s_g of a conditional group ~ N(scale_mu + this, scale_sigma²): a
  /// group's children start with about a third of the base variance.
  double group_scale_offset = -1;
};

struct FitOptions {
  int restarts = 2;          ///< L-BFGS-B runs in addition to the one from `start` (if any)
  int max_iterations = 50;   ///< per run
  int max_points = 160;      ///< hyperparameters are fit on at most this many points
  std::uint64_t seed = 0;    ///< for restart points and the subset
  double min_noise = 1e-6;   ///< lower bound of the learned noise floor
  double max_noise = 2.0;    ///< upper bound (standardized units)
  bool learn_noise = true;   ///< false: noise floor fixed at min_noise (noise-free objective)
  std::optional<Eigen::VectorXd> start;  ///< e.g. the previous optimum
  bool start_only = false;   ///< with `start`: one run from it, no other starts (a refit)
};

struct FitSummary {
  double neg_log_posterior = 0;
  int evaluations = 0;
  int runs = 0;
  int points = 0;  ///< data points the fit used (after subsetting)
};

/// Lower-triangular Cholesky factor of K, adding jitter·mean(diag) with jitter
/// 0, 1e-8, 1e-7, …, 1e-2 until it succeeds. Error when even 1e-2 fails.
util::Result<Eigen::MatrixXd> cholesky_with_jitter(const Eigen::MatrixXd& K);

/// The rows a fit uses: all when n <= max_points, else the best quarter by y
/// plus an even spread of the rest, in history order.
std::vector<int> fit_subset(const Eigen::VectorXd& y, int max_points);

class Gp {
 public:
  explicit Gp(const std::vector<Dim>& dims, GpPriors priors = {});

  const MixedKernel& kernel() const { return kernel_; }
  /// Hyperparameters: the kernel's (kernel.hpp order) then log noise floor.
  int n_hyper() const { return kernel_.n_params() + 1; }
  Eigen::VectorXd hyper() const;
  void set_hyper(const Eigen::VectorXd& theta);
  double noise_floor() const { return noise_; }
  /// The prior's mode, the default starting point of the fit.
  Eigen::VectorXd prior_mode() const;
  void bounds(Eigen::VectorXd& lb, Eigen::VectorXd& ub, const FitOptions& o) const;

  /// Warm start: a prior mean weight·prior.mean(x). Set before fit/condition.
  void set_prior_mean(std::shared_ptr<const Gp> prior, double weight);
  double prior_mean(const double* x) const;

  /// Negative log posterior of θ (−log marginal likelihood − log prior) on
  /// (X, y, known noise); gradient in `grad` if non-null. +∞ when K cannot
  /// be factorized. y must already have the prior mean removed.
  double neg_log_posterior(const Eigen::VectorXd& theta, const MixedKernel::Pairwise& pw,
                           const Eigen::VectorXd& y, const Eigen::VectorXd& noise,
                           Eigen::VectorXd* grad) const;

  /// −log marginal likelihood of each column of Y (targets at the rows of X,
  /// known noise in the same column of `noise`) at the current
  /// hyperparameters (+∞ where K cannot be factorized). Output warps are
  /// compared by it (docs/bo.md §3).
  Eigen::VectorXd neg_log_likelihoods(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y,
                                      const Eigen::MatrixXd& noise) const;

  /// MAP fit of the hyperparameters; leaves them set. X rows are points.
  util::Result<FitSummary> fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                               const Eigen::VectorXd& noise, const FitOptions& options);
  /// Factorizes K with the current hyperparameters (the posterior).
  util::Status condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                         const Eigen::VectorXd& noise);
  /// Adds one observation to the posterior (O(n²), hyperparameters unchanged):
  /// used for fantasies of pending points.
  util::Status add_point(const double* x, double y, double noise);

  int n() const { return static_cast<int>(X_.rows()); }
  const Eigen::MatrixXd& X() const { return X_; }
  /// Posterior mean at the training points, O(n): y − (σ²_n + noise)·α.
  Eigen::VectorXd train_mean() const;
  /// Posterior mean and latent variance at the rows of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const;
  /// Posterior at one point, with gradients over its continuous coordinates.
  void predict_one(const double* x, double& mean, double& var, Eigen::VectorXd* dmean,
                   Eigen::VectorXd* dvar) const;

 private:
  void refresh_alpha();

  MixedKernel kernel_;
  GpPriors priors_;
  double noise_ = 1e-4;
  std::shared_ptr<const Gp> prior_;
  double prior_weight_ = 0;
  Eigen::MatrixXd X_;
  Eigen::VectorXd y_;      ///< targets minus prior mean
  Eigen::VectorXd noise_known_;
  Eigen::MatrixXd L_;
  Eigen::VectorXd alpha_;
};

}  // namespace kerntune::bo
