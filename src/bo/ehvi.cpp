#include "ehvi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "kerntune/bo/acquisition.hpp"

namespace kerntune::bo::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log √(2π)
/// Below this variance an objective is treated as known exactly.
constexpr double kCertainVar = 1e-200;

using Pts = std::vector<const std::vector<double>*>;

/// Boxes of the region below `ref` that no member of `pts` dominates, over the
/// first k objectives (the others of `box` already set by the caller).
void region_boxes(Pts pts, int k, const std::vector<double>& ref, HvBox& box, std::vector<HvBox>& out) {
  auto last = static_cast<std::size_t>(k - 1);
  if (k == 1) {
    double hi = ref[0];
    for (const auto* p : pts) hi = std::min(hi, (*p)[0]);
    box.lo[0] = -kInf;
    box.hi[0] = hi;
    out.push_back(box);
    return;
  }
  // Slabs along objective k−1: in [z_j, z_{j+1}) the first j points (by that
  // objective) are the ones that can dominate.
  std::stable_sort(pts.begin(), pts.end(), [&](const auto* a, const auto* b) { return (*a)[last] < (*b)[last]; });
  for (std::size_t j = 0; j <= pts.size(); ++j) {
    double lo = j == 0 ? -kInf : (*pts[j - 1])[last];
    double hi = j == pts.size() ? ref[last] : (*pts[j])[last];
    if (!(hi > lo)) continue;
    box.lo[last] = lo;
    box.hi[last] = hi;
    region_boxes(Pts(pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(j)), k - 1, ref, box, out);
  }
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/// log(e^a − e^b) for b < a (−∞ when b >= a; a when b is −∞).
double log_diff(double a, double b) {
  if (b == -kInf) return a;
  if (!(b < a)) return -kInf;
  double d = b - a;
  return a + (d > -std::numbers::ln2 ? std::log(-std::expm1(d)) : std::log1p(-std::exp(d)));
}

/// What one bound contributes to every box that uses it.
struct BoundTerms {
  double z = 0, log_h = -kInf, log_cdf = -kInf, log_sf = 0, log_pdf = -kInf;
};

}  // namespace

std::vector<std::vector<double>> nondominated(const std::vector<std::vector<double>>& points) {
  std::vector<std::vector<double>> out;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool keep = true;
    for (std::size_t j = 0; j < points.size() && keep; ++j)
      keep = !dominates(points[j], points[i]) && !(j < i && points[j] == points[i]);
    if (keep) out.push_back(points[i]);
  }
  return out;
}

