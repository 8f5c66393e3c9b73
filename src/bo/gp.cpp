#include "kerntune/bo/gp.hpp"

#include <Eigen/Cholesky>
#include <LBFGSB.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>

namespace kerntune::bo {

util::Result<Eigen::MatrixXd> cholesky_with_jitter(const Eigen::MatrixXd& K) {
  if (K.rows() == 0) return Eigen::MatrixXd(0, 0);
  double mean_diag = K.diagonal().mean();
  if (!std::isfinite(mean_diag) || mean_diag <= 0)
    return util::fail("GP: covariance matrix has a non-positive or non-finite diagonal",
                      util::Error::Kind::internal);
  for (double jitter : {0.0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2}) {
    Eigen::MatrixXd A = K;
    A.diagonal().array() += jitter * mean_diag;
    Eigen::LLT<Eigen::MatrixXd> llt(A);
    if (llt.info() == Eigen::Success) {
      Eigen::MatrixXd L = llt.matrixL();
      if (L.diagonal().allFinite() && (L.diagonal().array() > 0).all()) return L;
    }
  }
  return util::fail("GP: covariance matrix is not positive definite even with 1e-2 relative jitter",
                    util::Error::Kind::internal);
}

Gp::Gp(const std::vector<Dim>& dims, GpPriors priors) : kernel_(dims), priors_(priors) {
  if (priors_.lengthscale_mu == 0)
    priors_.lengthscale_mu =
        std::numbers::sqrt2 + 0.5 * std::log(static_cast<double>(std::max<std::size_t>(1, dims.size())));
  set_hyper(prior_mode());
}

Eigen::VectorXd Gp::hyper() const {
  Eigen::VectorXd t(n_hyper());
  t.head(kernel_.n_params()) = kernel_.params();
  t[kernel_.n_params()] = std::log(noise_);
  return t;
}

void Gp::set_hyper(const Eigen::VectorXd& theta) {
  kernel_.set_params(theta.head(kernel_.n_params()));
  noise_ = std::exp(theta[kernel_.n_params()]);
}

Eigen::VectorXd Gp::prior_mode() const {
  Eigen::VectorXd t = Eigen::VectorXd::Constant(n_hyper(), priors_.lengthscale_mu);
  t.head(1).setConstant(priors_.scale_mu);
  if (kernel_.mixed()) t.segment(kernel_.mix_index(), 1).setZero();
  for (int g = 0; g < kernel_.n_groups(); ++g) t[kernel_.group_index(g)] = priors_.scale_mu + priors_.group_scale_offset;
  t.tail(1).setConstant(priors_.noise_mu);
  return t;
}

void Gp::bounds(Eigen::VectorXd& lb, Eigen::VectorXd& ub, const FitOptions& o) const {
  lb = Eigen::VectorXd::Constant(n_hyper(), std::log(0.01));
  ub = Eigen::VectorXd::Constant(n_hyper(), std::log(1e4));
  lb[0] = std::log(0.01);
  ub[0] = std::log(100.0);
  if (kernel_.mixed()) {
    lb[kernel_.mix_index()] = -6;
    ub[kernel_.mix_index()] = 6;
  }
  for (int g = 0; g < kernel_.n_groups(); ++g) {
    lb[kernel_.group_index(g)] = std::log(1e-3);
    ub[kernel_.group_index(g)] = std::log(100.0);
  }
  lb[n_hyper() - 1] = std::log(o.min_noise);
  ub[n_hyper() - 1] = std::log(o.learn_noise ? std::max(o.max_noise, o.min_noise * 1.0001)
                                             : o.min_noise * 1.0001);
}

void Gp::set_prior_mean(std::shared_ptr<const Gp> prior, double weight) {
  prior_ = std::move(prior);
  prior_weight_ = weight;
}

double Gp::prior_mean(const double* x) const {
  if (!prior_ || prior_weight_ == 0) return 0;
  double m = 0, v = 0;
  prior_->predict_one(x, m, v, nullptr, nullptr);
  return prior_weight_ * m;
}

double Gp::neg_log_posterior(const Eigen::VectorXd& theta, const MixedKernel::Pairwise& pw,
                             const Eigen::VectorXd& y, const Eigen::VectorXd& noise,
                             Eigen::VectorXd* grad) const {
  MixedKernel k = kernel_;
  int np = k.n_params();
  k.set_params(theta.head(np));
  double sn = std::exp(theta[np]);
  int n = pw.n;
  Eigen::ArrayXd kp, km, kc, g;
  k.packed_values(pw, kp, &km, &kc, &g);
  Eigen::MatrixXd K(n, n);
  Eigen::Index p = 0;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, ++p) K(i, j) = K(j, i) = kp[p];
  for (int i = 0; i < n; ++i) K(i, i) = k.variance() + sn + noise[i];
  Eigen::LLT<Eigen::MatrixXd> llt(K);
  if (llt.info() != Eigen::Success) {
    if (grad) grad->setZero(theta.size());
    return std::numeric_limits<double>::infinity();
  }
  Eigen::VectorXd alpha = llt.solve(y);
  double nll = 0.5 * y.dot(alpha) + Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum() +
               0.5 * n * std::log(2 * std::numbers::pi);
  // −log prior (up to a constant)
  Eigen::VectorXd mu = prior_mode(), sig(theta.size());
  sig.setConstant(priors_.lengthscale_sigma);
  sig[0] = priors_.scale_sigma;
  if (k.mixed()) sig[k.mix_index()] = priors_.mix_sigma;
  for (int gi = 0; gi < k.n_groups(); ++gi) sig[k.group_index(gi)] = priors_.scale_sigma;
  sig[np] = priors_.noise_sigma;
  Eigen::ArrayXd z = (theta - mu).array() / sig.array();
  double nlp = nll + 0.5 * z.square().sum();
  if (!grad) return nlp;
  Eigen::MatrixXd W = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
  Eigen::ArrayXd w(pw.dc.rows());
  p = 0;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, ++p) w[p] = 2 * W(i, j);
  Eigen::VectorXd gk = k.packed_grad(pw, w, km, kc, g);
  double trW = W.trace();
  k.add_diagonal_grad(trW, gk);
  grad->resize(theta.size());
  grad->head(np) = -0.5 * gk;
  (*grad)[np] = -0.5 * sn * trW;
  *grad += (z / sig.array()).matrix();
  return nlp;
}

