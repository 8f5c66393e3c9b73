#include "sequences.hpp"

#include <boost/random/sobol.hpp>
#include <cmath>

namespace kerntune::bo::detail {

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x6a09e667f3bcc908ULL;
  for (std::uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

std::mt19937_64 make_rng(std::uint64_t seed, std::size_t n_obs, std::size_t n_pending, Stream s) {
  return std::mt19937_64(derive_seed({seed, n_obs, n_pending, static_cast<std::uint64_t>(s)}));
}

std::vector<double> sobol_unit(std::size_t dims, std::uint64_t seed, std::uint64_t index) {
  std::vector<double> u(dims);
  if (dims == 0) return u;
  // Boost's tables stop at 3667 dimensions; beyond that, chain independent blocks.
  constexpr std::size_t block = 1000;
  for (std::size_t start = 0; start < dims; start += block) {
    std::size_t n = std::min(block, dims - start);
    boost::random::sobol engine(n);
    // Boost starts after the zero vector: index 0 is the zero vector itself, so
    // that indices 0..2^m-1 form a complete (t,m,s)-net.
    if (index > 0) engine.seed(index - 1);
    for (std::size_t j = 0; j < n; ++j) {
      std::uint64_t v = index > 0 ? engine() : 0;
      std::uint64_t shift = derive_seed({seed, 0x50b01ULL, start + j});
      if (start > 0) v = derive_seed({v, start});  // blocks past the first are only pseudo-random
      v ^= shift;
      // Top 53 bits → a double in [0,1).
      u[start + j] = static_cast<double>(v >> 11) * 0x1.0p-53;
    }
  }
  return u;
}

Eigen::MatrixXd sobol_units(std::size_t dims, std::uint64_t seed, std::uint64_t first, std::size_t count) {
  Eigen::MatrixXd U(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(dims));
  if (dims == 0 || count == 0) return U;
  constexpr std::size_t block = 1000;  // as in sobol_unit
  for (std::size_t start = 0; start < dims; start += block) {
    std::size_t n = std::min(block, dims - start);
    std::vector<std::uint64_t> shift(n);
    for (std::size_t j = 0; j < n; ++j) shift[j] = derive_seed({seed, 0x50b01ULL, start + j});
    boost::random::sobol engine(n);
    std::uint64_t index = first;
    if (index > 0) engine.seed(index - 1);
    for (std::size_t i = 0; i < count; ++i, ++index) {
      for (std::size_t j = 0; j < n; ++j) {
        std::uint64_t v = index > 0 ? engine() : 0;
        if (start > 0) v = derive_seed({v, start});
        v ^= shift[j];
        U(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(start + j)) = static_cast<double>(v >> 11) * 0x1.0p-53;
      }
    }
  }
  return U;
}

Point unit_to_point(const std::vector<Dim>& dims, const std::vector<double>& u) {
  Point x(dims.size());
  for (std::size_t j = 0; j < dims.size(); ++j) {
    if (dims[j].kind == Dim::Kind::categorical) {
      int k = std::max(1, dims[j].categories);
      x[j] = std::min<double>(k - 1, std::floor(u[j] * k));
    } else {
      x[j] = u[j];
    }
  }
  return x;
}

Point sobol_point(const Problem& problem, std::uint64_t seed, std::uint64_t index) {
  Point x = unit_to_point(problem.dims, sobol_unit(problem.dims.size(), seed, index));
  if (problem.repair) x = problem.repair(x);
  if (!problem.valid || problem.valid(x)) return x;
  std::mt19937_64 rng(derive_seed({seed, index, static_cast<std::uint64_t>(Stream::fallback)}));
  return problem.sample(rng);
}

}  // namespace kerntune::bo::detail
