// The model-based optimizer (kind: bo): an initial Sobol design, then GP
// models fitted from scratch at every ask and an acquisition maximized over
// the mixed space. docs/bo.md describes every step.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine.hpp"
#include "kerntune/util/log.hpp"
#include "models.hpp"
#include "search.hpp"
#include "sequences.hpp"
#include "subset.hpp"
#include "model_targets.hpp"

namespace kerntune::bo::detail {
namespace {

/// Stagnation (docs/bo.md): this many consecutive near-duplicate
/// observations (kernel correlation >= kStagnationRho) trigger an exploration step.
constexpr int kStagnationStreak = 3;
constexpr double kStagnationRho = 0.999;
/// Branch turns (docs/bo.md §2, "Branch turns"): every this many model-based
/// proposals of a conditional space, one goes inside the least-sampled branch
/// other than the incumbent's.
constexpr int kBranchTurnEvery = 3;

/// A proposal restricted to one branch: its best observed point is the
/// centre, its best posterior mean the incumbent.
struct BranchTurn {
  Point center;
  double incumbent = 0;
  std::vector<Point> anchors;  ///< the branch's observed points, best first
};

class BoOptimizer final : public Optimizer {
 public:
  BoOptimizer(Options options, Problem problem)
      : opt_(std::move(options)), prob_(std::move(problem)) {}
  void tell(const Observation& obs) override { obs_.push_back(obs); }
  void set_cost_context(CostContext context) override { cost_ = std::move(context); }
  util::Result<std::vector<Point>> ask(int q, const std::vector<Point>& pending) override;
  std::string name() const override { return "bo"; }

 private:
  int n_initial() const;
  std::vector<Point> sobol_points(int q, const std::vector<Point>& pending) const;
  util::Result<Models> build(Targets& t, std::size_t n_pending) const;
  std::optional<TrustBox> trust_box(const Targets& t, const Models& m, int q) const;
  std::optional<BranchTurn> branch_turn(const Targets& t, const Models& m, std::size_t n_pending) const;
  std::optional<SearchResult> maximize_in_branch(Models& m, const BranchTurn& turn, SearchSpec spec,
                                                 const std::vector<Point>& excluded) const;
  SearchSpec search_spec(const Targets& t, std::size_t n_pending, int index) const;
  util::Result<Gp> fit_objective(Targets& t, const std::vector<int>& keep, std::uint64_t seed) const;
  util::Status build_ehvi(const Targets& t, Models& m, std::uint64_t fit_seed) const;
  /// EHVI in place of ParEGO: asked for, with 2–3 objectives, and no warm
  /// start (the per-objective GPs have no prior mean; ParEGO's scalar GP has).
  bool ehvi() const {
    return opt_.multi_objective == Options::MultiObjective::ehvi && opt_.n_objectives >= 2 &&
           opt_.n_objectives <= 3 && opt_.prior.empty();
  }

  /// Cost-aware search (docs/bo.md §16): the proposal `found` of the full
  /// space against the best ones with the dear coordinates held at the
  /// target's state, each judged by acquisition − log(cost); the winner.
  std::optional<SearchResult> cost_aware(const Acquisition& acq, const SearchSpec& spec,
                                         const std::vector<Point>& excluded, std::optional<SearchResult> found) const;
  /// Cost-aware start (docs/bo.md §16): when a boot at least doubles a
  /// trial's cost, every second point of the space-filling start keeps the
  /// dear coordinates of the point before it (the target's state), so the
  /// start boots half as often; its cheap coordinates stay space-filling.
  std::vector<Point> hold_initial(std::vector<Point> points, const std::vector<Point>& pending) const;
  /// The cost tier a trial at x pays from the cost context's state.
  int change_tier(const Point& x) const;

