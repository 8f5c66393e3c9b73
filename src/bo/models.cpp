#include "models.hpp"

#include <cmath>

#include "kerntune/bo/acquisition.hpp"

namespace kerntune::bo::detail {

util::Status Models::fantasize(const Point& x) {
  auto add = [&](Gp& gp) -> util::Status {
    double mu = 0, var = 0;
    gp.predict_one(x.data(), mu, var, nullptr, nullptr);
    return gp.add_point(x.data(), mu, 0.0);
  };
  if (objective) KT_TRY_STATUS(add(*objective));
  if (feasibility) KT_TRY_STATUS(add(*feasibility));
  for (Gp& c : constraints) KT_TRY_STATUS(add(c));
  return {};
}

void ModelAcquisition::values(const Eigen::MatrixXd& X, Eigen::VectorXd& out) const {
  Eigen::Index n = X.rows();
  out = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd mu, var;
  if (m_.mode == Mode::improve && m_.objective) {
    m_.objective->predict(X, mu, var);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (m_.acquisition == Options::Acquisition::ucb)
        out[i] += -mu[i] + kUcbBeta * std::sqrt(var[i]);
      else
        out[i] += log_ei(mu[i], var[i], m_.incumbent);
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
    for (Eigen::Index i = 0; i < n; ++i) {
      double num = mu[i] + m_.feasibility_offset + (m_.mode == Mode::find_feasible ? kFeasibilityBeta * std::sqrt(var[i]) : 0.0);
      out[i] += log_ndtr(num / std::sqrt(var[i] + kFeasibilityKappa * kFeasibilityKappa));
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
  if (m_.mode == Mode::improve && m_.objective) {
    m_.objective->predict_one(x.data(), mu, var, pdmu, pdvar);
    if (m_.acquisition == Options::Acquisition::ucb) {
      double s = std::sqrt(var);
      value += -mu + kUcbBeta * s;
      if (grad) *grad += -dmu + kUcbBeta * dvar / (2 * s);
    } else {
      double gm = 0, gv = 0;
      value += log_ei(mu, var, m_.incumbent, &gm, &gv);
      if (grad) *grad += gm * dmu + gv * dvar;
    }
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
    double s2 = var + kFeasibilityKappa * kFeasibilityKappa;
    bool optimistic = m_.mode == Mode::find_feasible;
    double sd = std::sqrt(var);
    double num = mu + m_.feasibility_offset + (optimistic ? kFeasibilityBeta * sd : 0.0);
    double u = num / std::sqrt(s2);
    value += log_ndtr(u);
    if (grad) {
      Eigen::VectorXd dnum = dmu;
      if (optimistic) dnum += kFeasibilityBeta * dvar / (2 * sd);
      *grad += d_log_ndtr(u) * (dnum / std::sqrt(s2) - u * dvar / (2 * s2));
    }
  }
  return value;
}

}  // namespace kerntune::bo::detail
