#include "kerntune/bo/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kerntune::bo {

MixedKernel::MixedKernel(const std::vector<Dim>& dims) : n_dims_(dims.size()) {
  std::vector<int> group_ids;  // Dim::group of each group, in order of first appearance
  for (std::size_t j = 0; j < dims.size(); ++j) {
    if (dims[j].kind == Dim::Kind::categorical) {
      cat_.push_back(static_cast<int>(j));
      continue;
    }
    cont_.push_back(static_cast<int>(j));
    int g = -1;
    if (dims[j].group >= 0) {
      auto it = std::find(group_ids.begin(), group_ids.end(), dims[j].group);
      g = static_cast<int>(it - group_ids.begin());
      if (it == group_ids.end()) {
        group_ids.push_back(dims[j].group);
        group_first_.push_back(static_cast<int>(j));
      }
    }
    cont_group_.push_back(g);
  }
  int next = 1;
  if (!cont_.empty() && !cat_.empty()) mix_index_ = next++;
  cont_offset_ = next;
  next += static_cast<int>(cont_.size());
  cat_offset_ = next;
  next += static_cast<int>(cat_.size());
  group_offset_ = next;
  next += static_cast<int>(group_first_.size());
  n_params_ = next;
  set_params(Eigen::VectorXd::Zero(n_params_));
}

void MixedKernel::set_params(const Eigen::VectorXd& theta) {
  if (theta.size() != n_params_) throw std::invalid_argument("MixedKernel::set_params: wrong size");
  theta_ = theta;
  s_ = std::exp(theta[0]);
  lambda_ = mix_index_ >= 0 ? 1.0 / (1.0 + std::exp(-theta[mix_index_])) : 0.5;
  const auto nc = static_cast<Eigen::Index>(cont_.size());
  inv_l2_cont_.resize(nc);
  for (Eigen::Index k = 0; k < nc; ++k) inv_l2_cont_[k] = std::exp(-2 * theta[cont_offset_ + k]);
  inv_l2_cat_.resize(static_cast<Eigen::Index>(cat_.size()));
  for (std::size_t k = 0; k < cat_.size(); ++k)
    inv_l2_cat_[k] = std::exp(-2 * theta[cat_offset_ + static_cast<int>(k)]);
  const std::size_t ng = group_first_.size();
  inv_l2_base_ = inv_l2_cont_;
  inv_l2_group_.assign(ng, Eigen::VectorXd::Zero(nc));
  for (Eigen::Index k = 0; k < nc; ++k) {
    int g = cont_group_[static_cast<std::size_t>(k)];
    if (g < 0) continue;
    inv_l2_base_[k] = 0;
    inv_l2_group_[static_cast<std::size_t>(g)][k] = inv_l2_cont_[k];
  }
  sg_.resize(static_cast<Eigen::Index>(ng));
  variance_ = s_;
  for (std::size_t g = 0; g < ng; ++g) {
    sg_[static_cast<Eigen::Index>(g)] = std::exp(theta[group_offset_ + static_cast<int>(g)]);
    variance_ += sg_[static_cast<Eigen::Index>(g)];
  }
}