  Options opt_;
  Problem prob_;
  CostContext cost_;
  std::vector<Observation> obs_;
  std::shared_ptr<const Gp> prior_cache_;  ///< pure function of options.prior
};

int BoOptimizer::n_initial() const {
  if (opt_.n_initial > 0) return opt_.n_initial;
  int d = static_cast<int>(prob_.dims.size());
  // d + 1 Sobol points, 5 to 16. Measured for issue 18: about half as many
  // (clamp((d+2)/2 + 1, 3, 8)) made every early score worse on branin and
  // hartmann6 (docs/benchmarks.md), with the trust region on or off.
  int automatic = std::clamp(d + 1, 5, 16);
  if (!opt_.prior.empty()) automatic = std::max(2, automatic / 3);
  return automatic;
}

std::vector<Point> BoOptimizer::sobol_points(int q, const std::vector<Point>& pending) const {
  std::vector<Point> excluded = pending, out;
  for (const auto& o : obs_) excluded.push_back(o.x);
  std::uint64_t index = obs_.size() + pending.size();
  for (int i = 0; i < q; ++i) {
    Point x;
    for (int tries = 0; tries < 64; ++tries) {
      x = sobol_point(prob_, opt_.seed, index++);
      bool dup = std::any_of(excluded.begin(), excluded.end(), [&](const Point& e) { return same_point(e, x); });
      if (!dup) break;
    }
    excluded.push_back(x);
    out.push_back(std::move(x));
  }
  return out;
}

/// Hyperparameter-fit effort by data size (docs/bo.md, "Complexity").
FitOptions fit_options(std::size_t n, std::uint64_t seed) {
  FitOptions f;
  f.seed = seed;
  f.restarts = n <= 50 ? 3 : (n <= 120 ? 2 : 1);
  f.max_iterations = n <= 120 ? 50 : 30;
  f.max_points = 100;
  return f;
}

util::Result<Gp> BoOptimizer::fit_objective(Targets& t, const std::vector<int>& keep, std::uint64_t seed) const {
  Gp gp(prob_.dims);
  if (t.prior_gp) gp.set_prior_mean(t.prior_gp, t.prior_weight);
  Eigen::MatrixXd X = take_rows(t.X_ok, keep);
  Eigen::VectorXd y = take(t.y, keep), noise = take(t.noise, keep);
  FitOptions fo = fit_options(t.y.size(), seed);
  KT_TRY(auto fs, gp.fit(X, y, noise, fo));
  (void)fs;
  // Output warping (docs/bo.md §3): the warp of largest evidence under the
  // fitted hyperparameters replaces the iid choice; one short refit from there.
  std::vector<int> fit_rows = fit_subset(y, fo.max_points);
  for (int& r : fit_rows) r = keep[static_cast<std::size_t>(r)];
  if (auto w = evidence_warp(gp, t, fit_rows)) {
    util::log_debug("bo: output warp {} λ {:.2f} (evidence)", static_cast<int>(w->kind), w->lambda);
    set_warp(t, *w);
    y = take(t.y, keep);
    noise = take(t.noise, keep);
    fo.start = gp.hyper();
    fo.start_only = true;
    KT_TRY(auto refit, gp.fit(X, y, noise, fo));
    (void)refit;
  }
  KT_TRY_STATUS(gp.condition(X, y, noise));
  return gp;
}

util::Status BoOptimizer::build_ehvi(const Targets& t, Models& m, std::uint64_t fit_seed) const {
  // One GP per objective, each with its own warp and standardization (the
  // single-objective path, objective by objective); no warm-start prior.
  std::vector<std::vector<double>> observed;
  for (std::size_t i = 0; i < t.feasible_ok.size(); ++i)
    if (t.feasible_ok[i]) observed.emplace_back(t.objective_raw.size());
  for (std::size_t k = 0; k < t.objective_raw.size(); ++k) {
    Targets tk;
    tk.X_ok = t.X_ok;
    tk.raw_y = t.objective_raw[k];
    tk.raw_noise = t.objective_raw_noise[k];
    tk.warps = warp_candidates(tk.raw_y);
    // An objective with values near 0 (an exact 0 of a front's extreme, as in
    // DTLZ2) makes log / Box-Cox stretch those few into outliers that the
    // Jacobian then rewards: keep Box-Cox only while min >= 1e-3 · max.
    if (tk.raw_y.size() > 0 && tk.raw_y.minCoeff() < 1e-3 * tk.raw_y.maxCoeff())
      std::erase_if(tk.warps, [](const Warp& w) { return w.kind == Warp::Kind::box_cox; });
    set_warp(tk, iid_warp(tk.raw_y, tk.warps));
    std::vector<int> keep = bounded_subset(tk.y, opt_.max_posterior_points);
    KT_TRY(Gp gp, fit_objective(tk, keep, fit_seed + 101 + k));
    // The front in the model's units: posterior means at the feasible
    // observed points (noise-aware, like the single-objective incumbent).
    Eigen::VectorXd mu, var;
    gp.predict(t.X_ok, mu, var);
    for (std::size_t i = 0, r = 0; i < t.feasible_ok.size(); ++i)
      if (t.feasible_ok[i]) observed[r++][k] = mu[static_cast<Eigen::Index>(i)];
    (void)condition_on_failures(gp, m.failed, kMaxVisitedFailures);
    m.objectives.push_back(std::move(gp));
  }
  m.front = nondominated(observed);
  m.region = improvement_region(m.front, reference_point(observed));
  util::log_debug("bo: ehvi: {} front points, {} boxes", m.front.size(), m.region.boxes.size());
  m.mode = Mode::improve;
  return {};
}

util::Result<Models> BoOptimizer::build(Targets& t, std::size_t n_pending) const {
  Models m;
  m.acquisition = opt_.acquisition;
  std::uint64_t fit_seed = derive_seed({opt_.seed, obs_.size(), n_pending, static_cast<std::uint64_t>(Stream::restarts)});
  const int cap = opt_.max_posterior_points;
  if (t.n_fail > 0) {
    Gp gp(prob_.dims, feasibility_priors());
    // Bounded posterior: failures score lowest, so they are kept first.
    std::vector<int> keep = bounded_subset(t.label, cap);
    Eigen::MatrixXd X = take_rows(t.X_all, keep);
    Eigen::VectorXd label = take(t.label, keep), zero = Eigen::VectorXd::Zero(label.size());
    FitOptions ffo = fit_options(t.label.size(), fit_seed + 1);
    // A label-noise floor (docs/bo.md §6): interpolating the ±1 labels exactly,
    // the fit explains a few failures by short lengthscales on whichever
    // coordinates happen to separate them, and the failure stops generalizing
    // as soon as an irrelevant coordinate changes.
    ffo.min_noise = kFeasibilityNoiseFloor;
    KT_TRY(auto fs, gp.fit(X, label, zero, ffo));
    (void)fs;
    KT_TRY_STATUS(gp.condition(X, label, zero));
    if (util::log_level() >= util::LogLevel::debug) {
      std::string ls;
      for (std::size_t j = 0; j < prob_.dims.size(); ++j) ls += fmt::format(" {:.3g}", gp.kernel().lengthscale(static_cast<int>(j)));
      util::log_debug("bo: feasibility scale {:.3g} noise {:.3g} lengthscales{}", gp.kernel().variance(), gp.noise_floor(), ls);
    }
    m.feasibility = std::move(gp);
    m.feasibility_offset = t.label_offset;
    // The gate rises with the share of failed trials: the more of the space
    // fails, the less an unexplored (P ≈ prior) point is worth risking.
    double share = static_cast<double>(t.n_fail) / static_cast<double>(t.n_fail + t.n_ok);
    m.feasibility_gate = std::min(kGateMax, kGateBase + share);
    m.failed.resize(t.n_fail, t.X_all.cols());
    for (Eigen::Index i = 0, r = 0; i < t.label.size(); ++i)
      if (t.label[i] < 0) m.failed.row(r++) = t.X_all.row(i);
  }
  if (t.n_ok == 0) {
    m.mode = Mode::find_feasible;
    return m;
  }
  for (std::size_t c = 0; c < t.cons.size(); ++c) {
    const auto& ct = t.cons[c];
    if (ct.X.rows() < 2) continue;
    Gp gp(prob_.dims);
    std::vector<int> keep = bounded_subset(ct.y, cap);
    Eigen::MatrixXd X = take_rows(ct.X, keep);
    Eigen::VectorXd y = take(ct.y, keep), zero = Eigen::VectorXd::Zero(y.size());
    KT_TRY(auto fs, gp.fit(X, y, zero, fit_options(ct.y.size(), fit_seed + 2 + c)));
    (void)fs;
    KT_TRY_STATUS(gp.condition(X, y, zero));
    m.constraints.push_back(std::move(gp));
    m.thresholds.push_back(ct.threshold);
  }
  if (!t.any_constraint_feasible) {
    m.mode = Mode::find_constraints;
    return m;
  }
  // Bounded posterior: the best quarter (incumbent and anchors stay exact),
  // the recent quarter and a spread of the rest; every row below the cap.
  std::vector<int> keep = bounded_subset(t.y, cap);
  KT_TRY(Gp gp, fit_objective(t, keep, fit_seed));
  // Noise-aware incumbent: the best posterior mean among feasible observed points.
  Eigen::VectorXd mu = gp.train_mean();
  double best = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < mu.size(); ++i)
    if (t.feasible_ok[static_cast<std::size_t>(keep[static_cast<std::size_t>(i)])]) best = std::min(best, mu[i]);
  m.incumbent = best;
  // The posterior mean at every successful observation, for the trust
  // region's replay: the kept rows from the fit, the others (past the bound) predicted.
  m.ok_mean.assign(static_cast<std::size_t>(t.n_ok), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < keep.size(); ++i) m.ok_mean[static_cast<std::size_t>(keep[i])] = mu[static_cast<Eigen::Index>(i)];
  std::vector<int> rest;
  for (int k = 0; k < t.n_ok; ++k)
    if (std::isnan(m.ok_mean[static_cast<std::size_t>(k)])) rest.push_back(k);
  if (!rest.empty()) {
    Eigen::VectorXd rm, rv;
    gp.predict(take_rows(t.X_ok, rest), rm, rv);
    for (std::size_t i = 0; i < rest.size(); ++i) m.ok_mean[static_cast<std::size_t>(rest[i])] = rm[static_cast<Eigen::Index>(i)];
  }
  // Augmented EI: the noise a new observation would carry, the learned floor
  // plus the median known noise of the observations.
  double known = 0;
  if (t.noise.size() > 0) {
    std::vector<double> v(t.noise.data(), t.noise.data() + t.noise.size());
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    known = v[v.size() / 2];
  }
  m.aei_noise = gp.noise_floor() + known;
  if (util::log_level() >= util::LogLevel::debug) {
    std::string ls;
    for (std::size_t j = 0; j < prob_.dims.size(); ++j) ls += fmt::format(" {:.3g}", gp.kernel().lengthscale(static_cast<int>(j)));
    util::log_debug("bo: warp {} λ {:.2f} scale {:.3g} noise {:.3g} incumbent {:.3g} lengthscales{}",
                    static_cast<int>(t.warp.kind), t.warp.lambda, gp.kernel().variance(), gp.noise_floor(), best, ls);
  }
  // Failed trials carry no value, and none is imputed; but the objective
  // model is told that these places were visited: it is conditioned on its
  // own prediction at each (as for a pending point). The posterior mean is
  // unchanged everywhere; only the variance falls, so a region that failed is
  // no longer attractive merely because no value was ever seen there
  // (docs/bo.md §6).
  // At most the 100 most recent failures: each costs a rank-one update and
  // a row in every later prediction.
  (void)condition_on_failures(gp, m.failed, kMaxVisitedFailures);
  m.objective = std::move(gp);
  m.mode = Mode::improve;
  // EHVI: the acquisition reads one GP per objective; the scalarized model
  // above still places the trust region, the branch turns and the
  // stagnation check (docs/bo.md, "Several objectives").
  if (ehvi()) KT_TRY_STATUS(build_ehvi(t, m, fit_seed));
  return m;
}

std::optional<TrustBox> BoOptimizer::trust_box(const Targets& t, const Models& m, int q) const {
  std::size_t d = prob_.dims.size();
  // Automatic: on, except with a warm start, whose prior already says where
  // to look; a box around the few new observations would hold the search
  // away from the prior campaign's optimum.
  using TR = Options::TrustRegion;
  bool on = opt_.trust_region == TR::on || (opt_.trust_region == TR::automatic && opt_.prior.empty());
  if (!on || m.mode != Mode::improve || !m.objective || t.best_index < 0) return std::nullopt;
  // Noise-aware replay: each observation is judged by the objective's
  // posterior mean at it, not by its raw value, so a lucky noisy draw neither
  // counts as progress nor holds the centre (docs/bo.md §11). Without noise
  // the posterior mean interpolates and the order is the raw one.
  std::vector<double> sequence = t.sequence;
  std::size_t center = static_cast<std::size_t>(t.best_index);
  if (m.ok_mean.size() == t.ok_index.size()) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < t.ok_index.size(); ++k) {
      double& v = sequence[t.ok_index[k]];
      if (!std::isfinite(v)) continue;  // failed or infeasible
      v = m.ok_mean[k];
      if (v < best) best = v, center = k;
    }
  }
  double length = trust_region_length(sequence, static_cast<std::size_t>(n_initial()), d, q);
  TrustBox b;
  b.center = t.points_ok[center];
  const MixedKernel& k = m.objective->kernel();
  double log_mean = 0;
  for (int j : k.cont_dims()) log_mean += std::log(k.lengthscale(j));
  if (!k.cont_dims().empty()) log_mean /= static_cast<double>(k.cont_dims().size());
  b.lo.assign(d, 0.0);
  b.hi.assign(d, 1.0);
  for (int j : k.cont_dims()) {
    double w = std::clamp(std::exp(std::log(k.lengthscale(j)) - log_mean), 0.25, 4.0);
    double c = b.center[static_cast<std::size_t>(j)];
    if (std::isnan(c)) continue;
    b.lo[static_cast<std::size_t>(j)] = std::max(0.0, c - length * w / 2);
    b.hi[static_cast<std::size_t>(j)] = std::min(1.0, c + length * w / 2);
  }
  b.perturb_probability = std::min(1.0, 20.0 / static_cast<double>(d));
  b.max_category_changes = std::max(1, static_cast<int>(std::lround(length / 1.6 * static_cast<double>(k.cat_dims().size()))));
  return b;
}

