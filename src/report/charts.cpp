#include "charts.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "kerntune/bo/pareto.hpp"
#include "kerntune/stats/stats.hpp"
#include "svg.hpp"

namespace kerntune::report::charts {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string trial_title(const Trial& t, const std::string& metric) {
  std::string s = fmt::format("trial {} ({})", t.seq, results::to_string(t.kind));
  if (!t.ok) return s + fmt::format(" failed at {}: {}", t.failure_stage, t.failure_reason);
  auto it = t.samples.find(metric);
  if (it == t.samples.end()) return s;
  const auto& v = it->second;
  s += fmt::format(": {} = {}", metric, svg::num(t.metrics.at(metric)));
  if (v.size() > 1)
    s += fmt::format(" (repeats {}–{}, n={})", svg::num(*std::min_element(v.begin(), v.end())),
                     svg::num(*std::max_element(v.begin(), v.end())), v.size());
  return s;
}

}  // namespace

std::string stage_colour(const std::string& stage) {
  if (stage == "configure") return "#8c564b";
  if (stage == "build") return "#d62728";
  if (stage == "boot") return "#e377c2";
  if (stage == "apply") return "#bcbd22";
  if (stage == "workload") return "#ff7f0e";
  if (stage == "parse") return "#9467bd";
  if (stage == "timeout") return "#7f7f7f";
  return "#555555";
}