std::vector<double> reference_point(const std::vector<std::vector<double>>& observed) {
  if (observed.empty()) return {};
  std::size_t m = observed.front().size();
  std::vector<double> lo(m, kInf), hi(m, -kInf), nadir(m, -kInf);
  for (const auto& p : observed)
    for (std::size_t k = 0; k < m; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
  for (const auto& p : nondominated(observed))
    for (std::size_t k = 0; k < m; ++k) nadir[k] = std::max(nadir[k], p[k]);
  std::vector<double> ref(m);
  for (std::size_t k = 0; k < m; ++k) ref[k] = nadir[k] + std::max(kReferenceMargin * (hi[k] - lo[k]), kReferenceFloor);
  return ref;
}

ImprovementRegion improvement_region(const std::vector<std::vector<double>>& front,
                                     const std::vector<double>& reference) {
  ImprovementRegion r;
  r.n_objectives = static_cast<int>(reference.size());
  r.reference = reference;
  const std::size_t m = reference.size();
  if (m == 0) return r;
  Pts below;
  for (const auto& p : front) {
    bool in = p.size() == m;
    for (std::size_t k = 0; k < m && in; ++k) in = p[k] < reference[k];
    if (in) below.push_back(&p);
  }
  HvBox box{std::vector<double>(m), std::vector<double>(m)};
  region_boxes(below, r.n_objectives, reference, box, r.boxes);
  r.bounds.assign(m, {});
  for (std::size_t k = 0; k < m; ++k) {
    auto& b = r.bounds[k];
    b.push_back(-kInf);
    for (const auto& x : r.boxes) b.push_back(x.lo[k]), b.push_back(x.hi[k]);
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
  }
  auto index = [&](std::size_t k, double v) {
    const auto& b = r.bounds[k];
    return static_cast<int>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
  };
  for (const auto& x : r.boxes) {
    std::vector<int> li(m), hi(m);
    for (std::size_t k = 0; k < m; ++k) li[k] = index(k, x.lo[k]), hi[k] = index(k, x.hi[k]);
    r.lo_index.push_back(std::move(li));
    r.hi_index.push_back(std::move(hi));
  }
  return r;
}

double log_ehvi(const ImprovementRegion& region, const double* mean, const double* var, double* d_mean,
                double* d_var) {
  const auto m = static_cast<std::size_t>(region.n_objectives);
  const bool grad = d_mean || d_var;
  if (d_mean) std::fill(d_mean, d_mean + m, 0.0);
  if (d_var) std::fill(d_var, d_var + m, 0.0);
  if (region.boxes.empty()) return -kInf;
  // Per objective and bound: z, log h(z), log Φ(z), log Φ(−z), log φ(z).
  std::vector<std::vector<BoundTerms>> terms(m);
  std::vector<double> sigma(m);
  std::vector<bool> certain(m);
  for (std::size_t k = 0; k < m; ++k) {
    certain[k] = !(var[k] > kCertainVar);
    sigma[k] = certain[k] ? 0.0 : std::sqrt(var[k]);
    terms[k].resize(region.bounds[k].size());
    if (certain[k]) continue;
    for (std::size_t j = 0; j < region.bounds[k].size(); ++j) {
      double b = region.bounds[k][j];
      BoundTerms& t = terms[k][j];
      if (b == -kInf) {
        t.z = -kInf;
        continue;
      }
      t.z = (b - mean[k]) / sigma[k];
      t.log_h = log_h(t.z);
      if (grad) {
        t.log_cdf = log_ndtr(t.z);
        t.log_sf = log_ndtr(-t.z);
        t.log_pdf = -0.5 * t.z * t.z - kLogSqrt2Pi;
      }
    }
  }
  // Each box: Σ_k log D_k, D_k = E[(u − max(l, Y_k))⁺]; and d log D_k / dμ, dvar.
  const std::size_t nb = region.boxes.size();
  std::vector<double> logs(nb, 0.0), gm(grad ? nb * m : 0), gv(grad ? nb * m : 0);
  double top = -kInf;
  for (std::size_t b = 0; b < nb; ++b) {
    double sum = 0;
    for (std::size_t k = 0; k < m && sum > -kInf; ++k) {
      const int li = region.lo_index[b][k], hi = region.hi_index[b][k];
      if (certain[k]) {
        double u = region.bounds[k][static_cast<std::size_t>(hi)];
        double l = region.bounds[k][static_cast<std::size_t>(li)];
        double d = u - std::max(l, mean[k]);
        sum += d > 0 ? std::log(d) : -kInf;
        if (grad && d > 0) gm[b * m + k] = mean[k] > l ? -1 / d : 0.0;
        continue;
      }
      const BoundTerms& tu = terms[k][static_cast<std::size_t>(hi)];
      const BoundTerms& tl = terms[k][static_cast<std::size_t>(li)];
      double lh = log_diff(tu.log_h, tl.log_h);
      sum += std::log(sigma[k]) + lh;
      if (!grad || lh == -kInf) continue;
      // Φ(z_u) − Φ(z_l), through the upper tails when both are right of 0.
      double lp = tl.z > 0 ? log_diff(tl.log_sf, tu.log_sf) : log_diff(tu.log_cdf, tl.log_cdf);
      gm[b * m + k] = -std::exp(lp - lh) / sigma[k];
      gv[b * m + k] = (std::exp(tu.log_pdf - lh) - std::exp(tl.log_pdf - lh)) / (2 * var[k]);
    }
    logs[b] = sum;
    top = std::max(top, sum);
  }
  if (top == -kInf) return -kInf;
  double total = 0;
  for (double v : logs) total += std::exp(v - top);
  double value = top + std::log(total);
  if (grad) {
    for (std::size_t b = 0; b < nb; ++b) {
      if (logs[b] == -kInf) continue;
      double w = std::exp(logs[b] - value);
      for (std::size_t k = 0; k < m; ++k) {
        if (d_mean) d_mean[k] += w * gm[b * m + k];
        if (d_var) d_var[k] += w * gv[b * m + k];
      }
    }
  }
  return value;
}

}  // namespace kerntune::bo::detail