std::optional<BranchTurn> BoOptimizer::branch_turn(const Targets& t, const Models& m, std::size_t n_pending) const {
  const bool conditional = std::any_of(prob_.dims.begin(), prob_.dims.end(), [](const Dim& d) { return d.group >= 0; });
  if (!conditional || m.mode != Mode::improve || !m.objective || m.ok_mean.size() != t.points_ok.size()) return std::nullopt;
  const std::size_t model_based = obs_.size() + n_pending - static_cast<std::size_t>(n_initial());
  if (model_based % kBranchTurnEvery != kBranchTurnEvery - 1) return std::nullopt;
  // Branches (NaN patterns) of the successful, feasible observations: their
  // members (indices into t.points_ok) and best posterior mean.
  struct Branch {
    std::vector<std::size_t> members;
    double best = std::numeric_limits<double>::infinity();
  };
  std::vector<Branch> branches;
  std::size_t incumbent = 0;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < t.points_ok.size(); ++k) {
    if (!std::isfinite(m.ok_mean[k]) || (k < t.feasible_ok.size() && !t.feasible_ok[k])) continue;
    auto it = std::find_if(branches.begin(), branches.end(),
                           [&](const Branch& b) { return same_pattern(t.points_ok[b.members.front()], t.points_ok[k]); });
    if (it == branches.end()) it = branches.insert(branches.end(), Branch{});
    it->members.push_back(k);
    it->best = std::min(it->best, m.ok_mean[k]);
    if (m.ok_mean[k] < best) best = m.ok_mean[k], incumbent = static_cast<std::size_t>(it - branches.begin());
  }
  if (branches.size() < 2) return std::nullopt;
  // The least-sampled other branch; ties go to the better one.
  std::optional<std::size_t> pick;
  for (std::size_t b = 0; b < branches.size(); ++b) {
    if (b == incumbent) continue;
    const std::size_t n = branches[b].members.size();
    if (!pick || n < branches[*pick].members.size() ||
        (n == branches[*pick].members.size() && branches[b].best < branches[*pick].best))
      pick = b;
  }
  Branch& br = branches[*pick];
  std::sort(br.members.begin(), br.members.end(), [&](std::size_t a, std::size_t b) { return m.ok_mean[a] < m.ok_mean[b]; });
  BranchTurn turn;
  turn.center = t.points_ok[br.members.front()];
  turn.incumbent = br.best;
  for (std::size_t k : br.members) turn.anchors.push_back(t.points_ok[k]);
  return turn;
}

