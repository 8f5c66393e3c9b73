#pragma once
// Numerically stable building blocks of the acquisition functions
// (docs/bo.md, "Acquisition").
//
// log_h follows Ament et al. 2023, "Unexpected Improvements to Expected
// Improvement for Bayesian Optimization" (NeurIPS), eq. (9): h(z) = φ(z) + zΦ(z)
// is evaluated directly for z > -1 and through erfcx below, so log EI keeps
// accurate values and non-vanishing gradients far from the incumbent
// (relative error ~1e-14 at z = -40 where EI itself underflows at z ≈ -38).
namespace kerntune::bo {

/// Scaled complementary error function exp(x²)·erfc(x); finite for x ≥ -26.
double erfcx(double x);
/// log Φ(z), accurate in the far left tail.
double log_ndtr(double z);
/// d/dz log Φ(z) = φ(z)/Φ(z), stable for all z.
double d_log_ndtr(double z);
/// log(φ(z) + zΦ(z)).
double log_h(double z);
/// d/dz log_h(z) = Φ(z)/h(z).
double d_log_h(double z);

/// log expected improvement below `best` of N(mean, var) (minimization):
/// log σ + log_h((best − mean)/σ). Derivatives with respect to mean and var
/// are written when the pointers are non-null.
double log_ei(double mean, double var, double best, double* d_mean = nullptr,
              double* d_var = nullptr);

}  // namespace kerntune::bo
