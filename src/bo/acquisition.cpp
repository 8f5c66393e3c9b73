#include "kerntune/bo/acquisition.hpp"

#include <cmath>
#include <numbers>

namespace kerntune::bo {

namespace {
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log √(2π)
constexpr double kLogSqrtPiOver2 = 0.22579135264472743236;  // log √(π/2)

/// log(1 − exp(a)) for a < 0 (Mächler 2012).
double log1mexp(double a) {
  return a > -std::numbers::ln2 ? std::log(-std::expm1(a)) : std::log1p(-std::exp(a));
}
}  // namespace

double erfcx(double x) {
  if (x < 0) return 2 * std::exp(x * x) - erfcx(-x);
  if (x < 25) {
    long double lx = x;
    return static_cast<double>(std::exp(lx * lx) * std::erfc(lx));
  }
  // Asymptotic series 1/(x√π) Σ (−1)^k (2k−1)!! / (2x²)^k; at x ≥ 25 the
  // terms fall below 1e-20 well before they start to grow.
  double inv = 1 / (2 * x * x), term = 1, sum = 1;
  for (int k = 1; k < 12; ++k) {
    term *= -(2 * k - 1) * inv;
    sum += term;
  }
  return sum / (x * std::sqrt(std::numbers::pi));
}

double log_ndtr(double z) {
  if (z > -5) return std::log(0.5 * std::erfc(-z / std::numbers::sqrt2));
  // Φ(z) = ½ erfcx(−z/√2) e^{−z²/2}
  return std::log(0.5 * erfcx(-z / std::numbers::sqrt2)) - 0.5 * z * z;
}

double d_log_ndtr(double z) {
  if (z > -5) return std::exp(-0.5 * z * z - kLogSqrt2Pi - log_ndtr(z));
  // φ/Φ = 1 / (√(π/2) erfcx(−z/√2))
  return 1 / (std::exp(kLogSqrtPiOver2) * erfcx(-z / std::numbers::sqrt2));
}

double log_h(double z) {
  if (z > -1) {
    double phi = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
    double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
    return std::log(phi + z * cdf);
  }
  if (z > -1e7) {
    // h = φ(z)·(1 − |z|·√(π/2)·erfcx(−z/√2))
    double a = std::log(erfcx(-z / std::numbers::sqrt2) * -z) + kLogSqrtPiOver2;
    return -0.5 * z * z - kLogSqrt2Pi + log1mexp(a);
  }
  // h ≈ φ(z)/z² for |z| beyond the precision of the bracket above.
  return -0.5 * z * z - kLogSqrt2Pi - 2 * std::log(-z);
}

double d_log_h(double z) {
  if (z > -1) {
    double phi = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
    double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
    return cdf / (phi + z * cdf);
  }
  // Φ/h = m/(1 + z m) with m = Φ/φ = √(π/2) erfcx(−z/√2); log(1 + z m) = log_h − log φ.
  double log_m = kLogSqrtPiOver2 + std::log(erfcx(-z / std::numbers::sqrt2));
  double log_phi = -0.5 * z * z - kLogSqrt2Pi;
  return std::exp(log_m - (log_h(z) - log_phi));
}

double log_ei(double mean, double var, double best, double* d_mean, double* d_var) {
  double sigma = std::sqrt(std::max(var, 1e-300));
  double z = (best - mean) / sigma;
  double value = std::log(sigma) + log_h(z);
  if (d_mean || d_var) {
    double psi = d_log_h(z);
    if (d_mean) *d_mean = -psi / sigma;
    // d/dσ = 1/σ − zψ/σ; dσ/dvar = 1/(2σ)
    if (d_var) *d_var = (1 - z * psi) / sigma / (2 * sigma);
  }
  return value;
}

}  // namespace kerntune::bo