std::optional<SearchResult> BoOptimizer::maximize_in_branch(Models& m, const BranchTurn& turn, SearchSpec spec,
                                                            const std::vector<Point>& excluded) const {
  // The space restricted to the branch, the box (if any) moved to the
  // branch's best point with the same side lengths, and improvement judged
  // against the branch's own best: a local search inside the branch.
  Problem branch = prob_;
  branch.valid = [&turn, valid = prob_.valid](const Point& x) {
    return same_pattern(x, turn.center) && (!valid || valid(x));
  };
  if (spec.box) {
    TrustBox& b = *spec.box;
    for (std::size_t j = 0; j < turn.center.size(); ++j) {
      const double half = (b.hi[j] - b.lo[j]) / 2, c = turn.center[j];
      if (std::isnan(c) || half >= 0.5) {
        b.lo[j] = 0, b.hi[j] = 1;
        continue;
      }
      b.lo[j] = std::max(0.0, c - half);
      b.hi[j] = std::min(1.0, c + half);
    }
    b.center = turn.center;
  }
  spec.anchors = turn.anchors;
  const double global = m.incumbent;
  m.incumbent = turn.incumbent;
  ModelAcquisition acq(m);
  auto found = maximize(branch, acq, spec, excluded);
  m.incumbent = global;
  if (found) util::log_debug("bo: branch turn: acquisition value {:.4g}", found->value);
  return found;
}

