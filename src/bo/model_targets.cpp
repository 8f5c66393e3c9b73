#include "model_targets.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <limits>
#include <random>

#include "sequences.hpp"

namespace kerntune::bo::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool finite_all(const std::vector<double>& v, std::size_t n) {
  if (v.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

Eigen::MatrixXd rows_of(const std::vector<const Point*>& pts, std::size_t d) {
  Eigen::MatrixXd X(static_cast<Eigen::Index>(pts.size()), static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t j = 0; j < d; ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = (*pts[i])[j];
  return X;
}

void standardize(Eigen::VectorXd& y, double& mean, double& sd) {
  mean = y.size() ? y.mean() : 0;
  sd = y.size() > 1 ? std::sqrt((y.array() - mean).square().sum() / static_cast<double>(y.size() - 1)) : 0;
  if (!(sd > 1e-12 * std::max(1.0, std::abs(mean)))) sd = 1;
  y = (y.array() - mean) / sd;
}

/// ParEGO (Knowles 2006): objectives scaled to [0,1] over the successful
/// trials, then max_i w_i f_i + 0.05 Σ w_i f_i with w uniform on the simplex.
std::vector<double> scalarize(const std::vector<const Observation*>& ok, int n_obj, std::uint64_t seed) {
  std::vector<double> out(ok.size());
  if (n_obj == 1) {
    for (std::size_t i = 0; i < ok.size(); ++i) out[i] = ok[i]->objectives[0];
    return out;
  }
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> ex(1.0);
  std::vector<double> w(static_cast<std::size_t>(n_obj));
  double sum = 0;
  for (double& v : w) sum += (v = ex(rng));
  for (double& v : w) v /= sum;
  std::vector<double> lo(w.size(), kInf), hi(w.size(), -kInf);
  for (const auto* o : ok)
    for (std::size_t k = 0; k < w.size(); ++k) {
      lo[k] = std::min(lo[k], o->objectives[k]);
      hi[k] = std::max(hi[k], o->objectives[k]);
    }
  for (std::size_t i = 0; i < ok.size(); ++i) {
    double mx = -kInf, lin = 0;
    for (std::size_t k = 0; k < w.size(); ++k) {
      double range = hi[k] - lo[k];
      double f = range > 0 ? (ok[i]->objectives[k] - lo[k]) / range : 0.0;
      mx = std::max(mx, w[k] * f);
      lin += w[k] * f;
    }
    out[i] = mx + 0.05 * lin;
  }
  return out;
}

double yeo_johnson(double y, double lambda) {
  if (y >= 0) return std::abs(lambda) < 1e-12 ? std::log1p(y) : (std::pow(y + 1, lambda) - 1) / lambda;
  return std::abs(lambda - 2) < 1e-12 ? -std::log1p(-y) : -(std::pow(1 - y, 2 - lambda) - 1) / (2 - lambda);
}
double yeo_johnson_slope(double y, double lambda) {
  return y >= 0 ? std::pow(y + 1, lambda - 1) : std::pow(1 - y, 1 - lambda);
}
double box_cox(double y, double lambda) {
  return std::abs(lambda) < 1e-12 ? std::log(y) : (std::pow(y, lambda) - 1) / lambda;
}

}  // namespace

GpPriors feasibility_priors() {
  GpPriors p;
  p.noise_mu = -3;
  return p;
}

double Warp::apply(double y) const {
  switch (kind) {
    case Kind::identity: return y;
    case Kind::yeo_johnson: return yeo_johnson((y - center) / scale, lambda);
    case Kind::box_cox: return box_cox(y, lambda);
  }
  return y;
}

double Warp::slope(double y) const {
  switch (kind) {
    case Kind::identity: return 1;
    case Kind::yeo_johnson: return yeo_johnson_slope((y - center) / scale, lambda) / scale;
    case Kind::box_cox: return std::pow(y, lambda - 1);
  }
  return 1;
}

std::vector<Warp> warp_candidates(const Eigen::VectorXd& raw) {
  std::vector<Warp> out{Warp{}};
  if (raw.size() < 8) return out;  // too few values to tell a shape
  Eigen::VectorXd z = raw;
  double mean = 0, sd = 1;
  standardize(z, mean, sd);
  for (int i = -8; i <= 16; ++i) {
    if (i == 4) continue;  // λ = 1: the identity
    out.push_back({Warp::Kind::yeo_johnson, 0.25 * i, mean, sd});
  }
  if (raw.minCoeff() > 0) {
    // Multiplicative effects and noise (latencies, durations): a power or the log.
    for (double lambda : {-1.0, -0.5, 0.0, 0.5}) out.push_back({Warp::Kind::box_cox, lambda, 0, 1});
  }
  return out;
}

double warp_targets(const Warp& w, const Eigen::VectorXd& raw, Eigen::VectorXd& z, Eigen::VectorXd* slope) {
  Eigen::Index n = raw.size();
  z.resize(n);
  double log_jac = 0;
  if (slope) slope->resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    z[i] = w.apply(raw[i]);
    double s = w.slope(raw[i]);
    log_jac += std::log(s);
    if (slope) (*slope)[i] = s;
  }
  double mean = 0, sd = 1;
  standardize(z, mean, sd);
  if (slope) *slope /= sd;
  return log_jac - static_cast<double>(n) * std::log(sd);
}

Warp iid_warp(const Eigen::VectorXd& raw, const std::vector<Warp>& candidates) {
  if (candidates.size() < 2 || raw.size() < 2) return Warp{};
  auto n = static_cast<double>(raw.size());
  auto loglik = [&](const Warp& w) {
    Eigen::VectorXd t(raw.size());
    double jac = 0;
    for (Eigen::Index i = 0; i < raw.size(); ++i) {
      t[i] = w.apply(raw[i]);
      jac += std::log(w.slope(raw[i]));
    }
    double m2 = (t.array() - t.mean()).square().mean();
    if (!(m2 > 0) || !std::isfinite(m2) || !std::isfinite(jac)) return -kInf;
    return -0.5 * n * std::log(m2) + jac;
  };
  Warp best{};
  double identity = loglik(best), top = identity;
  for (const Warp& w : candidates) {
    double v = loglik(w);
    if (v > top) top = v, best = w;
  }
  // Keep the identity unless the transform wins by a likelihood-ratio margin.
  return top - identity < 2.0 ? Warp{} : best;
}

void set_warp(Targets& t, const Warp& w) {
  Eigen::VectorXd slope;
  warp_targets(w, t.raw_y, t.y, &slope);
  t.noise = (t.raw_noise.array() * slope.array().square()).matrix();
  t.warp = w;
}

std::optional<Warp> evidence_warp(const Gp& gp, const Targets& t, const std::vector<int>& rows) {
  if (t.warps.size() < 2 || rows.empty()) return std::nullopt;
  auto m = static_cast<Eigen::Index>(rows.size());
  auto c = static_cast<Eigen::Index>(t.warps.size());
  Eigen::MatrixXd X(m, t.X_ok.cols()), Y(m, c), N(m, c);
  Eigen::VectorXd log_jac = Eigen::VectorXd::Zero(c), z, slope;
  for (Eigen::Index i = 0; i < m; ++i) X.row(i) = t.X_ok.row(rows[static_cast<std::size_t>(i)]);
  for (Eigen::Index k = 0; k < c; ++k) {
    warp_targets(t.warps[static_cast<std::size_t>(k)], t.raw_y, z, &slope);
    for (Eigen::Index i = 0; i < m; ++i) {
      auto r = rows[static_cast<std::size_t>(i)];
      Y(i, k) = z[r];
      N(i, k) = t.raw_noise[r] * slope[r] * slope[r];
      log_jac[k] += std::log(slope[r]);
    }
  }
  Eigen::VectorXd score = gp.neg_log_likelihoods(X, Y, N) - log_jac;
  Eigen::Index current = -1, best = -1;
  for (Eigen::Index k = 0; k < c; ++k) {
    if (!std::isfinite(score[k]) || !Y.col(k).allFinite()) continue;
    if (t.warps[static_cast<std::size_t>(k)] == t.warp) current = k;
    if (best < 0 || score[k] < score[best]) best = k;
  }
  if (best < 0 || best == current) return std::nullopt;
  if (current >= 0 && score[best] > score[current] - kWarpMargin) return std::nullopt;
  return t.warps[static_cast<std::size_t>(best)];
}

double trust_region_length(const std::vector<double>& sequence, std::size_t n_initial, std::size_t dims,
                           int q) {
  constexpr double initial = 0.8, min_length = 0.5 * 0.5 * 0.5 * 0.5 * 0.5 * 0.5 * 0.5, max_length = 1.6;
  const int succ_tol = 3;
  const int fail_tol = static_cast<int>(std::ceil(std::max(4.0, static_cast<double>(dims) / 2.0) / std::max(1, q)));
  double length = initial, best = kInf;
  int succ = 0, fail = 0;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    double v = sequence[i];
    if (i < n_initial) {
      best = std::min(best, v);
      continue;
    }
    if (std::isfinite(v) && (!std::isfinite(best) || v < best - 1e-3 * std::abs(best))) {
      ++succ;
      fail = 0;
    } else {
      ++fail;
      succ = 0;
    }
    best = std::min(best, v);
    if (succ >= succ_tol) length = std::min(2 * length, max_length), succ = 0;
    if (fail >= std::max(1, fail_tol)) length /= 2, fail = 0;
    if (length < min_length) length = initial;  // restart the region around the incumbent
  }
  return length;
}

