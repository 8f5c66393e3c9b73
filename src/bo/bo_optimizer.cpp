// Placeholder until the GP lands: kind bo proposes the Sobol sequence.
#include "engine.hpp"
#include "sequences.hpp"

namespace kerntune::bo::detail {
namespace {
class BoOptimizer final : public Optimizer {
 public:
  BoOptimizer(Options options, Problem problem)
      : options_(std::move(options)), problem_(std::move(problem)) {}
  void tell(const Observation&) override { ++n_obs_; }
  util::Result<std::vector<Point>> ask(int q, const std::vector<Point>& pending) override {
    if (q < 0) return util::fail("ask: q must be >= 0");
    std::vector<Point> out;
    for (int i = 0; i < q; ++i)
      out.push_back(sobol_point(problem_, options_.seed, n_obs_ + pending.size() + i));
    return out;
  }
  std::string name() const override { return "bo"; }

 private:
  Options options_;
  Problem problem_;
  std::size_t n_obs_ = 0;
};
}  // namespace

util::Result<std::unique_ptr<Optimizer>> make_bo_optimizer(const Options& options, Problem problem) {
  return std::unique_ptr<Optimizer>(std::make_unique<BoOptimizer>(options, std::move(problem)));
}
}  // namespace kerntune::bo::detail
