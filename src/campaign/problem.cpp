#include "kerntune/campaign/problem.hpp"

#include <cmath>

namespace kerntune::campaign {

bo::Problem make_problem(const space::Space& space) {
  bo::Problem p;
  for (const auto& e : space.encoding()) {
    bo::Dim d;
    switch (e.kind) {
      case space::EncodedDim::Kind::continuous: d.kind = bo::Dim::Kind::continuous; break;
      case space::EncodedDim::Kind::integer: d.kind = bo::Dim::Kind::integer; break;
      case space::EncodedDim::Kind::categorical: d.kind = bo::Dim::Kind::categorical; break;
    }
    d.levels = e.levels;
    d.categories = e.categories;
    p.dims.push_back(d);
  }
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
