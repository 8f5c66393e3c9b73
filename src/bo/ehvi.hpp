#pragma once
// Expected hypervolume improvement for 2–3 minimized objectives modeled by
// independent Gaussians (internal to src/bo). docs/bo.md, "Several objectives".
//
// The region a new point can improve — the part of the box below the
// reference point that no front member dominates — is cut into disjoint
// axis-aligned boxes (slabs along the last objective, recursively). For
// independent Gaussian outputs Y_k ~ N(μ_k, σ_k²) the improvement inside one
// box [l, u) is the product over k of E[(u_k − max(l_k, Y_k))⁺]
// = σ_k (h(z_u) − h(z_l)), h(z) = φ(z) + zΦ(z), z = (bound − μ_k)/σ_k,
// so EHVI is exact: Σ over boxes of Π over objectives. It is evaluated in
// log form (log-sum-exp over boxes of Σ log terms), like log-EI.
#include <vector>

namespace kerntune::bo::detail {

/// One box of the improvement region; lo may be −∞ (unbounded below).
struct HvBox {
  std::vector<double> lo, hi;
};

struct ImprovementRegion {
  int n_objectives = 0;
  std::vector<double> reference;
  std::vector<HvBox> boxes;
  /// Per objective, the sorted distinct box bounds (the first −∞), and each
  /// box's bounds as indices into them: an evaluation computes h, Φ and φ once
  /// per bound, not once per box.
  std::vector<std::vector<double>> bounds;
  std::vector<std::vector<int>> lo_index, hi_index;  ///< [box][objective]
};

/// The improvement region of `front` (any point set; dominated members and
/// members not below `reference` in every objective change nothing) below
/// `reference`. 1 to 3 objectives.
ImprovementRegion improvement_region(const std::vector<std::vector<double>>& front,
                                     const std::vector<double>& reference);

/// The members of `points` no other member dominates (exact duplicates kept once).
std::vector<std::vector<double>> nondominated(const std::vector<std::vector<double>>& points);

/// The reference point in the models' units: the nadir of the nondominated
/// members of `observed` plus kReferenceMargin times each objective's range
/// over `observed` (at least kReferenceFloor). Empty input: empty result.
std::vector<double> reference_point(const std::vector<std::vector<double>>& observed);
inline constexpr double kReferenceMargin = 0.1;
inline constexpr double kReferenceFloor = 1e-3;

/// log EHVI of independent Gaussians N(mean[k], var[k]) over `region`
/// (−∞ when no improvement is possible). d_mean and d_var, if non-null,
/// receive the derivatives over each mean and variance (size n_objectives).
double log_ehvi(const ImprovementRegion& region, const double* mean, const double* var, double* d_mean,
                double* d_var);

}  // namespace kerntune::bo::detail
