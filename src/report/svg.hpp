#pragma once
// Small helpers for hand-written inline SVG charts (internal to the report).
#include <string>
#include <string_view>
#include <vector>

namespace kerntune::report::svg {

/// HTML/XML escaping of text and attribute values.
std::string esc(std::string_view s);
/// Compact number: 4 significant digits, no exponent for ordinary magnitudes.
std::string num(double v);

/// A linear map from a data interval to a pixel interval.
struct Scale {
  double d0 = 0, d1 = 1, p0 = 0, p1 = 1;
  double operator()(double v) const { return d1 == d0 ? (p0 + p1) / 2 : p0 + (v - d0) * (p1 - p0) / (d1 - d0); }
};

/// About `count` round tick values covering [lo, hi] (1/2/5 × 10^k steps).
std::vector<double> ticks(double lo, double hi, int count = 5);
/// Widens [lo, hi] by `pad` of its width on each side (a point when lo == hi).
void pad_range(double& lo, double& hi, double pad = 0.06);

/// Plot frame: the drawing area inside margins.
struct Frame {
  double width = 860, height = 320;
  double left = 70, right = 20, top = 16, bottom = 44;
  double x0() const { return left; }
  double x1() const { return width - right; }
  double y0() const { return height - bottom; }  ///< pixel y of the lowest value
  double y1() const { return top; }
};

/// Gridlines, tick labels and axis titles for a frame and two scales.
std::string axes(const Frame& f, const Scale& x, const Scale& y, const std::vector<double>& xticks,
                 const std::vector<double>& yticks, const std::string& xtitle, const std::string& ytitle);
/// <svg> opening tag with viewBox, role and an accessible title.
std::string open(const Frame& f, const std::string& id, const std::string& title);

}  // namespace kerntune::report::svg
