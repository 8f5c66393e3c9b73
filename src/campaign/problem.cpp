#include "kerntune/campaign/problem.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace kerntune::campaign {

bo::Problem make_problem(const space::Space& space) {
  bo::Problem p;
  // Conditional groups (docs/bo.md §2): parameters with the same `when:` text
  // are switched on and off together, and the GP compares them only between
  // points where both have them on.
  std::vector<std::string> conditions;
  const auto& params = space.parameters();
  const auto encoding = space.encoding();
  for (std::size_t i = 0; i < encoding.size(); ++i) {
    const auto& e = encoding[i];
    bo::Dim d;
    if (i < params.size() && !params[i].when_text.empty()) {
      auto it = std::find(conditions.begin(), conditions.end(), params[i].when_text);
      d.group = static_cast<int>(it - conditions.begin());
      if (it == conditions.end()) conditions.push_back(params[i].when_text);
    }
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
