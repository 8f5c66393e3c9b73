// Metric extraction from a repeat's output: regex metrics, the KERNTUNE_METRIC
// line protocol, and number parsing.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "kerntune/util/text.hpp"
#include "kerntune/workloads/metric_regex.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::workloads {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// True when `s` (sign already removed) has commas only as thousands
// separators of its integer part: 1,234 or 12,345,678.9
bool proper_thousands(std::string_view s) {
  std::size_t int_end = s.find_first_of(".eE");
  std::string_view ip = s.substr(0, int_end);
  if (ip.find(',') == std::string_view::npos) return s.find(',') == std::string_view::npos;
  if (s.find(',', ip.size()) != std::string_view::npos) return false;  // comma after the point
  auto groups = util::split(ip, ',');
  if (groups[0].empty() || groups[0].size() > 3) return false;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g > 0 && groups[g].size() != 3) return false;
    for (char c : groups[g])
      if (!is_digit(c)) return false;
  }
  return true;
}

// The last `n` non-blank lines of the output ('\n' and '\r' both end a
// line), each cut to 200 bytes, for error messages.
std::string tail(std::string_view output, std::size_t n) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= output.size(); ++i) {
    if (i < output.size() && output[i] != '\n' && output[i] != '\r') continue;
    std::string t = util::trim(output.substr(start, i - start));
    start = i + 1;
    if (t.empty()) continue;
    if (t.size() > 200) t = t.substr(0, 200) + "...";
    lines.push_back(std::move(t));
  }
  if (lines.empty()) return "  (the output is empty)";
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += fmt::format("  | {}\n", lines[i]);
  out.pop_back();
  return out;
}

}  // namespace

util::Result<double> parse_number(std::string_view text) {
  std::string s = util::trim(text);
  if (s.empty()) return util::invalid_input("empty text where a number was expected");
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') body.remove_prefix(1);
  if (body.empty() || !(is_digit(body[0]) || body[0] == '.'))
    return util::invalid_input(fmt::format("'{}' is not a number", s));
  if (!proper_thousands(body)) return util::invalid_input(fmt::format("'{}' is not a number (misplaced ',')", s));
  std::string clean;
  for (char c : s)
    if (c != ',' && c != '+') clean += c;
  double v = 0;
  auto [p, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v);
  if (ec != std::errc() || p != clean.data() + clean.size() || !std::isfinite(v))
    return util::invalid_input(fmt::format("'{}' is not a number", s));
  return v;
}

std::map<std::string, std::pair<double, std::string>> parse_metric_lines(std::string_view output) {
  std::map<std::string, std::pair<double, std::string>> out;
  for (const auto& raw : util::split(output, '\n')) {
    std::string line = util::trim(raw);
    auto cr = line.rfind('\r');  // a progress line before it on the same '\n' line
    if (cr != std::string::npos) line = util::trim(line.substr(cr + 1));
    std::vector<std::string> tok;
    std::size_t i = 0;
    while (i < line.size() && tok.size() < 3) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (i > start) tok.push_back(line.substr(start, i - start));
    }
    if (tok.size() < 3 || tok[0] != "KERNTUNE_METRIC" || !valid_metric_name(tok[1])) continue;
    auto value = parse_number(tok[2]);
    if (!value) continue;
    out[tok[1]] = {*value, util::printable(util::trim(std::string_view(line).substr(i)))};
  }
  return out;
}

namespace {

// Sorted by value, one point per value (the largest count), counts non-decreasing.
Distribution normalized(Distribution d) {
  std::stable_sort(d.begin(), d.end(), [](const CdfPoint& a, const CdfPoint& b) { return a.value < b.value; });
  Distribution out;
  for (const auto& p : d) {
    if (!out.empty() && out.back().value == p.value) out.back().count = std::max(out.back().count, p.count);
    else out.push_back(p);
  }
  return out;
}

}  // namespace

std::optional<double> pooled_percentile(std::span<const Distribution> parts, double p) {
  std::vector<Distribution> ds;
  std::vector<double> values;
  double total = 0;
  for (const auto& part : parts) {
    Distribution d = normalized(part);
    if (d.empty() || !(d.back().count > 0)) continue;
    total += d.back().count;
    for (const auto& pt : d) values.push_back(pt.value);
    ds.push_back(std::move(d));
  }
  if (!(total > 0) || !(p > 0)) return std::nullopt;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  const double rank = std::min(p, 100.0) / 100.0 * total;
  std::vector<std::size_t> next(ds.size(), 0);  // per part: its points at or below the value so far
  for (double v : values) {
    double known = 0;  // observations known to lie at or below v
    for (std::size_t i = 0; i < ds.size(); ++i) {
      while (next[i] < ds[i].size() && ds[i][next[i]].value <= v) ++next[i];
      if (next[i] > 0) known += ds[i][next[i] - 1].count;
    }
    if (known >= rank * (1 - 1e-12)) return v;
  }
  return values.back();
}

