#include "models.hpp"

#include <algorithm>
#include <cmath>

#include "kerntune/bo/acquisition.hpp"

namespace kerntune::bo::detail {

namespace {
/// log(1 − σn/√(var + σn²)) of augmented EI and its derivative over var.
double aei_factor(double noise, double var, double* d_var) {
  if (!(noise > 0)) {
    if (d_var) *d_var = 0;
    return 0;
  }
  double sn = std::sqrt(noise), t = var + noise;
  double r = sn / std::sqrt(t);
  double g = std::max(1 - r, 1e-12);
  if (d_var) *d_var = 0.5 * sn / (t * std::sqrt(t)) / g;
  return std::log(g);
}

/// The failure guard at x: log(1 − ρ^p) for the failed trial of largest
/// feasibility-kernel correlation ρ; its gradient over x in `grad` if non-null.
double failure_guard(const Gp& gp, const Eigen::MatrixXd& failed, const double* x, Eigen::Index d,
                     Eigen::VectorXd* grad) {
  if (failed.rows() == 0) return 0;
  const MixedKernel& k = gp.kernel();
  double s = k.variance(), best = -1;
  Eigen::Index arg = -1;
  Eigen::VectorXd f(d);
  for (Eigen::Index i = 0; i < failed.rows(); ++i) {
    f = failed.row(i).transpose();
    double rho = k.eval(x, f.data()) / s;
    if (rho > best) best = rho, arg = i;
  }
  double p = kFailureGuardPower;
  double rp = std::pow(std::clamp(best, 0.0, 1.0), p);
  double g = std::max(1 - rp, 1e-9);
  if (grad && arg >= 0 && best > 0 && 1 - rp > 1e-9) {
    f = failed.row(arg).transpose();
    Eigen::VectorXd dk(d);
    k.grad_x(x, f.data(), dk.data());
    *grad += (-p * rp / best / g / s) * dk;
  }
  return std::log(g);
}
/// log P(feasible) from the feasibility latent (mean mu, variance var), plus
/// the gate's penalty below m.feasibility_gate; derivatives over mu and var.
double feasibility_term(const Models& m, double mu, double var, double* d_mu, double* d_var) {
  bool optimistic = m.mode == Mode::find_feasible;
  double s2 = var + kFeasibilityKappa * kFeasibilityKappa;
  double sd = std::sqrt(var), rs = std::sqrt(s2);
  double num = mu + m.feasibility_offset + (optimistic ? kFeasibilityBeta * sd : 0.0);
  double u = num / rs;
  double lp = log_ndtr(u);
  double w = 1;
  if (!optimistic && m.feasibility_gate > 0) {
    double below = lp - std::log(m.feasibility_gate);
    if (below < 0) {
      lp += kGateSlope * below;
      w += kGateSlope;
    }
  }
  if (d_mu || d_var) {
    double dl = w * d_log_ndtr(u);
    if (d_mu) *d_mu = dl / rs;
    if (d_var) *d_var = dl * ((optimistic ? kFeasibilityBeta / (2 * sd) : 0.0) / rs - u / (2 * s2));
  }
  return lp;
}
}  // namespace

double feasibility_log_p(const Models& m, const Point& x) {
  if (!m.feasibility) return 0;
  double mu = 0, var = 0;
  m.feasibility->predict_one(x.data(), mu, var, nullptr, nullptr);
  return log_ndtr((mu + m.feasibility_offset) / std::sqrt(var + kFeasibilityKappa * kFeasibilityKappa));
}

namespace {
/// Kriging believer: conditions gp on its own posterior mean at x (the mean
/// stays as it was everywhere; the variance near x falls).
util::Status believe(Gp& gp, const double* x) {
  double mu = 0, var = 0;
  gp.predict_one(x, mu, var, nullptr, nullptr);
  return gp.add_point(x, mu, 0.0);
}
}  // namespace

util::Status condition_on_failures(Gp& gp, const Eigen::MatrixXd& failed, int max_rows) {
  for (Eigen::Index i = std::max<Eigen::Index>(0, failed.rows() - max_rows); i < failed.rows(); ++i) {
    Eigen::VectorXd xf = failed.row(i).transpose();
    KT_TRY_STATUS(believe(gp, xf.data()));
  }
  return {};
}

util::Status Models::fantasize(const Point& x) {
  if (objective) KT_TRY_STATUS(believe(*objective, x.data()));
  if (!objectives.empty()) {
    // The believed outcome joins the front: the next point of a batch is
    // worth what it adds beyond it.
    std::vector<double> mean(objectives.size());
    for (std::size_t k = 0; k < objectives.size(); ++k) {
      double var = 0;
      objectives[k].predict_one(x.data(), mean[k], var, nullptr, nullptr);
      KT_TRY_STATUS(objectives[k].add_point(x.data(), mean[k], 0.0));
    }
    front.push_back(std::move(mean));
    region = improvement_region(front, region.reference);
  }
  if (feasibility) KT_TRY_STATUS(believe(*feasibility, x.data()));
  for (Gp& c : constraints) KT_TRY_STATUS(believe(c, x.data()));
  return {};
}

void ModelAcquisition::values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const {
  Eigen::Index n = X.rows();
  out = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd mu, var;
  if (m_.mode == Mode::improve && m_.objective && m_.objectives.empty()) {
    m_.objective->predict(X, mu, var);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (m_.acquisition == Options::Acquisition::ucb)
        out[i] += -mu[i] + kUcbBeta * std::sqrt(var[i]);
      else
        out[i] += log_ei(mu[i], var[i], m_.incumbent) + aei_factor(m_.aei_noise, var[i], nullptr);
    }
  }
  if (m_.mode == Mode::improve && !m_.objectives.empty()) {
    const std::size_t k_obj = m_.objectives.size();
    Eigen::MatrixXd M(n, static_cast<Eigen::Index>(k_obj)), V(n, static_cast<Eigen::Index>(k_obj));
    for (std::size_t k = 0; k < k_obj; ++k) {
      m_.objectives[k].predict(X, mu, var);
      M.col(static_cast<Eigen::Index>(k)) = mu;
      V.col(static_cast<Eigen::Index>(k)) = var;
    }
    std::vector<double> mk(k_obj), vk(k_obj);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < k_obj; ++k) mk[k] = M(i, static_cast<Eigen::Index>(k)), vk[k] = V(i, static_cast<Eigen::Index>(k));
      out[i] += log_ehvi(m_.region, mk.data(), vk.data(), nullptr, nullptr);
    }
  }
  if (m_.mode != Mode::find_feasible) {
    for (std::size_t c = 0; c < m_.constraints.size(); ++c) {
      m_.constraints[c].predict(X, mu, var);
      for (Eigen::Index i = 0; i < n; ++i)
        out[i] += log_ndtr((m_.thresholds[c] - mu[i]) / std::sqrt(var[i]));
    }
  }
  if (m_.feasibility) {
    m_.feasibility->predict(X, mu, var);
    for (Eigen::Index i = 0; i < n; ++i) out[i] += feasibility_term(m_, mu[i], var[i], nullptr, nullptr);
    Eigen::VectorXd xi(X.cols());
    for (Eigen::Index i = 0; i < n; ++i) {
      xi = X.row(i).transpose();
      out[i] += failure_guard(*m_.feasibility, m_.failed, xi.data(), X.cols(), nullptr);
    }
  }
}