namespace {
/// Adapter for LBFGS++ that remembers the best point seen (a failed line
/// search then still leaves a usable optimum).
struct Objective {
  const Gp* gp = nullptr;
  const MixedKernel::Pairwise* pw = nullptr;
  const Eigen::VectorXd* y = nullptr;
  const Eigen::VectorXd* noise = nullptr;
  double best = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x;
  int evaluations = 0;
  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& grad) {
    ++evaluations;
    double f = gp->neg_log_posterior(x, *pw, *y, *noise, &grad);
    if (!std::isfinite(f)) {
      // Push the search away: a large value with the gradient of the prior.
      grad.setZero(x.size());
      return 1e30;
    }
    if (f < best) {
      best = f;
      best_x = x;
    }
    return f;
  }
};
}  // namespace

std::vector<int> fit_subset(const Eigen::VectorXd& y, int max_points) {
  int n = static_cast<int>(y.size());
  std::vector<int> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  if (n <= max_points) return idx;
  std::vector<int> by_y = idx;
  std::stable_sort(by_y.begin(), by_y.end(), [&](int a, int b) { return y[a] < y[b]; });
  std::vector<char> take(n, 0);
  int n_best = max_points / 4;
  for (int i = 0; i < n_best; ++i) take[by_y[i]] = 1;
  int rest = max_points - n_best;
  std::vector<int> others;
  for (int i = 0; i < n; ++i)
    if (!take[i]) others.push_back(i);
  for (int i = 0; i < rest; ++i) take[others[static_cast<std::size_t>(i) * others.size() / rest]] = 1;
  idx.clear();
  for (int i = 0; i < n; ++i)
    if (take[i]) idx.push_back(i);
  return idx;
}

Eigen::VectorXd Gp::neg_log_likelihoods(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y,
                                        const Eigen::MatrixXd& noise) const {
  Eigen::VectorXd out = Eigen::VectorXd::Constant(Y.cols(), std::numeric_limits<double>::infinity());
  if (Y.cols() == 0 || X.rows() == 0) return out;
  Eigen::Index m = X.rows();
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xs = X;
  Eigen::MatrixXd Ys = Y;
  const Eigen::MatrixXd& Ns = noise;
  for (Eigen::Index i = 0; i < m; ++i) {
    Eigen::VectorXd xi = Xs.row(i).transpose();
    Ys.row(i).array() -= prior_mean(xi.data());
  }
  Eigen::MatrixXd K(m, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < j; ++i) K(i, j) = K(j, i) = kernel_.eval(Xs.row(i).data(), Xs.row(j).data());
    K(j, j) = kernel_.variance() + noise_;
  }
  const double log_2pi = std::log(2 * std::numbers::pi);
  std::optional<Eigen::LLT<Eigen::MatrixXd>> shared;
  for (Eigen::Index c = 0; c < Y.cols(); ++c) {
    bool known = (Ns.col(c).array() != 0).any();
    if (!known && !shared) shared.emplace(K);
    Eigen::LLT<Eigen::MatrixXd> own;
    if (known) own.compute(K + Eigen::MatrixXd(Ns.col(c).asDiagonal()));
    const Eigen::LLT<Eigen::MatrixXd>& llt = known ? own : *shared;
    if (llt.info() != Eigen::Success) continue;
    Eigen::VectorXd alpha = llt.solve(Ys.col(c));
    out[c] = 0.5 * Ys.col(c).dot(alpha) + Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum() +
             0.5 * static_cast<double>(m) * log_2pi;
  }
  return out;
}