std::vector<Point> BoOptimizer::hold_initial(std::vector<Point> points, const std::vector<Point>& pending) const {
  const std::vector<double>& cost = cost_.cost;
  const std::size_t d = prob_.dims.size();
  if (points.size() != 1 || cost.size() < 2 || cost_.state.size() != d || !(cost.front() > 0) ||
      cost.front() > 0.5 * cost.back())
    return points;
  if ((obs_.size() + pending.size()) % 2 == 0) return points;  // this one boots; the next one stays
  Point x = points.front();
  for (std::size_t j = 0; j < d; ++j)
    if (prob_.dims[j].cost_tier > 0) x[j] = cost_.state[j];
  x = prob_.repair(x);
  std::vector<Point> excluded = pending;
  for (const auto& o : obs_) excluded.push_back(o.x);
  const bool dup = std::any_of(excluded.begin(), excluded.end(), [&](const Point& e) { return same_point(e, x); });
  if (!prob_.valid(x) || dup) return points;
  util::log_debug("bo: cost-aware start: keeping the boot for this space-filling point");
  return {x};
}

int BoOptimizer::change_tier(const Point& x) const {
  const int top = static_cast<int>(cost_.cost.size()) - 1;
  if (cost_.state.size() != x.size()) return top;
  int tier = 0;
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double a = x[j], b = cost_.state[j];
    const bool same = (std::isnan(a) && std::isnan(b)) || a == b;
    if (!same) tier = std::max(tier, std::clamp(prob_.dims[j].cost_tier, 0, top));
  }
  return tier;
}

