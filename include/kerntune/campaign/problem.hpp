#pragma once
// Adapts a search space into the optimizer's Problem (points and categories),
// so that bo never sees parameter names or domains.
#include "kerntune/bo/optimizer.hpp"
#include "kerntune/space/space.hpp"

namespace kerntune::campaign {

/// The cost tier of a parameter of this domain (bo::Dim::cost_tier): 2
/// kconfig (a build and a boot), 1 cmdline (a boot), 0 the rest (run time).
int cost_tier(space::Domain d);

/// The returned callbacks keep a pointer to `space`: it must outlive the Problem.
bo::Problem make_problem(const space::Space& space);

}  // namespace kerntune::campaign