util::Result<FitSummary> Gp::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                 const Eigen::VectorXd& noise, const FitOptions& options) {
  int n = static_cast<int>(X.rows());
  if (n == 0) return util::fail("GP fit: no data", util::Error::Kind::internal);
  std::mt19937_64 rng(options.seed);
  std::vector<int> idx = fit_subset(y, options.max_points);
  int m = static_cast<int>(idx.size());
  Eigen::MatrixXd Xs(m, X.cols());
  Eigen::VectorXd ys(m), ns(m);
  for (int i = 0; i < m; ++i) {
    Xs.row(i) = X.row(idx[i]);
    Eigen::VectorXd xi = X.row(idx[i]).transpose();  // contiguous copy
    ys[i] = y[idx[i]] - prior_mean(xi.data());
    ns[i] = noise[idx[i]];
  }
  MixedKernel::Pairwise pw = kernel_.pairwise(Xs);
  Eigen::VectorXd lb, ub;
  bounds(lb, ub, options);
  std::vector<Eigen::VectorXd> starts;
  if (options.start && options.start->size() == n_hyper()) starts.push_back(*options.start);
  bool only = options.start_only && !starts.empty();
  if (!only) starts.push_back(prior_mode());
  std::normal_distribution<double> normal(0, 1);
  if (!only && options.restarts > 1) {
    // A start with short lengthscales: from the prior mode alone, L-BFGS tends
    // to stay in the "this dimension is irrelevant" basin with few data.
    Eigen::VectorXd s = prior_mode();
    for (int i = 1; i < kernel_.group_index(0); ++i)  // lengthscales only
      if (i != kernel_.mix_index()) s[i] -= 1.5 * priors_.lengthscale_sigma;
    starts.push_back(s);
  }
  for (int r = 2; !only && r < options.restarts; ++r) {
    Eigen::VectorXd s = prior_mode();
    for (int i = 0; i < s.size(); ++i) s[i] += 0.75 * normal(rng);  // within the prior's bulk
    starts.push_back(s);
  }
  FitSummary summary;
  summary.points = m;
  Objective obj;
  obj.gp = this;
  obj.pw = &pw;
  obj.y = &ys;
  obj.noise = &ns;
  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = options.max_iterations;
  param.epsilon = 1e-4;
  param.epsilon_rel = 1e-4;
  param.past = 2;
  param.delta = 1e-5;  // stop when the posterior changes by < 1e-5 relative
  param.max_linesearch = 30;
  for (Eigen::VectorXd s : starts) {
    s = s.cwiseMax(lb).cwiseMin(ub);
    LBFGSpp::LBFGSBSolver<double> solver(param);
    double fx = 0;
    try {
      solver.minimize(obj, s, fx, lb, ub);
    } catch (const std::exception&) {
      // Line search trouble: the best point seen so far stands.
    }
    ++summary.runs;
  }
  summary.evaluations = obj.evaluations;
  if (!std::isfinite(obj.best))
    return util::fail("GP fit: the likelihood could not be evaluated at any start",
                      util::Error::Kind::internal);
  summary.neg_log_posterior = obj.best;
  set_hyper(obj.best_x);
  return summary;
}

util::Status Gp::condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                           const Eigen::VectorXd& noise) {
  int n = static_cast<int>(X.rows());
  X_ = X;
  y_.resize(n);
  noise_known_ = noise;
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXd xi = X.row(i).transpose();
    y_[i] = y[i] - prior_mean(xi.data());
  }
  Eigen::MatrixXd K(n, n);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xr = X;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < j; ++i) K(i, j) = K(j, i) = kernel_.eval(Xr.row(i).data(), Xr.row(j).data());
    K(j, j) = kernel_.variance() + noise_ + noise[j];
  }
  KT_TRY(L_, cholesky_with_jitter(K));
  refresh_alpha();
  return {};
}

