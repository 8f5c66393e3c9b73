#pragma once
// The bounded posterior (internal to src/bo; docs/bo.md, "Bounded posterior"):
// past a threshold, each model is fitted and conditioned on a bounded subset
// of the observations, so that the cost of an ask stops growing with the
// history (a 2,000-trial campaign costs about what a 400-trial one does).
#include <Eigen/Core>
#include <vector>

namespace kerntune::bo::detail {

/// Indices (ascending, i.e. in history order) of the rows a model keeps out
/// of n, given a score per row (lower is better) and a cap:
///   * n <= cap: every row (0..n-1), so below the threshold nothing changes;
///   * else the cap/4 best by score (ties: earlier first), the cap/4 most
///     recent, and an even spread over the rest up to exactly `cap` rows.
/// Pure and deterministic. cap <= 0 means no bound.
std::vector<int> bounded_subset(const Eigen::VectorXd& score, int cap);

/// Rows of X (and entries of v) at `idx`.
Eigen::MatrixXd take_rows(const Eigen::MatrixXd& X, const std::vector<int>& idx);
Eigen::VectorXd take(const Eigen::VectorXd& v, const std::vector<int>& idx);

}  // namespace kerntune::bo::detail