std::optional<SearchResult> BoOptimizer::cost_aware(const Acquisition& acq, const SearchSpec& spec,
                                                    const std::vector<Point>& excluded,
                                                    std::optional<SearchResult> found) const {
  const std::vector<double>& cost = cost_.cost;
  const std::size_t d = prob_.dims.size();
  if (cost.size() < 2 || cost_.state.size() != d || opt_.acquisition == Options::Acquisition::ucb) return found;
  if (std::any_of(cost.begin(), cost.end(), [](double c) { return !(c > 0) || !std::isfinite(c); })) return found;
  if (std::all_of(cost.begin(), cost.end(), [&](double c) { return c == cost.front(); })) return found;
  auto score = [&](const SearchResult& r) { return r.value - std::log(cost[static_cast<std::size_t>(change_tier(r.x))]); };
  std::optional<SearchResult> best = found;
  int best_tier = found ? change_tier(found->x) : -1;
  // Held searches, cheapest first: tier k and below move, the rest stay.
  for (int k = 0; k + 1 < static_cast<int>(cost.size()); ++k) {
    if (found && best_tier <= k) break;  // the free proposal is already this cheap
    bool any_held = false, any_free = false;
    for (const Dim& dim : prob_.dims) (dim.cost_tier > k ? any_held : any_free) = true;
    if (!any_held || !any_free) continue;
    Problem held = prob_;
    held.repair = [this, k, repair = prob_.repair](const Point& x) {
      Point y = x;
      for (std::size_t j = 0; j < y.size(); ++j)
        if (prob_.dims[j].cost_tier > k) y[j] = cost_.state[j];
      return repair ? repair(y) : y;
    };
    held.sample = [&held, sample = prob_.sample](std::mt19937_64& rng) { return held.repair(sample(rng)); };
    SearchSpec s = spec;
    s.anchors.insert(s.anchors.begin(), cost_.state);
    if (s.box) {  // the box bounds the moving coordinates only
      for (std::size_t j = 0; j < d; ++j)
        if (prob_.dims[j].cost_tier > k) s.box->lo[j] = 0, s.box->hi[j] = 1;
    }
    auto r = maximize(held, acq, s, excluded);
    if (!r) continue;
    const int tier = change_tier(r->x);
    util::log_debug("bo: cost-aware: holding tiers > {}: acquisition {:.4g}, cost {:.3g}", k, r->value,
                    cost[static_cast<std::size_t>(tier)]);
    if (!best || score(*r) > score(*best)) best = r, best_tier = tier;
  }
  if (best && found)
    util::log_debug("bo: cost-aware: free proposal {:.4g} at cost {:.3g}; chose tier {} ({:.4g} per log cost)",
                    found->value, cost[static_cast<std::size_t>(change_tier(found->x))], best_tier, score(*best));
  return best;
}

