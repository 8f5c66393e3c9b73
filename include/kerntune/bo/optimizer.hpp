#pragma once
// The optimizer interface (ask/tell). It sees points and categories only —
// never a sysctl, a symbol or a file. The campaign adapts a search space into
// a Problem (callbacks for validity, repair and sampling).
//
// Determinism contract: an optimizer built with the same Options and told the
// same observations in the same order returns the same proposals from ask().
// Implementations derive their randomness from (seed, number of observations,
// number of pending points), never from a stream that survives between calls,
// so a resumed campaign that replays its stored trials proposes exactly what
// the uninterrupted one would have.
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::bo {

/// One coordinate of a point.
struct Dim {
  enum class Kind { continuous, integer, categorical };
  Kind kind = Kind::continuous;
  long long levels = 0;  ///< integer: number of distinct values; the coordinate is in [0,1]
  int categories = 0;    ///< categorical: the coordinate is an index 0..categories-1
  /// Conditional group (docs/bo.md §2, "Conditional groups"): continuous and
  /// integer coordinates with the same group id >= 0 are active together (one
  /// `when:` condition); the kernel compares them only between points where
  /// the group is active in both. -1: not in a group (the flat treatment).
  int group = -1;
  /// Cost-aware search (docs/bo.md §16): how dear a change of this
  /// coordinate is, 0 (cheap) and up. A trial costs by the dearest tier it
  /// changes from the point the target holds (CostContext). The optimizer
  /// knows tiers only as numbers.
  int cost_tier = 0;
};

/// A point: continuous/integer coordinates in [0,1], categorical as an index,
/// NaN for a coordinate that is inactive (a conditional parameter switched off).
using Point = std::vector<double>;

struct Problem {
  std::vector<Dim> dims;
  /// Canonical form of a point: integers snapped, inactive coordinates set to
  /// NaN, active ones that were NaN filled in. Must be idempotent.
  std::function<Point(const Point&)> repair;
  /// True when the (repaired) point satisfies every condition and constraint.
  std::function<bool(const Point&)> valid;
  /// A uniformly random valid point.
  std::function<Point(std::mt19937_64&)> sample;
};

/// One finished trial, as the optimizer learns from it.
struct Observation {
  Point x;
  /// false: the trial failed (build/boot/crash/timeout); `objectives` is ignored.
  /// An ok trial with fewer than n_objectives values or a non-finite one is
  /// treated as failed as well (docs/bo.md, "Failures").
  bool ok = true;
  /// One value per objective, to be MINIMIZED (the campaign negates maximized metrics).
  std::vector<double> objectives;
  /// Variance of each objective's value (variance of the mean over repeats); NaN if unknown.
  std::vector<double> noise_var;
  /// Outcome constraints, satisfied when <= 0 (e.g. memory_mb - 512).
  std::vector<double> constraints;
};

struct Options {
  enum class Kind { random, sobol, bo };
  Kind kind = Kind::bo;
  std::uint64_t seed = 0;
  int n_objectives = 1;
  int n_constraints = 0;
  /// Proposals drawn space-filling before the model takes over (bo only); 0 = automatic.
  int n_initial = 0;
  enum class Acquisition { log_ei, ucb };
  Acquisition acquisition = Acquisition::log_ei;
  /// Several objectives (docs/bo.md §9): `ehvi` (the default, measured better
  /// in docs/benchmarks.md) fits one GP per objective and maximizes the exact
  /// log expected hypervolume improvement (2–3 objectives; with more, or
  /// with a warm-start prior, ParEGO is used); `parego` fits one GP to a random Chebyshev scalarization per
  /// ask and maximizes its log-EI.
  enum class MultiObjective { parego, ehvi };
  MultiObjective multi_objective = MultiObjective::ehvi;
  /// Trust-region mode (docs/bo.md §11): automatic is on, except with a
  /// warm-start prior (which already says where to look).
  enum class TrustRegion { automatic, off, on };
  TrustRegion trust_region = TrustRegion::automatic;
  /// Prior observations from a related campaign (warm start), same dims.
  std::vector<Observation> prior;
  /// Bounded posterior (docs/bo.md, "Bounded posterior"): a model with more
  /// observations than this is fitted and conditioned on this many of them
  /// (the best quarter, the most recent quarter, an even spread of the rest),
  /// so a long campaign's ask costs about what it costs at this size.
  /// 0 = no bound. Below the bound nothing changes.
  int max_posterior_points = 400;
};

/// Parses "random" | "sobol" | "bo".
util::Result<Options::Kind> parse_kind(const std::string& text);
std::string to_string(Options::Kind kind);
/// Parses "auto" | "on" | "off" (and "true" / "false").
util::Result<Options::TrustRegion> parse_trust_region(const std::string& text);
std::string to_string(Options::TrustRegion mode);
/// Parses "parego" | "ehvi".
util::Result<Options::MultiObjective> parse_multi_objective(const std::string& text);
std::string to_string(Options::MultiObjective method);

/// Cost-aware search (docs/bo.md §16): the point whose dear coordinates the
/// target holds now and what a trial costs by the dearest tier it changes.
/// ask() then weighs each candidate's acquisition by its cost: besides its
/// usual proposal it searches with the dear coordinates held at `state` and
/// proposes the best acquisition per unit cost.
struct CostContext {
  /// The point the target holds (the last trial's); empty: nothing booted,
  /// every candidate costs `cost.back()`.
  Point state;
  /// cost[k] > 0: a trial whose dearest changed coordinate has cost_tier k
  /// (cost[0]: only tier-0 coordinates change). Empty or all equal: off.
  std::vector<double> cost;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// The cost context for the following ask() calls (default: ignored; the
  /// `bo` kind uses it). Proposals stay a pure function of options,
  /// observations, pending points and this context.
  virtual void set_cost_context(CostContext context) { (void)context; }
  /// Records a finished trial.
  virtual void tell(const Observation& obs) = 0;
  /// Proposes q new valid points, aware of the points still being evaluated.
  virtual util::Result<std::vector<Point>> ask(int q, const std::vector<Point>& pending) = 0;
  virtual std::string name() const = 0;
};

/// Builds the optimizer Options.kind names.
util::Result<std::unique_ptr<Optimizer>> make_optimizer(const Options& options, Problem problem);

}  // namespace kerntune::bo
