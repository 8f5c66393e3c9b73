#include "kerntune/bo/kernel.hpp"

#include <cmath>
#include <stdexcept>

namespace kerntune::bo {

MixedKernel::MixedKernel(const std::vector<Dim>& dims) : n_dims_(dims.size()) {
  for (std::size_t j = 0; j < dims.size(); ++j) {
    if (dims[j].kind == Dim::Kind::categorical)
      cat_.push_back(static_cast<int>(j));
    else
      cont_.push_back(static_cast<int>(j));
  }
  int next = 1;
  if (!cont_.empty() && !cat_.empty()) mix_index_ = next++;
  cont_offset_ = next;
  next += static_cast<int>(cont_.size());
  cat_offset_ = next;
  next += static_cast<int>(cat_.size());
  n_params_ = next;
  set_params(Eigen::VectorXd::Zero(n_params_));
}

void MixedKernel::set_params(const Eigen::VectorXd& theta) {
  if (theta.size() != n_params_) throw std::invalid_argument("MixedKernel::set_params: wrong size");
  theta_ = theta;
  s_ = std::exp(theta[0]);
  lambda_ = mix_index_ >= 0 ? 1.0 / (1.0 + std::exp(-theta[mix_index_])) : 0.5;
  inv_l2_cont_.resize(static_cast<Eigen::Index>(cont_.size()));
  for (std::size_t k = 0; k < cont_.size(); ++k)
    inv_l2_cont_[k] = std::exp(-2 * theta[cont_offset_ + static_cast<int>(k)]);
  inv_l2_cat_.resize(static_cast<Eigen::Index>(cat_.size()));
  for (std::size_t k = 0; k < cat_.size(); ++k)
    inv_l2_cat_[k] = std::exp(-2 * theta[cat_offset_ + static_cast<int>(k)]);
}

double MixedKernel::lengthscale(int j) const {
  for (std::size_t k = 0; k < cont_.size(); ++k)
    if (cont_[k] == j) return std::exp(theta_[cont_offset_ + static_cast<int>(k)]);
  for (std::size_t k = 0; k < cat_.size(); ++k)
    if (cat_[k] == j) return std::exp(theta_[cat_offset_ + static_cast<int>(k)]);
  throw std::out_of_range("MixedKernel::lengthscale");
}

double MixedKernel::cont_sqdist(double a, double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na && nb) return 0;
  if (na) return (b - 0.5) * (b - 0.5) + 1;
  if (nb) return (a - 0.5) * (a - 0.5) + 1;
  return (a - b) * (a - b);
}

bool MixedKernel::cat_differ(double a, double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na != nb;
  return a != b;
}

namespace {
/// k and its partial derivatives with respect to km, kc and logit λ.
struct Combine {
  double k, dkm, dkc, dmix;
};
inline Combine combine(bool mixed, double s, double lambda, double km, double kc) {
  if (mixed) {
    return {s * (lambda * km * kc + (1 - lambda) * (km + kc) / 2),
            s * (lambda * kc + (1 - lambda) / 2), s * (lambda * km + (1 - lambda) / 2),
            s * (km * kc - (km + kc) / 2) * lambda * (1 - lambda)};
  }
  return {s * km * kc, s * kc, s * km, 0};
}
}  // namespace

double MixedKernel::eval(const double* a, const double* b) const {
  double r2 = 0, h = 0;
  for (std::size_t k = 0; k < cont_.size(); ++k) r2 += cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
  for (std::size_t k = 0; k < cat_.size(); ++k)
    if (cat_differ(a[cat_[k]], b[cat_[k]])) h += inv_l2_cat_[k];
  double km = 1, g = 0;
  if (!cont_.empty()) matern52(r2, km, g);
  double kc = cat_.empty() ? 1.0 : std::exp(-0.5 * h);
  return combine(mixed(), s_, lambda_, km, kc).k;
}

void MixedKernel::grad_params(const double* a, const double* b, double* out) const {
  double r2 = 0, h = 0;
  for (std::size_t k = 0; k < cont_.size(); ++k) r2 += cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
  for (std::size_t k = 0; k < cat_.size(); ++k)
    if (cat_differ(a[cat_[k]], b[cat_[k]])) h += inv_l2_cat_[k];
  double km = 1, g = 0;
  if (!cont_.empty()) matern52(r2, km, g);
  double kc = cat_.empty() ? 1.0 : std::exp(-0.5 * h);
  Combine c = combine(mixed(), s_, lambda_, km, kc);
  out[0] = c.k;
  if (mix_index_ >= 0) out[mix_index_] = c.dmix;
  for (std::size_t k = 0; k < cont_.size(); ++k)
    out[cont_offset_ + k] = c.dkm * g * cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
  for (std::size_t k = 0; k < cat_.size(); ++k)
    out[cat_offset_ + k] = cat_differ(a[cat_[k]], b[cat_[k]]) ? c.dkc * kc * inv_l2_cat_[k] : 0.0;
}

