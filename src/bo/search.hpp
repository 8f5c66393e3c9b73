#pragma once
// Maximization of an acquisition function over the mixed space (internal).
// docs/bo.md, "Optimizing the acquisition".
#include <Eigen/Core>
#include <optional>
#include <random>
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo::detail {

/// An acquisition function to maximize.
class Acquisition {
 public:
  virtual ~Acquisition() = default;
  /// Values at the rows of X.
  virtual void values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const = 0;
  /// Value at x and, if grad is non-null, its gradient over x's coordinates
  /// (meaningful for active continuous/integer coordinates).
  virtual double value_grad(const Point& x, Eigen::VectorXd* grad) const = 0;
};

/// A box around a center (trust-region mode): continuous/integer coordinates
/// stay within [lo, hi]; raw candidates change each coordinate of the center
/// with probability `perturb_probability` (TuRBO's sparse perturbations).
struct TrustBox {
  Point center;
  std::vector<double> lo, hi;
  double perturb_probability = 1;
  int max_category_changes = 1;
};

struct SearchSpec {
  int n_raw = 512;            ///< quasi-random raw candidates
  int n_perturb = 128;        ///< perturbations of the anchors
  int n_starts = 5;           ///< best raw candidates refined locally
  int grad_iterations = 25;   ///< L-BFGS-B iterations on continuous coordinates
  int neighbour_rounds = 3;   ///< discrete neighbourhood passes
  std::vector<Point> anchors; ///< good observed points, best first
  std::optional<TrustBox> box;
  std::uint64_t seed = 0;     ///< for raw candidates and perturbations
};

struct SearchResult {
  Point x;
  double value = 0;
};

/// Best valid point found that is not in `excluded` (NaN-aware equality);
/// nullopt if no valid non-excluded candidate turned up.
std::optional<SearchResult> maximize(const Problem& problem, const Acquisition& acq,
                                     const SearchSpec& spec, const std::vector<Point>& excluded);

bool same_point(const Point& a, const Point& b);
/// Same branch: the same coordinates are inactive (NaN) in both.
bool same_pattern(const Point& a, const Point& b);

}  // namespace kerntune::bo::detail