util::Result<Distribution> extract_distribution(const MetricSpec& m, std::string_view output,
                                                const std::string& workload_name) {
  std::shared_ptr<const MetricRegex> re = m.compiled;
  if (!re) {
    auto compiled = compile_metric_regex(m.regex);
    if (!compiled)
      return util::fail_like(compiled.error(),
                             fmt::format("metric '{}' of workload '{}': {}", m.name, workload_name, compiled.error().message));
    re = std::make_shared<const MetricRegex>(std::move(*compiled));
  }
  Distribution d;
  for (const auto& groups : all_matches(*re, output)) {
    auto v = groups.find("value");
    auto c = groups.find("count");
    if (v == groups.end() || c == groups.end()) continue;
    auto value = parse_number(v->second);
    auto count = parse_number(c->second);
    if (!value || !count || *count < 0)
      return util::invalid_input(fmt::format(
          "metric '{}' of workload '{}': a line of its distribution has value '{}' and count '{}'; both must be "
          "numbers and the count not negative",
          m.name, workload_name, v->second, c->second));
    d.push_back({*value * m.scale, *count});
  }
  if (d.empty())
    return util::invalid_input(fmt::format(
        "metric '{}' of workload '{}' is missing: its distribution regex '{}' matches no line of the output; "
        "its last lines:\n{}",
        m.name, workload_name, m.regex, tail(output, 10)));
  if (!m.cumulative) {
    std::stable_sort(d.begin(), d.end(), [](const CdfPoint& a, const CdfPoint& b) { return a.value < b.value; });
    double sum = 0;
    for (auto& p : d) p.count = sum += p.count;
  } else {
    d = normalized(std::move(d));
    for (std::size_t i = 1; i < d.size(); ++i)
      if (d[i].count < d[i - 1].count)
        return util::invalid_input(fmt::format(
            "metric '{}' of workload '{}': the cumulative count falls from {} at {} to {} at {}: not a cumulative "
            "distribution (for a count per bucket set 'cumulative: false')",
            m.name, workload_name, d[i - 1].count, d[i - 1].value, d[i].count, d[i].value));
  }
  return normalized(std::move(d));
}

util::Result<std::map<std::string, double>> extract_metrics(const Workload& workload,
                                                            std::string_view output) {
  std::map<std::string, double> values;
  std::map<std::string, std::pair<double, std::string>> protocol;
  bool protocol_read = false;
  for (const auto& m : workload.metrics) {
    double raw = 0;
    if (m.source == MetricSpec::Source::distribution) {
      KT_TRY(Distribution d, extract_distribution(m, output, workload.name));
      std::vector<Distribution> one{std::move(d)};
      auto q = pooled_percentile(one, m.percentile);
      if (!q)
        return util::invalid_input(fmt::format("metric '{}' of workload '{}': its distribution holds no observation",
                                               m.name, workload.name));
      values[m.name] = *q;  // scale is applied to each point's value
      continue;
    }
    if (m.source == MetricSpec::Source::kerntune_metric) {
      if (!protocol_read) {
        protocol = parse_metric_lines(output);
        protocol_read = true;
      }
      auto it = protocol.find(m.name);
      if (it == protocol.end())
        return util::invalid_input(fmt::format(
            "metric '{}' of workload '{}' is missing: no 'KERNTUNE_METRIC {} <value>' line with a "
            "number in the output; its last lines:\n{}",
            m.name, workload.name, m.name, tail(output, 10)));
      raw = it->second.first;
    } else {
      std::shared_ptr<const MetricRegex> re = m.compiled;
      if (!re) {
        auto compiled = compile_metric_regex(m.regex);
        if (!compiled)
          return util::fail_like(compiled.error(), fmt::format("metric '{}' of workload '{}': {}", m.name,
                                                                workload.name, compiled.error().message));
        re = std::make_shared<const MetricRegex>(std::move(*compiled));
      }
      auto text = last_value_match(*re, output);
      if (!text)
        return util::invalid_input(fmt::format(
            "metric '{}' of workload '{}' is missing: regex '{}' matches no line of the output; "
            "its last lines:\n{}",
            m.name, workload.name, m.regex, tail(output, 10)));
      auto number = parse_number(*text);
      if (!number)
        return util::invalid_input(fmt::format("metric '{}' of workload '{}': the (?<value>...) group captured {}",
                                               m.name, workload.name, number.error().message));
      raw = *number;
    }
    values[m.name] = raw * m.scale;
  }
  return values;
}

}  // namespace kerntune::workloads
