#include "subset.hpp"

#include <algorithm>
#include <numeric>

namespace kerntune::bo::detail {

std::vector<int> bounded_subset(const Eigen::VectorXd& score, int cap) {
  int n = static_cast<int>(score.size());
  std::vector<int> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  if (cap <= 0 || n <= cap) return all;
  std::vector<char> take(static_cast<std::size_t>(n), 0);
  // The best quarter: where the acquisition works hardest, the model must be exact.
  std::vector<int> by_score = all;
  std::stable_sort(by_score.begin(), by_score.end(), [&](int a, int b) { return score[a] < score[b]; });
  int n_best = cap / 4, n_recent = cap / 4;
  for (int i = 0; i < n_best; ++i) take[static_cast<std::size_t>(by_score[static_cast<std::size_t>(i)])] = 1;
  // The recent window: what the optimizer just learned (also keeps fresh
  // failures and the trust region's latest steps in the model).
  for (int i = n - 1, k = 0; i >= 0 && k < n_recent; --i)
    if (!take[static_cast<std::size_t>(i)]) take[static_cast<std::size_t>(i)] = 1, ++k;
  // An even spread of the rest: the global shape.
  std::vector<int> others;
  for (int i = 0; i < n; ++i)
    if (!take[static_cast<std::size_t>(i)]) others.push_back(i);
  int chosen = static_cast<int>(std::count(take.begin(), take.end(), 1));
  int rest = std::min(cap - chosen, static_cast<int>(others.size()));
  for (int i = 0; i < rest; ++i)
    take[static_cast<std::size_t>(others[static_cast<std::size_t>(i) * others.size() / static_cast<std::size_t>(rest)])] = 1;
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(cap));
  for (int i = 0; i < n; ++i)
    if (take[static_cast<std::size_t>(i)]) out.push_back(i);
  return out;
}

Eigen::MatrixXd take_rows(const Eigen::MatrixXd& X, const std::vector<int>& idx) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(idx.size()), X.cols());
  for (std::size_t i = 0; i < idx.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = X.row(idx[i]);
  return out;
}

Eigen::VectorXd take(const Eigen::VectorXd& v, const std::vector<int>& idx) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(idx.size()));
  for (std::size_t i = 0; i < idx.size(); ++i) out[static_cast<Eigen::Index>(i)] = v[idx[i]];
  return out;
}

}  // namespace kerntune::bo::detail
