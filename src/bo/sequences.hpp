#pragma once
// Deterministic randomness for the optimizers (internal to src/bo).
//
// Every random choice is derived from (seed, number of observations, number of
// pending points, purpose) through splitmix64, never from a stream that lives
// between calls: see the determinism contract in optimizer.hpp.
#include <Eigen/Core>
#include <cstdint>
#include <random>
#include <vector>

#include "kerntune/bo/optimizer.hpp"

namespace kerntune::bo::detail {

/// splitmix64 finalizer: a bijective 64-bit mix.
std::uint64_t mix64(std::uint64_t x);
/// A seed from a list of integers (order matters).
std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts);

/// Purposes, so that streams derived from the same counters never coincide.
enum class Stream : std::uint64_t {
  random_sample = 1, sobol_shift, candidates, restarts, scalarization, fallback, trust_region
};
std::mt19937_64 make_rng(std::uint64_t seed, std::size_t n_obs, std::size_t n_pending, Stream s);

/// Point `index` of a digitally shifted (XOR-scrambled by `seed`) Sobol
/// sequence in [0,1)^dims. The shift preserves the net property of the sequence.
std::vector<double> sobol_unit(std::size_t dims, std::uint64_t seed, std::uint64_t index);
/// Points first .. first+count-1 of the same sequence, one per row: equal to
/// sobol_unit(dims, seed, first + i) for each i, but the generator and the
/// shifts are set up once (the raw candidates of a search draw hundreds).
Eigen::MatrixXd sobol_units(std::size_t dims, std::uint64_t seed, std::uint64_t first, std::size_t count);

/// Maps a unit-cube vector onto the point encoding of `dims`: continuous and
/// integer coordinates stay in [0,1] (repair snaps integers), categoricals
/// become floor(u * categories).
Point unit_to_point(const std::vector<Dim>& dims, const std::vector<double>& u);

/// Sobol point `index` mapped, repaired and checked; if it is not valid, a
/// problem.sample() drawn from an RNG derived from (seed, index).
Point sobol_point(const Problem& problem, std::uint64_t seed, std::uint64_t index);

}  // namespace kerntune::bo::detail
