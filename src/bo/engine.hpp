#pragma once
// The model-based optimizer (kind: bo), internal to src/bo.
#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo::detail {

util::Result<std::unique_ptr<Optimizer>> make_bo_optimizer(const Options& options, Problem problem);

}  // namespace kerntune::bo::detail
