// parse_kind / to_string / make_optimizer, and the two model-free optimizers
// (random, sobol). The model-based one lives in bo_optimizer.cpp.
#include "kerntune/bo/optimizer.hpp"

#include "engine.hpp"
#include "sequences.hpp"

namespace kerntune::bo {

util::Result<Options::Kind> parse_kind(const std::string& text) {
  if (text == "random") return Options::Kind::random;
  if (text == "sobol") return Options::Kind::sobol;
  if (text == "bo") return Options::Kind::bo;
  return util::invalid_input("unknown optimizer kind '" + text + "' (expected random, sobol or bo)");
}

std::string to_string(Options::Kind kind) {
  switch (kind) {
    case Options::Kind::random: return "random";
    case Options::Kind::sobol: return "sobol";
    case Options::Kind::bo: return "bo";
  }
  return "unknown";
}

util::Result<Options::MultiObjective> parse_multi_objective(const std::string& text) {
  if (text == "parego") return Options::MultiObjective::parego;
  if (text == "ehvi") return Options::MultiObjective::ehvi;
  return util::invalid_input("unknown multi-objective method '" + text + "' (expected parego or ehvi)");
}

util::Result<Options::TrustRegion> parse_trust_region(const std::string& text) {
  if (text == "auto") return Options::TrustRegion::automatic;
  if (text == "on" || text == "true") return Options::TrustRegion::on;
  if (text == "off" || text == "false") return Options::TrustRegion::off;
  return util::invalid_input("'trust_region' is '" + text + "': use auto, on or off");
}

std::string to_string(Options::TrustRegion mode) {
  switch (mode) {
    case Options::TrustRegion::on: return "on";
    case Options::TrustRegion::off: return "off";
    case Options::TrustRegion::automatic: break;
  }
  return "auto";
}

std::string to_string(Options::MultiObjective method) {
  return method == Options::MultiObjective::ehvi ? "ehvi" : "parego";
}

namespace {

/// Uniform random valid points from problem.sample.
class RandomOptimizer final : public Optimizer {
 public:
  RandomOptimizer(Options options, Problem problem)
      : options_(std::move(options)), problem_(std::move(problem)) {}
  void tell(const Observation&) override { ++n_obs_; }
  util::Result<std::vector<Point>> ask(int q, const std::vector<Point>& pending) override {
    if (q < 0) return util::internal_error("ask: q must be >= 0");
    auto rng = detail::make_rng(options_.seed, n_obs_, pending.size(), detail::Stream::random_sample);
    std::vector<Point> out;
    for (int i = 0; i < q; ++i) out.push_back(problem_.sample(rng));
    return out;
  }
  std::string name() const override { return "random"; }

 private:
  Options options_;
  Problem problem_;
  std::size_t n_obs_ = 0;
};

/// A digitally shifted Sobol sequence; the index of the next point is the
/// number of observations plus pending points, so it is stable on resume.
class SobolOptimizer final : public Optimizer {
 public:
  SobolOptimizer(Options options, Problem problem)
      : options_(std::move(options)), problem_(std::move(problem)) {}
  void tell(const Observation&) override { ++n_obs_; }
  util::Result<std::vector<Point>> ask(int q, const std::vector<Point>& pending) override {
    if (q < 0) return util::internal_error("ask: q must be >= 0");
    std::vector<Point> out;
    for (int i = 0; i < q; ++i)
      out.push_back(detail::sobol_point(problem_, options_.seed, n_obs_ + pending.size() + i));
    return out;
  }
  std::string name() const override { return "sobol"; }

 private:
  Options options_;
  Problem problem_;
  std::size_t n_obs_ = 0;
};

}  // namespace

util::Result<std::unique_ptr<Optimizer>> make_optimizer(const Options& options, Problem problem) {
  if (!problem.repair || !problem.valid || !problem.sample)
    return util::fail("optimizer: the problem needs repair, valid and sample callbacks",
                      util::Error::Kind::internal);
  if (options.n_objectives < 1 || options.n_objectives > 8)
    return util::invalid_input("optimizer: n_objectives must be between 1 and 8");
  if (options.n_constraints < 0) return util::internal_error("optimizer: n_constraints must be >= 0");
  for (const Dim& d : problem.dims) {
    if (d.kind == Dim::Kind::categorical && d.categories < 1)
      return util::internal_error("optimizer: a categorical dimension needs at least one category");
  }
  switch (options.kind) {
    case Options::Kind::random:
      return std::unique_ptr<Optimizer>(std::make_unique<RandomOptimizer>(options, std::move(problem)));
    case Options::Kind::sobol:
      return std::unique_ptr<Optimizer>(std::make_unique<SobolOptimizer>(options, std::move(problem)));
    case Options::Kind::bo:
      return detail::make_bo_optimizer(options, std::move(problem));
  }
  return util::fail("optimizer: unknown kind", util::Error::Kind::internal);
}

}  // namespace kerntune::bo
