#include "kerntune/campaign/problem.hpp"

#include "kerntune/results/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace kerntune::campaign {

int cost_tier(space::Domain d) {
  switch (d) {
    case space::Domain::kconfig: return 2;
    case space::Domain::cmdline: return 1;
    default: return 0;
  }
}

bo::Problem make_problem(const space::Space& space) {
  bo::Problem p;
  // Conditional groups (docs/bo.md §2): parameters with the same `when:` text
  // are switched on and off together, and the GP compares them only between
  // points where both have them on. The recommender builds the same dims.
  p.dims = results::model_dims(space);
  // Cost tiers (docs/bo.md §16): a new command line costs a boot, a new
  // Kconfig value a build and a boot; sysctls, sysfs and generic parameters
  // change on the running target.
  const auto& params = space.parameters();
  for (std::size_t i = 0; i < p.dims.size() && i < params.size(); ++i)
    p.dims[i].cost_tier = cost_tier(params[i].domain);
  const space::Space* s = &space;
  // decode() snaps integers, clamps and drops inactive parameters; a NaN in an
  // active coordinate is filled from the default by decode's contract.
  p.repair = [s](const bo::Point& x) { return s->encode(s->decode(x)); };
  p.valid = [s](const bo::Point& x) {
    auto a = s->decode(x);
    return s->validate(a).has_value();
  };
  p.sample = [s](std::mt19937_64& rng) -> bo::Point {
    auto a = s->sample(rng);
    return s->encode(a ? *a : s->defaults());
  };
  return p;
}

}  // namespace kerntune::campaign
