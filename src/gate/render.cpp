// What the gate prints and writes: a brief line, JSON, JUnit XML, Markdown.
#include <fmt/format.h>

#include <cmath>

#include "kerntune/gate/gate.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::gate {
namespace {

using util::xml_escape;

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string pct(double ratio) { return fmt::format("{:+.2f}%", (ratio - 1) * 100); }

}  // namespace

std::string GateResult::brief() const {
  std::string s = upper(to_string(decision)) + ": ";
  if (ci)
    s += fmt::format("{} {} ({}) [{}, {}] candidate vs baseline over {} pairs", metric, pct(ci->ratio),
                     maximize ? "higher is better" : "lower is better", pct(ci->lo), pct(ci->hi), a.size());
  else
    s += message;
  return s;
}

nlohmann::json GateResult::to_json() const {
  nlohmann::json j{{"decision", to_string(decision)}, {"exit_code", static_cast<int>(decision)},
                   {"metric", metric}, {"direction", maximize ? "maximize" : "minimize"}, {"unit", unit},
                   {"max_regression", max_regression}, {"baseline", baseline_label},
                   {"candidate", candidate_label}, {"baseline_values", a}, {"candidate_values", b},
                   {"message", message}, {"seconds", seconds}};
  if (ci) j["ratio"] = {{"estimate", ci->ratio}, {"lo", ci->lo}, {"hi", ci->hi}, {"level", ci->level},
                        {"method", "median of per-pair ratios, paired percentile bootstrap"}};
  if (test) j["rank_test"] = {{"test", test->test}, {"statistic", test->statistic}, {"pvalue", test->pvalue}};
  if (needed) j["repeats_needed"] = needed->repeats;
  return j;
}

std::string junit_xml(const GateResult& r) {
  std::string name = fmt::format("{}: {} vs {}", r.metric, r.candidate_label, r.baseline_label);
  int failures = r.decision == Decision::regression ? 1 : 0;
  int errors = r.decision == Decision::error ? 1 : 0;
  int skipped = r.decision == Decision::inconclusive ? 1 : 0;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"kerntune gate\" tests=\"1\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     failures, errors, skipped, r.seconds);
  out += fmt::format("  <testsuite name=\"kerntune gate\" tests=\"1\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     failures, errors, skipped, r.seconds);
  out += fmt::format("    <testcase classname=\"kerntune.gate\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(name), r.seconds);
  std::string text = xml_escape(r.brief() + "\n" + r.message);
  if (r.decision == Decision::regression)
    out += fmt::format("      <failure message=\"{}\" type=\"regression\">{}</failure>\n", xml_escape(r.brief()), text);
  else if (r.decision == Decision::error)
    out += fmt::format("      <error message=\"{}\" type=\"error\">{}</error>\n", xml_escape(r.message), text);
  else if (r.decision == Decision::inconclusive)
    out += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(r.brief() + " — " + r.message));
  out += fmt::format("      <system-out>{}</system-out>\n", text);
  out += "    </testcase>\n  </testsuite>\n</testsuites>\n";
  return out;
}

std::string markdown_summary(const GateResult& r) {
  const char* icon = r.decision == Decision::pass ? "✅" : r.decision == Decision::regression ? "❌"
                     : r.decision == Decision::inconclusive ? "⚠️" : "💥";
  std::string out = fmt::format("## {} kerntune gate: {}\n\n", icon, to_string(r.decision));
  out += "| | |\n|---|---|\n";
  out += fmt::format("| metric | `{}`{} ({} is better) |\n", r.metric, r.unit.empty() ? "" : " [" + r.unit + "]",
                     r.maximize ? "higher" : "lower");
  out += fmt::format("| baseline | {} |\n| candidate | {} |\n", r.baseline_label, r.candidate_label);
  out += fmt::format("| allowed regression | {:.1f}% |\n", r.max_regression * 100);
  if (r.ci) {
    out += fmt::format("| change (candidate / baseline) | **{}** |\n| 95% interval | [{}, {}] |\n", pct(r.ci->ratio),
                       pct(r.ci->lo), pct(r.ci->hi));
  }
  out += fmt::format("| pairs (interleaved A B B A …) | {} |\n", r.a.size());
  if (!r.a.empty()) {
    std::vector<double> a = r.a, b = r.b;
    out += fmt::format("| median baseline / candidate | {:.6g} / {:.6g} |\n", stats::median(a), stats::median(b));
  }
  if (r.test) out += fmt::format("| rank test | {} |\n", r.test->brief());
  if (r.needed) out += fmt::format("| repeats to settle | ~{}{} per side |\n", r.needed->repeats, r.needed->capped ? "+" : "");
  out += fmt::format("| time | {:.1f} s |\n\n", r.seconds);
  out += r.message + "\n";
  return out;
}

}  // namespace kerntune::gate
