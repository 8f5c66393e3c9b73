#include "svg.hpp"

#include <cmath>
#include <fmt/format.h>

namespace kerntune::report::svg {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  if (std::isnan(v)) return "–";
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    std::string s = fmt::format("{:.4g}", v);
    if (s.find('e') == std::string::npos) return s;
    return fmt::format("{:.0f}", v);
  }
  return fmt::format("{:.3e}", v);
}

std::vector<double> ticks(double lo, double hi, int count) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) {
    out.push_back(lo);
    return out;
  }
  double raw = (hi - lo) / std::max(count, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) { step = m * mag; break; }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

void pad_range(double& lo, double& hi, double pad) {
  if (!(hi > lo)) {
    double w = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= w;
    hi += w;
    return;
  }
  double w = hi - lo;
  lo -= w * pad;
  hi += w * pad;
}

std::string axes(const Frame& f, const Scale& x, const Scale& y, const std::vector<double>& xticks,
                 const std::vector<double>& yticks, const std::string& xtitle, const std::string& ytitle) {
  std::string s = "<g class=\"axes\">";
  for (double t : yticks) {
    double py = y(t);
    s += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", f.x0(), f.x1(), py, py);
    s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.x0() - 6, py + 4, esc(num(t)));
  }
  for (double t : xticks) {
    double px = x(t);
    s += fmt::format("<line class=\"tickmark\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", px, px, f.y0(), f.y0() + 4);
    s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", px, f.y0() + 17, esc(num(t)));
  }
  s += fmt::format("<line class=\"axis\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", f.x0(), f.x1(), f.y0(), f.y0());
  s += fmt::format("<line class=\"axis\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", f.x0(), f.x0(), f.y0(), f.y1());
  s += fmt::format("<text class=\"title\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", (f.x0() + f.x1()) / 2, f.height - 6, esc(xtitle));
  s += fmt::format("<text class=\"title\" transform=\"translate(14,{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>", (f.y0() + f.y1()) / 2, esc(ytitle));
  return s + "</g>";
}

std::string open(const Frame& f, const std::string& id, const std::string& title) {
  return fmt::format("<svg id=\"{}\" class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
                     id, f.width, f.height, esc(title), esc(title));
}

}  // namespace kerntune::report::svg