Targets make_targets(const std::vector<Dim>& dims, const std::vector<Observation>& obs,
                     const TargetOptions& o) {
  Targets t;
  std::size_t d = dims.size();
  auto n_obj = static_cast<std::size_t>(o.n_objectives);
  auto n_con = static_cast<std::size_t>(o.n_constraints);
  std::vector<const Point*> all, ok_pts;
  std::vector<const Observation*> ok;
  std::vector<int> ok_of_obs(obs.size(), -1);
  std::vector<double> lab;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const Observation& ob = obs[i];
    if (ob.x.size() != d) continue;
    all.push_back(&ob.x);
    bool good = ob.ok && finite_all(ob.objectives, n_obj);
    lab.push_back(good ? 1.0 : -1.0);
    if (good) {
      ok_of_obs[i] = static_cast<int>(ok.size());
      t.ok_index.push_back(i);
      ok.push_back(&ob);
      ok_pts.push_back(&ob.x);
    }
  }
  t.n_ok = static_cast<int>(ok.size());
  t.n_fail = static_cast<int>(all.size() - ok.size());
  t.X_all = rows_of(all, d);
  t.label = Eigen::Map<Eigen::VectorXd>(lab.data(), static_cast<Eigen::Index>(lab.size()));
  t.label_offset = t.label.size() ? t.label.mean() : 0;
  t.label.array() -= t.label_offset;
  t.X_ok = rows_of(ok_pts, d);
  for (const Point* p : ok_pts) t.points_ok.push_back(*p);

  // Constraints: each modeled on the trials that report it.
  t.feasible_ok.assign(ok.size(), true);
  for (std::size_t c = 0; c < n_con; ++c) {
    std::vector<const Point*> px;
    std::vector<double> v;
    for (std::size_t i = 0; i < ok.size(); ++i) {
      double cv = ok[i]->constraints.size() > c ? ok[i]->constraints[c] : NAN;
      if (!std::isfinite(cv)) {
        t.feasible_ok[i] = false;
        continue;
      }
      if (cv > 0) t.feasible_ok[i] = false;
      px.push_back(ok_pts[i]);
      v.push_back(cv);
    }
    ConstraintTarget ct;
    ct.X = rows_of(px, d);
    ct.y = Eigen::Map<Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
    double mean = 0, sd = 1;
    standardize(ct.y, mean, sd);
    ct.threshold = (0 - mean) / sd;
    t.cons.push_back(std::move(ct));
  }
  t.any_constraint_feasible = std::find(t.feasible_ok.begin(), t.feasible_ok.end(), true) != t.feasible_ok.end();

  // Scalar objective, transform, standardization, known noise.
  std::vector<double> raw = scalarize(ok, o.n_objectives, o.scalarization_seed);
  t.raw_y = Eigen::Map<Eigen::VectorXd>(raw.data(), static_cast<Eigen::Index>(raw.size()));
  t.raw_noise = Eigen::VectorXd::Zero(t.raw_y.size());
  if (o.n_objectives == 1) {
    for (std::size_t i = 0; i < ok.size(); ++i) {
      double nv = ok[i]->noise_var.empty() ? NAN : ok[i]->noise_var[0];
      if (std::isfinite(nv) && nv > 0) t.raw_noise[static_cast<Eigen::Index>(i)] = nv;
    }
  }
  if (o.n_objectives > 1) {
    for (std::size_t k = 0; k < n_obj; ++k) {
      Eigen::VectorXd v(t.raw_y.size()), nv = Eigen::VectorXd::Zero(t.raw_y.size());
      for (std::size_t i = 0; i < ok.size(); ++i) {
        auto r = static_cast<Eigen::Index>(i);
        v[r] = ok[i]->objectives[k];
        double n = ok[i]->noise_var.size() > k ? ok[i]->noise_var[k] : NAN;
        if (std::isfinite(n) && n > 0) nv[r] = n;
      }
      t.objective_raw.push_back(std::move(v));
      t.objective_raw_noise.push_back(std::move(nv));
    }
  }
  // The warp: first the iid choice; the optimizer may revise it by the GP's
  // evidence (bo_optimizer.cpp, docs/bo.md §3).
  t.warps = warp_candidates(t.raw_y);
  set_warp(t, iid_warp(t.raw_y, t.warps));
  // The raw sequence for the trust region, and the best feasible points.
  for (std::size_t i = 0; i < obs.size(); ++i) {
    int k = ok_of_obs[i];
    t.sequence.push_back(k >= 0 && t.feasible_ok[static_cast<std::size_t>(k)] ? raw[static_cast<std::size_t>(k)] : kInf);
  }
  std::vector<std::size_t> order(ok.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return raw[a] < raw[b]; });
  for (std::size_t i : order) {
    if (!t.feasible_ok[i]) continue;
    if (t.best_index < 0) t.best_index = static_cast<int>(i);
    t.anchors.push_back(*ok_pts[i]);
    if (t.anchors.size() >= 5) break;
  }

  // Warm start: the posterior mean of a GP on the prior campaign, weighted by
  // a ridge regression of the new targets on it (shrunk toward 1).
  if (o.prior && !o.prior->empty() && t.n_ok >= 0) {
    std::shared_ptr<const Gp> prior_gp = (o.prior_cache && o.n_objectives == 1) ? *o.prior_cache : nullptr;
    if (!prior_gp) {
      std::vector<const Point*> pp;
      std::vector<const Observation*> pok;
      for (const auto& ob : *o.prior)
        if (ob.x.size() == d && ob.ok && finite_all(ob.objectives, n_obj)) {
          pp.push_back(&ob.x);
          pok.push_back(&ob);
        }
      if (pok.size() >= 3) {
        std::vector<double> praw = scalarize(pok, o.n_objectives, o.scalarization_seed);
        Eigen::VectorXd py = Eigen::Map<Eigen::VectorXd>(praw.data(), static_cast<Eigen::Index>(praw.size()));
        Eigen::VectorXd pty;
        warp_targets(iid_warp(py, warp_candidates(py)), py, pty, nullptr);
        auto gp = std::make_shared<Gp>(dims);
        Eigen::MatrixXd PX = rows_of(pp, d);
        Eigen::VectorXd zero = Eigen::VectorXd::Zero(pty.size());
        FitOptions fo;
        fo.seed = 7;
        if (gp->fit(PX, pty, zero, fo) && gp->condition(PX, pty, zero)) prior_gp = gp;
        if (prior_gp && o.prior_cache && o.n_objectives == 1) *o.prior_cache = prior_gp;
      }
    }
    if (prior_gp) {
      constexpr double ridge = 3.0;
      double smy = 0, smm = 0;
      if (t.X_ok.rows() > 0) {
        Eigen::VectorXd pm, pv;
        prior_gp->predict(t.X_ok, pm, pv);
        smy = pm.dot(t.y);
        smm = pm.squaredNorm();
      }
      t.prior_gp = prior_gp;
      t.prior_weight = std::clamp((smy + ridge) / (smm + ridge), 0.0, 1.5);
    }
  }
  return t;
}

}  // namespace kerntune::bo::detail