double ModelAcquisition::value_grad(const Point& x, Eigen::VectorXd* grad) const {
  Eigen::Index d = static_cast<Eigen::Index>(x.size());
  double value = 0;
  if (grad) grad->setZero(d);
  double mu = 0, var = 0;
  Eigen::VectorXd dmu, dvar;
  Eigen::VectorXd* pdmu = grad ? &dmu : nullptr;
  Eigen::VectorXd* pdvar = grad ? &dvar : nullptr;
  if (m_.mode == Mode::improve && m_.objective && m_.objectives.empty()) {
    m_.objective->predict_one(x.data(), mu, var, pdmu, pdvar);
    if (m_.acquisition == Options::Acquisition::ucb) {
      double s = std::sqrt(var);
      value += -mu + kUcbBeta * s;
      if (grad) *grad += -dmu + kUcbBeta * dvar / (2 * s);
    } else {
      double gm = 0, gv = 0;
      value += log_ei(mu, var, m_.incumbent, &gm, &gv);
      double ga = 0;
      value += aei_factor(m_.aei_noise, var, &ga);
      if (grad) *grad += gm * dmu + (gv + ga) * dvar;
    }
  }
  if (m_.mode == Mode::improve && !m_.objectives.empty()) {
    const std::size_t k_obj = m_.objectives.size();
    std::vector<double> mk(k_obj), vk(k_obj), gm(k_obj), gv(k_obj);
    std::vector<Eigen::VectorXd> dmus(grad ? k_obj : 0), dvars(grad ? k_obj : 0);
    for (std::size_t k = 0; k < k_obj; ++k)
      m_.objectives[k].predict_one(x.data(), mk[k], vk[k], grad ? &dmus[k] : nullptr, grad ? &dvars[k] : nullptr);
    value += log_ehvi(m_.region, mk.data(), vk.data(), grad ? gm.data() : nullptr, grad ? gv.data() : nullptr);
    if (grad)
      for (std::size_t k = 0; k < k_obj; ++k) *grad += gm[k] * dmus[k] + gv[k] * dvars[k];
  }
  if (m_.mode != Mode::find_feasible) {
    for (std::size_t c = 0; c < m_.constraints.size(); ++c) {
      m_.constraints[c].predict_one(x.data(), mu, var, pdmu, pdvar);
      double s = std::sqrt(var);
      double t = (m_.thresholds[c] - mu) / s;
      value += log_ndtr(t);
      // dt = −dμ/σ − t·dvar/(2 var)
      if (grad) *grad += d_log_ndtr(t) * (-dmu / s - t * dvar / (2 * var));
    }
  }
  if (m_.feasibility) {
    m_.feasibility->predict_one(x.data(), mu, var, pdmu, pdvar);
    double gm = 0, gv = 0;
    value += feasibility_term(m_, mu, var, grad ? &gm : nullptr, grad ? &gv : nullptr);
    if (grad) *grad += gm * dmu + gv * dvar;
    value += failure_guard(*m_.feasibility, m_.failed, x.data(), d, grad);
  }
  return value;
}

}  // namespace kerntune::bo::detail

