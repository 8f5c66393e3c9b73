#include "search.hpp"

#include <LBFGSB.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "sequences.hpp"

namespace kerntune::bo::detail {

bool same_point(const Point& a, const Point& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool na = std::isnan(a[i]), nb = std::isnan(b[i]);
    if (na != nb) return false;
    if (!na && std::abs(a[i] - b[i]) > 1e-12) return false;
  }
  return true;
}

bool same_pattern(const Point& a, const Point& b) {
  for (std::size_t j = 0; j < a.size() && j < b.size(); ++j)
    if (std::isnan(a[j]) != std::isnan(b[j])) return false;
  return a.size() == b.size();
}

namespace {

bool excluded_point(const Point& x, const std::vector<Point>& excluded) {
  return std::any_of(excluded.begin(), excluded.end(), [&](const Point& e) { return same_point(x, e); });
}

double step_of(const Dim& d) { return d.levels > 1 ? 1.0 / static_cast<double>(d.levels - 1) : 1.0; }

/// Whether gradient steps move this coordinate (continuous, or an integer
/// with enough levels that snapping after the step loses little).
bool gradient_coordinate(const Dim& d) {
  return d.kind == Dim::Kind::continuous || (d.kind == Dim::Kind::integer && d.levels > 12);
}

/// Conditional spaces: the coordinates that `repair` switches on in x (NaN
/// in x, a value after repair — a branch change activated their group) get
/// the value of the best anchor that has them active (`donors`, best first),
/// with probability 1/2 when `rng` is given, else a uniform value; categorical
/// ones a uniform category. Without such coordinates (every unconditional
/// space) x is returned untouched, so the search there is unchanged.
Point fill_activated(const Problem& p, Point x, const std::vector<Point>& donors, std::mt19937_64* rng) {
  Point r = p.repair(x);
  bool any = false;
  std::uniform_real_distribution<double> u01(0, 1);
  for (std::size_t j = 0; j < x.size() && j < r.size(); ++j) {
    if (!std::isnan(x[j]) || std::isnan(r[j])) continue;
    any = true;
    const Point* donor = nullptr;
    for (const Point& a : donors)
      if (j < a.size() && !std::isnan(a[j])) {
        donor = &a;
        break;
      }
    bool use_donor = donor && (!rng || u01(*rng) < 0.5);
    if (use_donor) {
      x[j] = (*donor)[j];
    } else if (rng) {
      const Dim& dim = p.dims[j];
      x[j] = dim.kind == Dim::Kind::categorical ? std::floor(u01(*rng) * dim.categories) : u01(*rng);
    } else {
      x[j] = r[j];  // repair's fill (the default)
    }
  }
  return any ? x : r;
}

/// Extra refinement starts for branches that have none (see maximize).
constexpr int kMaxBranchStarts = 4;

struct Candidates {
  std::vector<Point> pts;
  void add(const Problem& p, Point x, const std::vector<Point>& excluded) {
    x = p.repair(x);
    if (!p.valid(x) || excluded_point(x, excluded)) return;
    pts.push_back(std::move(x));
  }
};

Eigen::MatrixXd to_matrix(const std::vector<Point>& pts, std::size_t d) {
  Eigen::MatrixXd X(static_cast<Eigen::Index>(pts.size()), static_cast<Eigen::Index>(d));
  for (std::size_t i = 0; i < pts.size(); ++i)
    for (std::size_t j = 0; j < d; ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = pts[i][j];
  return X;
}

void raw_candidates(const Problem& p, const SearchSpec& spec, const std::vector<Point>& excluded,
                    Candidates& c) {
  std::size_t d = p.dims.size();
  std::mt19937_64 rng(derive_seed({spec.seed, 17}));
  std::uniform_real_distribution<double> u01(0, 1);
  Eigen::MatrixXd U = sobol_units(d, spec.seed, 0, static_cast<std::size_t>(std::max(0, spec.n_raw)));
  std::vector<double> u(d);
  for (int i = 0; i < spec.n_raw; ++i) {
    for (std::size_t j = 0; j < d; ++j) u[j] = U(i, static_cast<Eigen::Index>(j));
    if (!spec.box) {
      c.add(p, unit_to_point(p.dims, u), excluded);
      continue;
    }
    const TrustBox& b = *spec.box;
    Point x = b.center;
    int cat_changes = 0;
    bool changed = false;
    for (std::size_t j = 0; j < d; ++j) {
      if (u01(rng) >= b.perturb_probability) continue;
      if (p.dims[j].kind == Dim::Kind::categorical) {
        if (cat_changes >= b.max_category_changes) continue;
        ++cat_changes;
        x[j] = std::floor(u[j] * p.dims[j].categories);
      } else {
        x[j] = b.lo[j] + u[j] * (b.hi[j] - b.lo[j]);
      }
      changed = true;
    }
    if (!changed) {  // at least one coordinate moves
      std::size_t j = static_cast<std::size_t>(u01(rng) * static_cast<double>(d)) % d;
      x[j] = p.dims[j].kind == Dim::Kind::categorical ? std::floor(u[j] * p.dims[j].categories)
                                                      : b.lo[j] + u[j] * (b.hi[j] - b.lo[j]);
    }
    c.add(p, std::move(x), excluded);
  }
}

void perturbations(const Problem& p, const SearchSpec& spec, const std::vector<Point>& excluded,
                   Candidates& c) {
  if (spec.anchors.empty()) return;
  std::size_t d = p.dims.size();
  std::mt19937_64 rng(derive_seed({spec.seed, 29}));
  std::uniform_real_distribution<double> u01(0, 1);
  std::normal_distribution<double> normal(0, 1);
  double prob = std::max(0.2, std::min(1.0, 3.0 / static_cast<double>(d)));
  for (int i = 0; i < spec.n_perturb; ++i) {
    // Favour the best anchors: anchor k with weight ~ 1/(k+1).
    std::size_t k = std::min(spec.anchors.size() - 1,
                             static_cast<std::size_t>(std::floor(std::pow(u01(rng), 2) * static_cast<double>(spec.anchors.size()))));
    Point x = spec.anchors[k];
    double scale = (i % 3 == 0) ? 0.02 : (i % 3 == 1 ? 0.08 : 0.25);
    bool changed = false;
    for (std::size_t j = 0; j < d; ++j) {
      if (u01(rng) >= prob) continue;
      const Dim& dim = p.dims[j];
      if (dim.kind == Dim::Kind::categorical) {
        if (u01(rng) < 0.5) continue;
        x[j] = std::floor(u01(rng) * dim.categories);
      } else {
        double v = std::isnan(x[j]) ? u01(rng) : x[j] + scale * normal(rng);
        if (dim.kind == Dim::Kind::integer) v += (normal(rng) > 0 ? 1 : -1) * step_of(dim) * (u01(rng) < 0.5);
        x[j] = std::clamp(v, 0.0, 1.0);
        if (spec.box) x[j] = std::clamp(x[j], spec.box->lo[j], spec.box->hi[j]);
      }
      changed = true;
    }
    if (changed) c.add(p, fill_activated(p, std::move(x), spec.anchors, &rng), excluded);
  }
}

/// L-BFGS-B on the gradient coordinates of x (discrete ones held), then repair.
struct Negated {
  const Acquisition* acq;
  Point base;
  std::vector<std::size_t> free;
  double operator()(const Eigen::VectorXd& z, Eigen::VectorXd& grad) {
    Point x = base;
    for (std::size_t k = 0; k < free.size(); ++k) x[free[k]] = z[static_cast<Eigen::Index>(k)];
    Eigen::VectorXd g;
    double v = acq->value_grad(x, &g);
    grad.resize(z.size());
    for (std::size_t k = 0; k < free.size(); ++k) grad[static_cast<Eigen::Index>(k)] = -g[static_cast<Eigen::Index>(free[k])];
    if (!std::isfinite(v)) {
      grad.setZero();
      return 1e30;
    }
    return -v;
  }
};

SearchResult gradient_refine(const Problem& p, const Acquisition& acq, const SearchSpec& spec,
                             SearchResult start) {
  std::vector<std::size_t> free;
  for (std::size_t j = 0; j < p.dims.size(); ++j)
    if (gradient_coordinate(p.dims[j]) && !std::isnan(start.x[j])) free.push_back(j);
  if (free.empty() || spec.grad_iterations <= 0) return start;
  Eigen::VectorXd z(static_cast<Eigen::Index>(free.size())), lb(z.size()), ub(z.size());
  for (std::size_t k = 0; k < free.size(); ++k) {
    auto e = static_cast<Eigen::Index>(k);
    z[e] = start.x[free[k]];
    lb[e] = spec.box ? spec.box->lo[free[k]] : 0.0;
    ub[e] = spec.box ? spec.box->hi[free[k]] : 1.0;
    z[e] = std::clamp(z[e], lb[e], ub[e]);
  }
  Negated f{&acq, start.x, free};
  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = spec.grad_iterations;
  param.epsilon = 1e-6;
  param.epsilon_rel = 1e-6;
  param.max_linesearch = 20;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  double fx = 0;
  try {
    solver.minimize(f, z, fx, lb, ub);
  } catch (const std::exception&) {
    // keep z as the solver left it; checked below
  }
  Point x = start.x;
  for (std::size_t k = 0; k < free.size(); ++k) x[free[k]] = z[static_cast<Eigen::Index>(k)];
  x = p.repair(x);
  if (!p.valid(x)) return start;
  double v = acq.value_grad(x, nullptr);
  if (std::isfinite(v) && v > start.value) return {x, v};
  return start;
}

SearchResult neighbour_refine(const Problem& p, const Acquisition& acq, const SearchSpec& spec,
                              SearchResult cur, const std::vector<Point>& excluded) {
  std::size_t d = p.dims.size();
  for (int round = 0; round < spec.neighbour_rounds; ++round) {
    Candidates nb;
    for (std::size_t j = 0; j < d; ++j) {
      const Dim& dim = p.dims[j];
      if (std::isnan(cur.x[j])) continue;
      if (dim.kind == Dim::Kind::categorical) {
        for (int c = 0; c < dim.categories; ++c) {
          if (c == static_cast<int>(cur.x[j])) continue;
          Point x = cur.x;
          x[j] = c;
          // A branch change: besides repair's fill of the children it
          // activates, the children of the best observed point in that branch.
          Point filled = fill_activated(p, x, spec.anchors, nullptr);
          if (!same_point(p.repair(filled), p.repair(x))) nb.add(p, std::move(filled), excluded);
          nb.add(p, std::move(x), excluded);
        }
      } else if (dim.kind == Dim::Kind::integer) {
        // The nearest one or two distinct values on each side. Steps grow
        // until repair lands on a new value, since the encoding of an integer
        // need not be uniform (log-scaled ranges).
        for (double dir : {-1.0, 1.0}) {
          int found = 0;
          double last = cur.x[j];
          for (int k = 1; k <= 64 && found < 2; ++k) {
            Point x = cur.x;
            x[j] = cur.x[j] + dir * k * step_of(dim);
            if (x[j] < -1e-9 || x[j] > 1 + 1e-9) break;
            if (spec.box && (x[j] < spec.box->lo[j] - 1e-9 || x[j] > spec.box->hi[j] + 1e-9)) break;
            Point r = p.repair(x);
            if (std::isnan(r[j]) || std::abs(r[j] - last) < 1e-12) continue;
            last = r[j];
            ++found;
            nb.add(p, std::move(x), excluded);
          }
        }
      }
    }
    if (nb.pts.empty()) break;
    Eigen::VectorXd vals;
    acq.values(to_matrix(nb.pts, d), vals);
    Eigen::Index best = 0;
    vals.maxCoeff(&best);
    if (!(vals[best] > cur.value + 1e-12)) break;
    cur = {nb.pts[static_cast<std::size_t>(best)], vals[best]};
  }
  return cur;
}

}  // namespace

std::optional<SearchResult> maximize(const Problem& problem, const Acquisition& acq,
                                     const SearchSpec& spec, const std::vector<Point>& excluded) {
  std::size_t d = problem.dims.size();
  Candidates c;
  raw_candidates(problem, spec, excluded, c);
  std::size_t n_space_filling = c.pts.size();
  perturbations(problem, spec, excluded, c);
  if (c.pts.empty()) return std::nullopt;
  Eigen::VectorXd vals;
  acq.values(to_matrix(c.pts, d), vals);
  auto value = [&](std::size_t i) {
    double v = vals[static_cast<Eigen::Index>(i)];
    return std::isfinite(v) ? v : -1e300;
  };
  std::vector<std::size_t> order(c.pts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return value(a) > value(b); });
  // Starts: the best candidates overall, but at least a third of them from the
  // space-filling set, so that distant modes of the acquisition get refined
  // even when perturbations of the incumbent crowd the top of the list.
  std::vector<std::size_t> starts_idx;
  int want_global = std::max(1, spec.n_starts / 3);
  for (std::size_t i : order) {
    if (static_cast<int>(starts_idx.size()) >= spec.n_starts - want_global) break;
    starts_idx.push_back(i);
  }
  for (std::size_t i : order) {
    if (static_cast<int>(starts_idx.size()) >= spec.n_starts) break;
    if (i < n_space_filling && std::find(starts_idx.begin(), starts_idx.end(), i) == starts_idx.end())
      starts_idx.push_back(i);
  }
  // Conditional spaces: one more start per branch (NaN pattern) that has no
  // start yet — its best candidate — so each branch's own acquisition
  // maximum gets refined even when another branch crowds the top of the
  // list. A space without conditions has one pattern: nothing is added.
  {
    std::vector<std::size_t> patterns;  // candidate index standing for each pattern among the starts
    for (std::size_t i : starts_idx)
      if (std::none_of(patterns.begin(), patterns.end(), [&](std::size_t q) { return same_pattern(c.pts[q], c.pts[i]); }))
        patterns.push_back(i);
    int extra = 0;
    for (std::size_t i : order) {
      if (extra >= kMaxBranchStarts) break;
      if (std::any_of(patterns.begin(), patterns.end(), [&](std::size_t q) { return same_pattern(c.pts[q], c.pts[i]); }))
        continue;
      patterns.push_back(i);
      starts_idx.push_back(i);
      ++extra;
    }
  }
  std::optional<SearchResult> best;
  std::vector<Point> seen;
  for (std::size_t i : starts_idx) {
    const Point& x0 = c.pts[i];
    if (excluded_point(x0, seen)) continue;
    seen.push_back(x0);
    SearchResult r{x0, value(i)};
    r = gradient_refine(problem, acq, spec, r);
    Point before = r.x;
    r = neighbour_refine(problem, acq, spec, r, excluded);
    if (!same_pattern(before, r.x)) {  // moved to another branch: refine inside it
      r = gradient_refine(problem, acq, spec, r);
      r = neighbour_refine(problem, acq, spec, r, excluded);
    }
    if (excluded_point(r.x, excluded)) continue;
    if (!best || r.value > best->value) best = r;
  }
  if (!best) {
    std::size_t i = order.front();
    best = SearchResult{c.pts[i], vals[static_cast<Eigen::Index>(i)]};
  }
  return best;
}

}  // namespace kerntune::bo::detail