void Gp::refresh_alpha() {
  alpha_ = L_.triangularView<Eigen::Lower>().solve(y_);
  L_.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha_);
}

util::Status Gp::add_point(const double* x, double y, double noise) {
  int n = this->n();
  Eigen::VectorXd k(n);
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXd xi = X_.row(i).transpose();
    k[i] = kernel_.eval(xi.data(), x);
  }
  Eigen::VectorXd l = L_.triangularView<Eigen::Lower>().solve(k);
  double d2 = kernel_.variance() + noise_ + noise - l.squaredNorm();
  d2 = std::max(d2, 1e-10 * kernel_.variance());
  L_.conservativeResize(n + 1, n + 1);
  L_.col(n).setZero();
  L_.row(n).head(n) = l.transpose();
  L_(n, n) = std::sqrt(d2);
  X_.conservativeResize(n + 1, Eigen::NoChange);
  for (Eigen::Index j = 0; j < X_.cols(); ++j) X_(n, j) = x[j];
  y_.conservativeResize(n + 1);
  y_[n] = y - prior_mean(x);
  noise_known_.conservativeResize(n + 1);
  noise_known_[n] = noise;
  refresh_alpha();
  return {};
}

Eigen::VectorXd Gp::train_mean() const {
  // (K_f + D)α = y_resid  ⇒  K_f α = y_resid − Dα; add the prior mean back.
  Eigen::VectorXd m = y_ - ((noise_known_.array() + noise_) * alpha_.array()).matrix();
  for (int i = 0; i < n(); ++i) {
    Eigen::VectorXd xi = X_.row(i).transpose();
    m[i] += prior_mean(xi.data());
  }
  return m;
}

void Gp::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& var) const {
  int m = static_cast<int>(Xs.rows()), n = this->n();
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> A = X_, B = Xs;
  Eigen::MatrixXd Ks(n, m);
  for (int c = 0; c < m; ++c)
    for (int i = 0; i < n; ++i) Ks(i, c) = kernel_.eval(A.row(i).data(), B.row(c).data());
  mean = Ks.transpose() * alpha_;
  for (int c = 0; c < m; ++c) mean[c] += prior_mean(B.row(c).data());
  if (n > 0) L_.triangularView<Eigen::Lower>().solveInPlace(Ks);
  var = (kernel_.variance() - Ks.colwise().squaredNorm().transpose().array()).max(1e-12 * kernel_.variance());
}

void Gp::predict_one(const double* x, double& mean, double& var, Eigen::VectorXd* dmean,
                     Eigen::VectorXd* dvar) const {
  int n = this->n();
  Eigen::Index d = static_cast<Eigen::Index>(kernel_.n_dims());
  Eigen::VectorXd k(n);
  Eigen::MatrixXd dk;
  if (dmean || dvar) dk.resize(n, d);
  Eigen::VectorXd xi(d), gi(d);
  for (int i = 0; i < n; ++i) {
    xi = X_.row(i).transpose();
    k[i] = kernel_.eval(xi.data(), x);
    if (dmean || dvar) {
      kernel_.grad_x(x, xi.data(), gi.data());
      dk.row(i) = gi.transpose();
    }
  }
  mean = k.dot(alpha_);
  Eigen::VectorXd v = n > 0 ? Eigen::VectorXd(L_.triangularView<Eigen::Lower>().solve(k)) : k;
  var = kernel_.variance() - v.squaredNorm();
  bool floored = var < 1e-12 * kernel_.variance();
  if (floored) var = 1e-12 * kernel_.variance();
  if (dmean) *dmean = n > 0 ? Eigen::VectorXd(dk.transpose() * alpha_) : Eigen::VectorXd::Zero(d);
  if (dvar) {
    if (n > 0 && !floored) {
      Eigen::VectorXd w = L_.triangularView<Eigen::Lower>().transpose().solve(v);
      *dvar = -2.0 * (dk.transpose() * w);
    } else {
      *dvar = Eigen::VectorXd::Zero(d);
    }
  }
  if (prior_ && prior_weight_ != 0) {
    double pm = 0, pv = 0;
    Eigen::VectorXd pdm;
    prior_->predict_one(x, pm, pv, dmean ? &pdm : nullptr, nullptr);
    mean += prior_weight_ * pm;
    if (dmean) *dmean += prior_weight_ * pdm;
  }
}

}  // namespace kerntune::bo