std::string convergence(const std::vector<Trial>& trials, const Objective& objective) {
  const std::string& m = objective.metric;
  double ylo = kInf, yhi = -kInf;
  int xmax = 1;
  std::vector<double> base;
  for (const auto& t : trials) {
    xmax = std::max(xmax, t.seq);
    auto it = t.samples.find(m);
    if (!t.ok || it == t.samples.end()) continue;
    for (double v : it->second) { ylo = std::min(ylo, v); yhi = std::max(yhi, v); }
    if (results::measures_defaults(t.kind)) base.insert(base.end(), it->second.begin(), it->second.end());
  }
  if (!std::isfinite(ylo)) { ylo = 0; yhi = 1; }
  svg::pad_range(ylo, yhi);
  svg::Frame f;
  f.height = 340;
  f.top = 40;
  double xlo = -0.5, xhi = xmax + 0.5;
  svg::Scale x{xlo, xhi, f.x0(), f.x1()}, y{ylo, yhi, f.y0(), f.y1()};
  std::string s = svg::open(f, "convergence", fmt::format("Convergence of {}", m));
  // Baseline band behind everything else.
  if (!base.empty()) {
    double lo = *std::min_element(base.begin(), base.end()), hi = *std::max_element(base.begin(), base.end());
    double med = stats::median(base);
    s += fmt::format("<rect class=\"baseline-band\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>baseline: {} repeats, {}–{}</title></rect>",
                     f.x0(), y(hi), f.x1() - f.x0(), std::max(y(lo) - y(hi), 1.0), base.size(), svg::num(lo), svg::num(hi));
    s += fmt::format("<line class=\"baseline\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"><title>baseline median {}</title></line>",
                     f.x0(), f.x1(), y(med), y(med), svg::num(med));
  }
  auto xt = svg::ticks(0, xmax, 8);
  std::erase_if(xt, [](double v) { return v != std::floor(v); });
  s += svg::axes(f, x, y, xt, svg::ticks(ylo, yhi, 6), "trial", m);
  s += fmt::format("<text class=\"strip-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">failed</text>", f.x0() - 6, 24.0);
  // Best so far.
  std::string path;
  std::optional<double> best;
  for (const auto& t : trials) {
    auto it = t.metrics.find(m);
    if (!t.ok || t.kind == results::TrialKind::rebaseline || it == t.metrics.end()) continue;
    double v = it->second;
    if (!best) {
      best = v;
      path += fmt::format("M{:.1f},{:.1f}", x(t.seq), y(v));
      continue;
    }
    if (objective.maximize ? v > *best : v < *best) {
      path += fmt::format(" H{:.1f} V{:.1f}", x(t.seq), y(v));
      best = v;
    }
  }
  if (best) {
    path += fmt::format(" H{:.1f}", x(xmax));
    s += fmt::format("<path class=\"best-line\" d=\"{}\"><title>best so far</title></path>", path);
  }
  // Trials.
  for (const auto& t : trials) {
    std::string title = svg::esc(trial_title(t, m));
    auto it = t.samples.find(m);
    if (t.ok && it != t.samples.end() && !it->second.empty()) {
      const auto& v = it->second;
      double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
      if (v.size() > 1)
        s += fmt::format("<line class=\"spread\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>", x(t.seq), y(lo), y(hi));
      s += fmt::format("<circle class=\"trial ok kind-{}\" data-seq=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\"><title>{}</title></circle>",
                       svg::esc(results::to_string(t.kind)), t.seq, x(t.seq), y(t.metrics.at(m)), title);
    } else if (!t.ok) {
      double cx = x(t.seq), cy = 24;
      s += fmt::format("<path class=\"trial failed\" data-seq=\"{}\" data-stage=\"{}\" stroke=\"{}\" d=\"M{:.1f},{:.1f}l8,8m0,-8l-8,8\"><title>{}</title></path>",
                       t.seq, svg::esc(t.failure_stage), stage_colour(t.failure_stage), cx - 4, cy - 4, title);
    } else {
      // ok but without this metric (e.g. another workload's trial): a hollow mark on the strip.
      s += fmt::format("<circle class=\"trial nometric\" data-seq=\"{}\" cx=\"{:.1f}\" cy=\"24\" r=\"3\"><title>{} (no {})</title></circle>",
                       t.seq, x(t.seq), title, svg::esc(m));
    }
  }
  return s + "</svg>";
}

std::string pareto(const std::vector<Trial>& trials, const Objective& a, const Objective& b, const FrontMarks& marks) {
  std::vector<const Trial*> pts;
  std::vector<bo::Observation> obs;
  for (const auto& t : trials) {
    if (!t.ok || t.kind == results::TrialKind::rebaseline) continue;
    auto ia = t.metrics.find(a.metric), ib = t.metrics.find(b.metric);
    if (ia == t.metrics.end() || ib == t.metrics.end()) continue;
    pts.push_back(&t);
    bo::Observation o;
    o.objectives = {a.maximize ? -ia->second : ia->second, b.maximize ? -ib->second : ib->second};
    obs.push_back(o);
  }
  svg::Frame f;
  f.height = 360;
  std::string s;
  double xlo = kInf, xhi = -kInf, ylo = kInf, yhi = -kInf;
  for (const auto* t : pts) {
    xlo = std::min(xlo, t->metrics.at(a.metric)); xhi = std::max(xhi, t->metrics.at(a.metric));
    ylo = std::min(ylo, t->metrics.at(b.metric)); yhi = std::max(yhi, t->metrics.at(b.metric));
  }
  if (pts.empty()) { xlo = ylo = 0; xhi = yhi = 1; }
  svg::pad_range(xlo, xhi);
  svg::pad_range(ylo, yhi);
  svg::Scale x{xlo, xhi, f.x0(), f.x1()}, y{ylo, yhi, f.y0(), f.y1()};
  s += svg::open(f, "pareto-chart", fmt::format("Pareto front of {} and {}", a.metric, b.metric));
  s += svg::axes(f, x, y, svg::ticks(xlo, xhi, 7), svg::ticks(ylo, yhi, 6),
                 fmt::format("{} ({})", a.metric, a.maximize ? "higher is better" : "lower is better"),
                 fmt::format("{} ({})", b.metric, b.maximize ? "higher is better" : "lower is better"));
  auto front = bo::pareto_front(obs);
  const bool marked = !marks.front.empty() || !marks.pick.empty();
  if (marked) {
    front.clear();
    for (std::size_t i = 0; i < pts.size(); ++i)
      if (marks.front.contains(pts[i]->params.dump())) front.push_back(i);
  }
  std::vector<std::size_t> order = front;
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    return pts[i]->metrics.at(a.metric) < pts[j]->metrics.at(a.metric);
  });
  std::string line;
  for (std::size_t i : order)
    line += fmt::format("{}{:.1f},{:.1f}", line.empty() ? "M" : " L", x(pts[i]->metrics.at(a.metric)), y(pts[i]->metrics.at(b.metric)));
  if (!line.empty()) s += fmt::format("<path class=\"front-line\" d=\"{}\"/>", line);
  for (std::size_t i = 0; i < pts.size(); ++i) {
    bool on = std::binary_search(front.begin(), front.end(), i);
    const auto* t = pts[i];
    const std::string config = t->params.dump();
    std::string cls = on ? "front" : marks.infeasible.contains(config) ? "infeasible" : "dominated";
    if (!marks.pick.empty() && config == marks.pick) cls += " pick";
    s += fmt::format("<circle class=\"{}{}\" data-seq=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\"><title>trial {} ({}): {} = {}, {} = {}</title></circle>",
                     cls, t->kind == results::TrialKind::baseline ? " baseline-point" : "", t->seq,
                     x(t->metrics.at(a.metric)), y(t->metrics.at(b.metric)), on ? 5.5 : 4, t->seq, svg::esc(results::to_string(t->kind)),
                     svg::esc(a.metric), svg::num(t->metrics.at(a.metric)), svg::esc(b.metric), svg::num(t->metrics.at(b.metric)));
  }
  return s + "</svg>";
}

