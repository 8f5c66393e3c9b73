#pragma once
// The mixed-space covariance function of the GP surrogate (docs/bo.md, "Kernel").
//
//   k(a,b) = s · ( λ·km·kc + (1-λ)·(km + kc)/2 )     continuous and categorical dims
//   k(a,b) = s · km   /   s · kc                      only one kind present
//
// km: Matérn-5/2 ARD over continuous and integer coordinates, where an inactive
//     (NaN) coordinate is embedded as (0.5, 1) and an active value v as (v, 0),
//     both coordinates sharing the dimension's lengthscale. This is a genuine
//     Euclidean embedding, so the kernel stays positive definite: two inactive
//     values are equal, an inactive and an active one are ~1 apart.
// kc: exp(-½ Σ_j [a_j ≠ b_j] / ℓ_j²), the overlap (Hamming) kernel with a
//     lengthscale per categorical dimension; NaN (inactive) is one more category.
//
// Conditional groups (Dim::group >= 0; docs/bo.md §2, "Conditional groups"):
// the continuous/integer children of group g leave km and enter a term of
// their own,
//   k(a,b) = s·(…base as above…) + Σ_g s_g·G_g(a,b),
//   G_g = Matérn-5/2 over g's children   if g is active in a and in b,
//         1                              if g is inactive in both,
//         0                              if active in exactly one.
// G_g is the Matérn kernel on the disjoint union R^|g| ⊔ {off}: block-diagonal
// (one block the Matérn Gram matrix of the points where g is active, one the
// all-ones matrix of the points where it is off), hence PSD, and a sum of PSD
// kernels is PSD. k(x,x) = s + Σ_g s_g is the same everywhere. Without groups
// the kernel is exactly the one above.
//
// Hyperparameters live in log space, in the order
//   [log s, logit λ (only when both kinds exist), log ℓ (continuous dims in
//    order), log ℓ (categorical dims in order), log s_g (groups in order of
//    their first dimension)].
#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo {

class MixedKernel {
 public:
  explicit MixedKernel(const std::vector<Dim>& dims);

  std::size_t n_dims() const { return n_dims_; }
  int n_params() const { return n_params_; }
  bool mixed() const { return mix_index_ >= 0; }
  int mix_index() const { return mix_index_; }
  int cont_index(int k) const { return cont_offset_ + k; }
  int cat_index(int k) const { return cat_offset_ + k; }
  /// Number of conditional groups and the hyperparameter index of log s_g.
  int n_groups() const { return static_cast<int>(group_first_.size()); }
  int group_index(int g) const { return group_offset_ + g; }
  const std::vector<int>& cont_dims() const { return cont_; }
  const std::vector<int>& cat_dims() const { return cat_; }

  void set_params(const Eigen::VectorXd& theta);
  const Eigen::VectorXd& params() const { return theta_; }
  /// Lengthscale of input dimension j (continuous or categorical).
  double lengthscale(int j) const;
  /// k(x, x): the prior variance (the same everywhere), s + Σ_g s_g.
  double variance() const { return variance_; }
  /// Adds ∂k(x,x)/∂θ · t to grad (the diagonal's share of a likelihood gradient).
  void add_diagonal_grad(double t, Eigen::VectorXd& grad) const;

  double eval(const double* a, const double* b) const;
  /// dk(a,b)/dθ for every hyperparameter, written to out[0..n_params).
  void grad_params(const double* a, const double* b, double* out) const;
  /// dk(a,b)/da_j for active continuous/integer coordinates of a; 0 for the
  /// other coordinates. out has n_dims entries.
  void grad_x(const double* a, const double* b, double* out) const;

  /// Pairwise structure of a data set that does not change with θ: for each
  /// pair i<j (packed, column j then row i), the squared per-dimension
  /// distances of continuous dims and the mismatch indicators of categorical
  /// ones. Used by the likelihood to evaluate K and ∂K/∂θ as matrix products.
  struct Pairwise {
    int n = 0;
    Eigen::MatrixXd dc;  ///< P × n_cont
    Eigen::MatrixXd dk;  ///< P × n_cat
    Eigen::MatrixXd on;  ///< P × n_groups: 1 where the group is active in both points
    Eigen::MatrixXd off; ///< P × n_groups: 1 where it is inactive in both
  };
  Pairwise pairwise(const Eigen::MatrixXd& X) const;

  /// Evaluates the packed off-diagonal kernel values; optionally the pieces
  /// the gradient needs (km, kc, Matérn derivative factor; the base part
  /// only — packed_grad recomputes the group terms).
  void packed_values(const Pairwise& pw, Eigen::ArrayXd& k, Eigen::ArrayXd* km = nullptr,
                     Eigen::ArrayXd* kc = nullptr, Eigen::ArrayXd* g = nullptr) const;
  /// Σ_{i<j} w_p ∂k_p/∂θ for a packed weight vector (the symmetric part of
  /// the likelihood gradient), given the pieces from packed_values.
  Eigen::VectorXd packed_grad(const Pairwise& pw, const Eigen::ArrayXd& w, const Eigen::ArrayXd& km,
                              const Eigen::ArrayXd& kc, const Eigen::ArrayXd& g) const;

  /// Squared distance contribution of a continuous coordinate pair (NaN = inactive).
  static double cont_sqdist(double a, double b);
  static bool cat_differ(double a, double b);

 private:
  /// Whether group g is active at x (its first child is not NaN).
  bool group_on(int g, const double* x) const { return !std::isnan(x[group_first_[static_cast<std::size_t>(g)]]); }
  /// Per-point pieces shared by eval, grad_params and grad_x.
  struct PairTerms {
    double km = 1, g = 0, kc = 1;
    std::vector<signed char> state;  ///< per group: 1 both on, 0 both off, -1 mixed
    std::vector<double> kmg, gg;     ///< per group: Matérn value and factor (both on)
  };
  PairTerms pair_terms(const double* a, const double* b) const;

  std::size_t n_dims_ = 0;
  std::vector<int> cont_, cat_;
  std::vector<int> cont_group_;    ///< per continuous dim k: its group index, -1 base
  std::vector<int> group_first_;   ///< per group: its first input dimension
  int n_params_ = 1, mix_index_ = -1, cont_offset_ = 1, cat_offset_ = 1, group_offset_ = 1;
  Eigen::VectorXd theta_;
  double s_ = 1, lambda_ = 0.5, variance_ = 1;
  Eigen::VectorXd inv_l2_cont_, inv_l2_cat_;
  Eigen::VectorXd inv_l2_base_;            ///< inv_l2_cont_ with group children zeroed
  std::vector<Eigen::VectorXd> inv_l2_group_;  ///< per group: inv_l2_cont_ on its children, 0 elsewhere
  Eigen::VectorXd sg_;                     ///< group scales s_g
};

/// Matérn-5/2 of r² and the factor g with ∂km/∂(r²) = -g/2.
inline void matern52(double r2, double& km, double& g) {
  constexpr double sqrt5 = 2.23606797749979;
  double r = std::sqrt(std::max(r2, 0.0));
  double e = std::exp(-sqrt5 * r);
  km = (1 + sqrt5 * r + 5.0 / 3.0 * r2) * e;
  g = 5.0 / 3.0 * (1 + sqrt5 * r) * e;
}

}  // namespace kerntune::bo