SearchSpec BoOptimizer::search_spec(const Targets& t, std::size_t n_pending, int index) const {
  SearchSpec s;
  std::size_t n = obs_.size() + n_pending;
  // Past the bounded posterior's cap the models stop growing, and so does
  // the cost of a candidate: the raw sample stays at the cap's size.
  std::size_t n_model = n;
  if (opt_.max_posterior_points > 0) n_model = std::min(n, static_cast<std::size_t>(opt_.max_posterior_points));
  s.n_raw = static_cast<int>(std::clamp<std::size_t>(60000 / std::max<std::size_t>(n_model, 30), 128, 1024));
  s.n_perturb = s.n_raw / 3;
  s.n_starts = n > 400 ? 3 : 5;
  s.grad_iterations = n > 400 ? 15 : 25;
  if (index > 0) {
    // Later points of a batch: the models only moved by a fantasy, so a
    // lighter search (half the raw candidates, fewer and shorter local runs)
    // finds the next mode; this keeps ask(4) within ~1.5x of ask(1).
    s.n_raw = std::max(64, s.n_raw / 4);
    s.n_perturb = s.n_raw / 3;
    s.n_starts = 2;
    s.grad_iterations = 8;
    s.neighbour_rounds = 2;
  }
  s.seed = derive_seed({opt_.seed, obs_.size(), n_pending, static_cast<std::uint64_t>(Stream::candidates),
                        static_cast<std::uint64_t>(index)});
  s.anchors = t.anchors;
  return s;
}