std::string importance(const Importance& imp, const std::string& unit) {
  svg::Frame f;
  const double row = 28;
  f.left = 220;
  f.right = 190;
  f.top = 10;
  f.bottom = 10;
  f.height = f.top + f.bottom + row * static_cast<double>(std::max<std::size_t>(imp.params.size(), 1));
  double mx = 0;
  for (const auto& p : imp.params) mx = std::max(mx, p.effect_sd);
  std::string s = svg::open(f, "importance-chart", "Parameter importance");
  for (std::size_t i = 0; i < imp.params.size(); ++i) {
    const auto& p = imp.params[i];
    double yy = f.top + row * static_cast<double>(i);
    double w = mx > 0 ? (f.x1() - f.x0()) * p.effect_sd / mx : 0;
    s += fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.x0() - 8, yy + row / 2 + 4, svg::esc(p.name));
    s += fmt::format("<rect class=\"bar\" data-param=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>{}: partial-dependence SD {}{}, {:.0f}% of the main effects, lengthscale {}</title></rect>",
                     svg::esc(p.name), f.x0(), yy + 5, std::max(w, 1.0), row - 10, svg::esc(p.name), svg::num(p.effect_sd),
                     unit.empty() ? "" : " " + svg::esc(unit), p.share * 100, svg::num(p.lengthscale));
    s += fmt::format("<text class=\"value\" x=\"{:.1f}\" y=\"{:.1f}\">±{}{} · {:.0f}%</text>", f.x0() + std::max(w, 1.0) + 6,
                     yy + row / 2 + 4, svg::num(p.effect_sd), unit.empty() ? "" : " " + svg::esc(unit), p.share * 100);
  }
  return s + "</svg>";
}

std::string partial_dependence(const ParamImportance& p, const std::string& metric) {
  svg::Frame f;
  f.width = 420;
  f.height = 240;
  f.left = 64;
  double ylo = *std::min_element(p.pd.begin(), p.pd.end()), yhi = *std::max_element(p.pd.begin(), p.pd.end());
  svg::pad_range(ylo, yhi, 0.15);
  std::string s = fmt::format("<svg class=\"chart pd\" data-param=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"partial dependence on {}\"><title>{}</title>",
                              svg::esc(p.name), f.width, f.height, svg::esc(p.name), svg::esc(p.name));
  svg::Scale y{ylo, yhi, f.y0(), f.y1()};
  if (p.categorical) {
    double n = static_cast<double>(p.grid_x.size());
    svg::Scale x{-0.5, n - 0.5, f.x0(), f.x1()};
    s += svg::axes(f, x, y, {}, svg::ticks(ylo, yhi, 4), p.name, metric);
    for (std::size_t k = 0; k < p.pd.size(); ++k) {
      double cx = x(static_cast<double>(k));
      s += fmt::format("<circle class=\"pd-point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\"><title>{} = {}: {}</title></circle>", cx, y(p.pd[k]),
                       svg::esc(p.name), svg::esc(p.grid_labels[k]), svg::num(p.pd[k]));
      s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", cx, f.y0() + 17, svg::esc(p.grid_labels[k]));
    }
  } else {
    svg::Scale x{0, 1, f.x0(), f.x1()};
    s += svg::axes(f, x, y, {}, svg::ticks(ylo, yhi, 4), p.name, metric);
    std::string d;
    for (std::size_t k = 0; k < p.pd.size(); ++k)
      d += fmt::format("{}{:.1f},{:.1f}", k ? " L" : "M", x(p.grid_x[k]), y(p.pd[k]));
    s += fmt::format("<path class=\"pd-line\" d=\"{}\"/>", d);
    std::size_t last = p.grid_x.size() - 1;
    for (std::size_t k : {std::size_t{0}, last / 2, last})
      s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", x(p.grid_x[k]), f.y0() + 17,
                       svg::esc(p.grid_labels[k]));
  }
  return s + "</svg>";
}

}  // namespace kerntune::report::charts