void MixedKernel::add_diagonal_grad(double t, Eigen::VectorXd& grad) const {
  grad[0] += s_ * t;
  for (int g = 0; g < n_groups(); ++g) grad[group_offset_ + g] += sg_[g] * t;
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

MixedKernel::PairTerms MixedKernel::pair_terms(const double* a, const double* b) const {
  PairTerms t;
  const std::size_t ng = group_first_.size();
  t.state.assign(ng, 0);
  t.kmg.assign(ng, 1.0);
  t.gg.assign(ng, 0.0);
  std::vector<double> r2g(ng, 0.0);
  for (std::size_t g = 0; g < ng; ++g) {
    bool on_a = group_on(static_cast<int>(g), a), on_b = group_on(static_cast<int>(g), b);
    t.state[g] = on_a && on_b ? 1 : (on_a || on_b ? -1 : 0);
  }
  double r2 = 0, h = 0;
  for (std::size_t k = 0; k < cont_.size(); ++k) {
    int g = cont_group_[k];
    if (g < 0)
      r2 += cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
    else if (t.state[static_cast<std::size_t>(g)] == 1)
      r2g[static_cast<std::size_t>(g)] += cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
  }
  for (std::size_t k = 0; k < cat_.size(); ++k)
    if (cat_differ(a[cat_[k]], b[cat_[k]])) h += inv_l2_cat_[k];
  if (!cont_.empty()) matern52(r2, t.km, t.g);
  t.kc = cat_.empty() ? 1.0 : std::exp(-0.5 * h);
  for (std::size_t g = 0; g < ng; ++g)
    if (t.state[g] == 1) matern52(r2g[g], t.kmg[g], t.gg[g]);
  return t;
}

namespace {
/// s_g·G_g of one pair (see kernel.hpp).
inline double group_value(signed char state, double sg, double kmg) {
  return state == 1 ? sg * kmg : (state == 0 ? sg : 0.0);
}
}  // namespace

double MixedKernel::eval(const double* a, const double* b) const {
  PairTerms t = pair_terms(a, b);
  double k = combine(mixed(), s_, lambda_, t.km, t.kc).k;
  for (std::size_t g = 0; g < t.state.size(); ++g)
    k += group_value(t.state[g], sg_[static_cast<Eigen::Index>(g)], t.kmg[g]);
  return k;
}

void MixedKernel::grad_params(const double* a, const double* b, double* out) const {
  PairTerms t = pair_terms(a, b);
  Combine c = combine(mixed(), s_, lambda_, t.km, t.kc);
  out[0] = c.k;
  if (mix_index_ >= 0) out[mix_index_] = c.dmix;
  for (std::size_t k = 0; k < cont_.size(); ++k) {
    double d2 = cont_sqdist(a[cont_[k]], b[cont_[k]]) * inv_l2_cont_[k];
    int g = cont_group_[k];
    if (g < 0) {
      out[cont_offset_ + k] = c.dkm * t.g * d2;
    } else {
      auto gi = static_cast<std::size_t>(g);
      out[cont_offset_ + k] = t.state[gi] == 1 ? sg_[g] * t.gg[gi] * d2 : 0.0;
    }
  }
  for (std::size_t k = 0; k < cat_.size(); ++k)
    out[cat_offset_ + k] = cat_differ(a[cat_[k]], b[cat_[k]]) ? c.dkc * t.kc * inv_l2_cat_[k] : 0.0;
  for (std::size_t g = 0; g < t.state.size(); ++g)
    out[group_offset_ + static_cast<int>(g)] = group_value(t.state[g], sg_[static_cast<Eigen::Index>(g)], t.kmg[g]);
}

void MixedKernel::grad_x(const double* a, const double* b, double* out) const {
  for (std::size_t j = 0; j < n_dims_; ++j) out[j] = 0;
  if (cont_.empty()) return;
  PairTerms t = pair_terms(a, b);
  Combine c = combine(mixed(), s_, lambda_, t.km, t.kc);
  for (std::size_t k = 0; k < cont_.size(); ++k) {
    double av = a[cont_[k]];
    if (std::isnan(av)) continue;
    double bv = std::isnan(b[cont_[k]]) ? 0.5 : b[cont_[k]];
    int g = cont_group_[k];
    // ∂km/∂a = ∂km/∂r² · 2(a-b)/ℓ² = -g (a-b)/ℓ²
    if (g < 0) {
      out[cont_[k]] = -c.dkm * t.g * (av - bv) * inv_l2_cont_[k];
    } else {
      auto gi = static_cast<std::size_t>(g);
      // A group that is on in a only: G_g = 0 whatever a's children are.
      if (t.state[gi] == 1) out[cont_[k]] = -sg_[g] * t.gg[gi] * (av - bv) * inv_l2_cont_[k];
    }
  }
}

MixedKernel::Pairwise MixedKernel::pairwise(const Eigen::MatrixXd& X) const {
  Pairwise pw;
  pw.n = static_cast<int>(X.rows());
  Eigen::Index P = static_cast<Eigen::Index>(pw.n) * (pw.n - 1) / 2;
  pw.dc.resize(P, static_cast<Eigen::Index>(cont_.size()));
  pw.dk.resize(P, static_cast<Eigen::Index>(cat_.size()));
  const auto ng = static_cast<Eigen::Index>(group_first_.size());
  pw.on.resize(P, ng);
  pw.off.resize(P, ng);
  Eigen::Index p = 0;
  for (int j = 1; j < pw.n; ++j) {
    for (int i = 0; i < j; ++i, ++p) {
      for (std::size_t k = 0; k < cont_.size(); ++k)
        pw.dc(p, static_cast<Eigen::Index>(k)) = cont_sqdist(X(i, cont_[k]), X(j, cont_[k]));
      for (std::size_t k = 0; k < cat_.size(); ++k)
        pw.dk(p, static_cast<Eigen::Index>(k)) = cat_differ(X(i, cat_[k]), X(j, cat_[k])) ? 1.0 : 0.0;
      for (Eigen::Index g = 0; g < ng; ++g) {
        int c = group_first_[static_cast<std::size_t>(g)];
        bool oi = !std::isnan(X(i, c)), oj = !std::isnan(X(j, c));
        pw.on(p, g) = oi && oj ? 1.0 : 0.0;
        pw.off(p, g) = !oi && !oj ? 1.0 : 0.0;
      }
    }
  }
  return pw;
}

void MixedKernel::packed_values(const Pairwise& pw, Eigen::ArrayXd& k, Eigen::ArrayXd* km_out,
                                Eigen::ArrayXd* kc_out, Eigen::ArrayXd* g_out) const {
  Eigen::Index P = pw.dc.rows();
  Eigen::ArrayXd km = Eigen::ArrayXd::Ones(P), g = Eigen::ArrayXd::Zero(P), kc = Eigen::ArrayXd::Ones(P);
  if (!cont_.empty()) {
    Eigen::ArrayXd r2 = (pw.dc * inv_l2_base_).array();
    for (Eigen::Index p = 0; p < P; ++p) matern52(r2[p], km[p], g[p]);
  }
  if (!cat_.empty()) kc = (-0.5 * (pw.dk * inv_l2_cat_).array()).exp();
  if (mixed())
    k = s_ * (lambda_ * km * kc + (1 - lambda_) * (km + kc) / 2);
  else
    k = s_ * km * kc;
  for (int gi = 0; gi < n_groups(); ++gi) {
    Eigen::ArrayXd r2 = (pw.dc * inv_l2_group_[static_cast<std::size_t>(gi)]).array();
    for (Eigen::Index p = 0; p < P; ++p) {
      if (pw.on(p, gi) != 0) {
        double kmg = 1, gg = 0;
        matern52(r2[p], kmg, gg);
        k[p] += sg_[gi] * kmg;
      } else if (pw.off(p, gi) != 0) {
        k[p] += sg_[gi];
      }
    }
  }
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
    // Group children are not in the base term (inv_l2_base_ is 0 there).
    for (std::size_t k = 0; k < cont_.size(); ++k) out[cont_offset_ + k] = t[k] * inv_l2_base_[k];
  }
  if (!cat_.empty()) {
    Eigen::VectorXd b = (w * dkc * kc).matrix();
    Eigen::VectorXd t = pw.dk.transpose() * b;
    for (std::size_t k = 0; k < cat_.size(); ++k) out[cat_offset_ + k] = t[k] * inv_l2_cat_[k];
  }
  Eigen::Index P = pw.dc.rows();
  for (int gi = 0; gi < n_groups(); ++gi) {
    const Eigen::VectorXd& il2 = inv_l2_group_[static_cast<std::size_t>(gi)];
    Eigen::ArrayXd r2 = (pw.dc * il2).array();
    Eigen::VectorXd b = Eigen::VectorXd::Zero(P);
    double ds = 0;
    for (Eigen::Index p = 0; p < P; ++p) {
      if (pw.on(p, gi) != 0) {
        double kmg = 1, gg = 0;
        matern52(r2[p], kmg, gg);
        ds += w[p] * sg_[gi] * kmg;
        b[p] = w[p] * sg_[gi] * gg;
      } else if (pw.off(p, gi) != 0) {
        ds += w[p] * sg_[gi];
      }
    }
    out[group_offset_ + gi] = ds;
    Eigen::VectorXd t = pw.dc.transpose() * b;
    for (std::size_t k = 0; k < cont_.size(); ++k)
      if (cont_group_[k] == gi) out[cont_offset_ + k] = t[k] * il2[static_cast<Eigen::Index>(k)];
  }
  return out;
}

}  // namespace kerntune::bo