util::Result<std::vector<Point>> BoOptimizer::ask(int q, const std::vector<Point>& pending) {
  if (q < 0) return util::internal_error("ask: q must be >= 0");
  if (q == 0) return std::vector<Point>{};
  std::size_t d = prob_.dims.size();
  TargetOptions to;
  to.n_objectives = opt_.n_objectives;
  to.n_constraints = opt_.n_constraints;
  to.scalarization_seed = derive_seed({opt_.seed, obs_.size(), static_cast<std::uint64_t>(Stream::scalarization)});
  to.prior = &opt_.prior;
  to.prior_cache = &prior_cache_;
  Targets t = make_targets(prob_.dims, obs_, to);
  bool too_early = static_cast<int>(obs_.size()) < n_initial() || (t.n_ok < 2 && t.n_fail == 0) || d == 0;
  if (too_early) return hold_initial(sobol_points(q, pending), pending);
  auto t0 = std::chrono::steady_clock::now();
  auto built = build(t, pending.size());
  auto t1 = std::chrono::steady_clock::now();
  if (!built) {
    util::log_warn("bo: model fit failed ({}); proposing space-filling points", built.error().message);
    return sobol_points(q, pending);
  }
  Models& m = *built;
  std::vector<Point> excluded = pending, out;
  for (const auto& o : obs_) excluded.push_back(o.x);
  for (const Point& p : pending)
    if (!m.fantasize(p)) break;
  std::optional<TrustBox> box = trust_box(t, m, q);
  std::optional<BranchTurn> turn = branch_turn(t, m, pending.size());
  // Stagnation: the last proposals only repeated known points (under the
  // objective's kernel), so the model believes it has nothing left to learn
  // here; one proposal goes to the most uncertain plausible point instead.
  bool explore = m.mode == Mode::improve && m.objective && kStagnationStreak > 0 &&
                 stagnating(*m.objective, obs_, kStagnationStreak, kStagnationRho);
  for (int i = 0; i < q; ++i) {
    ModelAcquisition model_acq(m);
    ExploreAcquisition explore_acq(m);
    bool exploring = explore && i == 0;
    const Acquisition& acq = exploring ? static_cast<const Acquisition&>(explore_acq) : model_acq;
    SearchSpec spec = search_spec(t, pending.size(), i);
    spec.box = box;
    if (exploring) {
      spec.box.reset();
      spec.n_perturb = 0;
      spec.grad_iterations = 0;
      spec.neighbour_rounds = 0;
      spec.n_starts = 1;
      util::log_debug("bo: stagnation: exploring");
    }
    std::optional<SearchResult> found;
    if (turn && i == 0 && !exploring) found = maximize_in_branch(m, *turn, spec, excluded);
    const bool turned = found.has_value();
    if (!found) found = maximize(prob_, acq, spec, excluded);
    if (!found && box) {  // the box may be exhausted: search everywhere
      spec.box.reset();
      found = maximize(prob_, acq, spec, excluded);
    }
    if (i == 0 && !exploring && !turned) found = cost_aware(acq, spec, excluded, std::move(found));
    if (found) util::log_debug("bo: acquisition value {:.4g}{}", found->value,
                               m.feasibility ? fmt::format(" (log P(feasible) {:.3g}, gate {:.3g})",
                                                           feasibility_log_p(m, found->x), m.feasibility_gate)
                                             : std::string());
    Point x;
    if (found) {
      x = found->x;
    } else {
      x = sobol_points(1, excluded).front();
    }
    excluded.push_back(x);
    out.push_back(x);
    if (i + 1 < q && !m.fantasize(x)) {
      // A failed fantasy leaves the models as they were; the exclusion list
      // still keeps the batch's points distinct.
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  util::log_debug("bo: n={} d={} q={}: models {:.1f} ms, acquisition {:.1f} ms", obs_.size(), d, q,
                  std::chrono::duration<double, std::milli>(t1 - t0).count(),
                  std::chrono::duration<double, std::milli>(t2 - t1).count());
  return out;
}

}  // namespace

util::Result<std::unique_ptr<Optimizer>> make_bo_optimizer(const Options& options, Problem problem) {
  return std::unique_ptr<Optimizer>(std::make_unique<BoOptimizer>(options, std::move(problem)));
}

}  // namespace kerntune::bo::detail