namespace kerntune::bo::detail {

void ExploreAcquisition::values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const {
  Eigen::Index n = X.rows();
  out = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd mu, var;
  if (m_.objective) {
    m_.objective->predict(X, mu, var);
    out += 0.5 * var.array().log().matrix();
  }
  if (m_.feasibility) {
    m_.feasibility->predict(X, mu, var);
    Eigen::VectorXd xi(X.cols());
    for (Eigen::Index i = 0; i < n; ++i) {
      out[i] += feasibility_term(m_, mu[i], var[i], nullptr, nullptr);
      xi = X.row(i).transpose();
      out[i] += failure_guard(*m_.feasibility, m_.failed, xi.data(), X.cols(), nullptr);
    }
  }
}

double ExploreAcquisition::value_grad(const Point& x, Eigen::VectorXd* grad) const {
  // Used without gradient steps (raw candidates only); the value suffices.
  if (grad) grad->setZero(static_cast<Eigen::Index>(x.size()));
  Eigen::MatrixXd X(1, static_cast<Eigen::Index>(x.size()));
  for (std::size_t j = 0; j < x.size(); ++j) X(0, static_cast<Eigen::Index>(j)) = x[j];
  Eigen::VectorXd v;
  values(X, v);
  return v[0];
}

bool stagnating(const Gp& gp, const std::vector<Observation>& obs, int streak, double rho) {
  const MixedKernel& k = gp.kernel();
  if (streak <= 0 || obs.size() < static_cast<std::size_t>(streak) + 1) return false;
  double s = k.variance();
  for (std::size_t i = obs.size() - static_cast<std::size_t>(streak); i < obs.size(); ++i) {
    bool repeat = false;
    for (std::size_t j = 0; j < i && !repeat; ++j)
      if (obs[i].x.size() == k.n_dims() && obs[j].x.size() == k.n_dims())
        repeat = k.eval(obs[i].x.data(), obs[j].x.data()) / s >= rho;
    if (!repeat) return false;
  }
  return true;
}

}  // namespace kerntune::bo::detail
