#pragma once
// Helpers shared inside the stats module.
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::stats::detail {

/// invalid_input unless every value is finite.
util::Status check_finite(const std::vector<double>& x, std::string_view name);

/// Standard normal upper tail P(Z > z), accurate far into the tail.
double normal_sf(double z);
/// Standard normal quantile Φ⁻¹(p), 0 < p < 1.
double normal_quantile(double p);

/// Uniform index in [0, n) by rejection (unbiased, and the same on every
/// platform, unlike std::uniform_int_distribution).
inline std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  auto bound = static_cast<std::uint64_t>(n);
  std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod n
  while (true) {
    std::uint64_t r = rng();
    if (r >= threshold) return static_cast<std::size_t>(r % bound);
  }
}

/// Ranks 1..n with ties given their average rank (scipy's rankdata "average").
std::vector<double> average_ranks(const std::vector<double>& x);
/// Σ (t³ - t) over groups of tied values (t = group size).
double tie_term(const std::vector<double>& x);

}  // namespace kerntune::stats::detail