void MixedKernel::grad_x(const double* a, const double* b, double* out) const {
  for (std::size_t j = 0; j < n_dims_; ++j) out[j] = 0;
  if (cont_.empty()) return;
  double r2 = 0, h = 0;
  for (std::size_t k = 0; k < cont_.size(); ++k) r2 += cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
  for (std::size_t k = 0; k < cat_.size(); ++k)
    if (cat_differ(a[cat_[k]], b[cat_[k]])) h += inv_l2_cat_[k];
  double km = 1, g = 0;
  matern52(r2, km, g);
  double kc = cat_.empty() ? 1.0 : std::exp(-0.5 * h);
  Combine c = combine(mixed(), s_, lambda_, km, kc);
  for (std::size_t k = 0; k < cont_.size(); ++k) {
    double av = a[cont_[k]];
    if (std::isnan(av)) continue;
    double bv = std::isnan(b[cont_[k]]) ? 0.5 : b[cont_[k]];
    // ∂km/∂a = ∂km/∂r² · 2(a-b)/ℓ² = -g (a-b)/ℓ²
    out[cont_[k]] = -c.dkm * g * (av - bv) * inv_l2_cont_[k];
  }
}

MixedKernel::Pairwise MixedKernel::pairwise(const Eigen::MatrixXd& X) const {
  Pairwise pw;
  pw.n = static_cast<int>(X.rows());
  Eigen::Index P = static_cast<Eigen::Index>(pw.n) * (pw.n - 1) / 2;
  pw.dc.resize(P, static_cast<Eigen::Index>(cont_.size()));
  pw.dk.resize(P, static_cast<Eigen::Index>(cat_.size()));
  Eigen::Index p = 0;
  for (int j = 1; j < pw.n; ++j) {
    for (int i = 0; i < j; ++i, ++p) {
      for (std::size_t k = 0; k < cont_.size(); ++k)
        pw.dc(p, static_cast<Eigen::Index>(k)) = cont_sqdist(X(i, cont_[k]), X(j, cont_[k]));
      for (std::size_t k = 0; k < cat_.size(); ++k)
        pw.dk(p, static_cast<Eigen::Index>(k)) = cat_differ(X(i, cat_[k]), X(j, cat_[k])) ? 1.0 : 0.0;
    }
  }
  return pw;
}

void MixedKernel::packed_values(const Pairwise& pw, Eigen::ArrayXd& k, Eigen::ArrayXd* km_out,
                                Eigen::ArrayXd* kc_out, Eigen::ArrayXd* g_out) const {
  Eigen::Index P = pw.dc.rows();
  Eigen::ArrayXd km = Eigen::ArrayXd::Ones(P), g = Eigen::ArrayXd::Zero(P), kc = Eigen::ArrayXd::Ones(P);
  if (!cont_.empty()) {
    Eigen::ArrayXd r2 = (pw.dc * inv_l2_cont_).array();
    for (Eigen::Index p = 0; p < P; ++p) matern52(r2[p], km[p], g[p]);
  }
  if (!cat_.empty()) kc = (-0.5 * (pw.dk * inv_l2_cat_).array()).exp();
  if (mixed())
    k = s_ * (lambda_ * km * kc + (1 - lambda_) * (km + kc) / 2);
  else
    k = s_ * km * kc;
  if (km_out) *km_out = std::move(km);
  if (kc_out) *kc_out = std::move(kc);
  if (g_out) *g_out = std::move(g);
}

Eigen::VectorXd MixedKernel::packed_grad(const Pairwise& pw, const Eigen::ArrayXd& w,
                                         const Eigen::ArrayXd& km, const Eigen::ArrayXd& kc,
                                         const Eigen::ArrayXd& g) const {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(n_params_);
  Eigen::ArrayXd dkm, dkc;
  if (mixed()) {
    Eigen::ArrayXd k = s_ * (lambda_ * km * kc + (1 - lambda_) * (km + kc) / 2);
    out[0] = (w * k).sum();
    out[mix_index_] = (w * s_ * (km * kc - (km + kc) / 2)).sum() * lambda_ * (1 - lambda_);
    dkm = s_ * (lambda_ * kc + (1 - lambda_) / 2);
    dkc = s_ * (lambda_ * km + (1 - lambda_) / 2);
  } else {
    out[0] = (w * s_ * km * kc).sum();
    dkm = s_ * kc;
    dkc = s_ * km;
  }
  if (!cont_.empty()) {
    Eigen::VectorXd b = (w * dkm * g).matrix();
    Eigen::VectorXd t = pw.dc.transpose() * b;
    for (std::size_t k = 0; k < cont_.size(); ++k) out[cont_offset_ + k] = t[k] * inv_l2_cont_[k];
  }
  if (!cat_.empty()) {
    Eigen::VectorXd b = (w * dkc * kc).matrix();
    Eigen::VectorXd t = pw.dk.transpose() * b;
    for (std::size_t k = 0; k < cat_.size(); ++k) out[cat_offset_ + k] = t[k] * inv_l2_cat_[k];
  }
  return out;
}

}  // namespace kerntune::bo
