#include "kerntune/campaign/problem.hpp"

#include "kerntune/results/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace kerntune::campaign {

bo::Problem make_problem(const space::Space& space) {
  bo::Problem p;
  // Conditional groups (docs/bo.md §2): parameters with the same `when:` text
  // are switched on and off together, and the GP compares them only between
  // points where both have them on. The recommender builds the same dims.
  p.dims = results::model_dims(space);
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
