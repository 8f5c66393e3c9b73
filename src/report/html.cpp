// The report page: sections, tables, provenance, style and the table-sorting
// script. Every resource is inline; a Content-Security-Policy meta tag makes
// the browser refuse any request the page might try to make.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <set>

#include "charts.hpp"
#include "kerntune/results/recommend.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/util/json.hpp"
#include "svg.hpp"

namespace kerntune::report {
namespace {

using svg::esc;
using svg::num;

constexpr const char* kCsp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

constexpr const char* kStyle = R"css(
:root{--fg:#1d2330;--muted:#5c6575;--line:#d9dee7;--bg:#fff;--panel:#f6f8fb;--accent:#2563eb;--good:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1000px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:34px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
p.sub,.note{color:var(--muted)}.note{font-size:13px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{flex:1 1 180px;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:20px;font-weight:600}
.good{color:var(--good)}.bad{color:var(--bad)}
svg.chart{width:100%;height:auto;display:block;font-size:12px}
svg .grid{stroke:#eceff4}svg .axis{stroke:#8a93a3}svg .tickmark{stroke:#8a93a3}svg .tick{fill:var(--muted)}
svg .title{fill:var(--fg);font-size:13px}svg .strip-label{fill:var(--muted);font-style:italic}
svg .baseline-band{fill:#f59e0b;opacity:.16}svg .baseline{stroke:#d97706;stroke-dasharray:5 4;stroke-width:1.5}
svg .spread{stroke:#93a4c3;stroke-width:2}svg circle.trial{fill:var(--accent);stroke:#fff;stroke-width:1}
svg circle.kind-baseline,svg circle.kind-rebaseline{fill:#d97706}svg circle.kind-confirm{fill:#0f766e}
svg path.trial.failed{stroke-width:2.2;fill:none}svg circle.nometric{fill:none;stroke:#888}
svg .best-line{fill:none;stroke:var(--good);stroke-width:2}
svg circle.front{fill:var(--good);stroke:#fff}svg circle.dominated{fill:#9aa5b8}svg circle.infeasible{fill:none;stroke:var(--bad);stroke-width:1.5}svg circle.pick{stroke:#111;stroke-width:3}svg .front-line{fill:none;stroke:var(--good);stroke-width:1.5}
svg circle.baseline-point{stroke:#d97706;stroke-width:2}
svg rect.bar{fill:var(--accent)}svg .label{fill:var(--fg)}svg .value{fill:var(--muted)}
svg .pd-line{fill:none;stroke:var(--accent);stroke-width:2}svg .pd-point{fill:var(--accent)}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:4px 0 0 70px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:5px;vertical-align:-1px}
.legend i.sq{border-radius:2px}.legend i.ln{height:3px;border-radius:0;vertical-align:3px;width:16px}
.pds{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}
.pds figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:6px}.pds figcaption{font-size:12px;color:var(--muted);padding:0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--panel);position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}table.sortable th::after{content:" ↕";color:#b0b7c3}
tr.changed td{background:#fff7e6}tr.failed td{color:var(--bad)}tr.best td{background:#ecfdf3}
.scroll{max-height:520px;overflow:auto;border:1px solid var(--line);border-radius:8px}
code,pre{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}pre{background:var(--panel);padding:10px;border-radius:8px;overflow:auto}
.stage{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:12px}
)css";

constexpr const char* kScript = R"js(
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows),asc=th.dataset.dir!=='asc';
      t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir;});th.dataset.dir=asc?'asc':'desc';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v!==undefined?a.cells[i].dataset.v:a.cells[i].textContent,
            y=b.cells[i].dataset.v!==undefined?b.cells[i].dataset.v:b.cells[i].textContent,
            nx=parseFloat(x),ny=parseFloat(y),c;
        if(!isNaN(nx)&&!isNaN(ny))c=nx-ny;else if(!isNaN(nx))c=-1;else if(!isNaN(ny))c=1;else c=x.localeCompare(y);
        return asc?c:-c;});
      rows.forEach(function(r){tb.appendChild(r);});
    });
  });
});
)js";

std::string value_text(const nlohmann::json& v) {
  if (v.is_null()) return "—";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return num(v.get<double>());
  return util::dump_json(v);
}

std::string iso_time(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string card(const std::string& key, const std::string& value, const std::string& cls = "") {
  return fmt::format("<div class=\"card\"><div class=\"k\">{}</div><div class=\"v {}\">{}</div></div>", esc(key), cls, value);
}

std::string best_section(const std::vector<Trial>& trials, std::optional<std::size_t> best, const Objective& obj,
                         const std::optional<Improvement>& imp, const std::vector<ParamMeta>& params,
                         const nlohmann::json& defaults, const results::Recommendation* rec) {
  std::string s = "<section id=\"best\"><h2>Recommended configuration</h2>";
  if (!best) {
    std::string why = rec && !rec->notes.empty() ? rec->notes.front() : "no successful trial yet";
    return s + fmt::format("<p class=\"note\" id=\"no-recommendation\">Nothing to recommend: {}.</p></section>", esc(why));
  }
  const auto& t = trials[*best];
  std::string unit = t.units.contains(obj.metric) ? " " + t.units.at(obj.metric) : "";
  s += fmt::format("<p>Trial <b id=\"recommended-seq\">{}</b> ({}): {} = <b>{}{}</b>, chosen by the {}.", t.seq, esc(results::to_string(t.kind)),
                   esc(obj.metric), num(t.metrics.at(obj.metric)), esc(unit), esc(rec ? rec->rule : std::string("best median")));
  if (imp && !std::isnan(imp->lo)) {
    bool better = obj.maximize ? imp->lo > 1.0 : imp->hi < 1.0;
    bool worse = obj.maximize ? imp->hi < 1.0 : imp->lo > 1.0;
    s += fmt::format(" Against the baseline: ratio <b id=\"improvement-ratio\">{:.4f}</b> ({:+.1f}%), 95% CI [{:.4f}, {:.4f}] ({}; {} independent rounds) — <span class=\"{}\">{}</span>.",
                     imp->ratio, (imp->ratio - 1) * 100, imp->lo, imp->hi, esc(imp->method), imp->n,
                     better ? "good" : worse ? "bad" : "",
                     better ? "a significant improvement" : worse ? "a significant regression" : "not significant (the interval includes no change)");
  } else if (imp) {
    s += fmt::format(" Against the baseline: ratio <b id=\"improvement-ratio\">{:.4f}</b> ({:+.1f}%), no confidence interval ({}).",
                     imp->ratio, (imp->ratio - 1) * 100, esc(imp->method));
  } else if (t.kind == results::TrialKind::baseline) {
    s += " No proposal beat the baseline.";
  }
  if (rec)
    for (const auto& n : rec->notes) s += fmt::format(" <span class=\"note rec-note\">{}.</span>", esc(n));
  s += "</p><table id=\"best-diff\"><thead><tr><th>parameter</th><th>default</th><th>best</th></tr></thead><tbody>";
  std::set<std::string> seen;
  auto row = [&](const std::string& name, const nlohmann::json& def, const nlohmann::json& val) {
    bool changed = def != val;
    s += fmt::format("<tr class=\"{}\"><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>", changed ? "changed" : "same", esc(name),
                     changed ? " <b>*</b>" : "", esc(value_text(def)), esc(value_text(val)));
  };
  for (const auto& p : params) {
    seen.insert(p.name);
    nlohmann::json def = defaults.contains(p.name) ? defaults[p.name] : nlohmann::json();
    nlohmann::json val = t.params.contains(p.name) ? t.params[p.name] : nlohmann::json();
    if (def.is_null() && val.is_null()) continue;
    row(p.name, def, val);
  }
  for (const auto& [k, v] : t.params.items())
    if (!seen.contains(k)) row(k, defaults.contains(k) ? defaults[k] : nlohmann::json(), v);
  return s + "</tbody></table><p class=\"note\">* changed from the default; — inactive (its <code>when:</code> condition does not hold).</p></section>";
}

std::string trial_table(const std::vector<Trial>& trials, std::optional<std::size_t> best, const std::vector<Objective>& objs) {
  std::vector<std::string> metrics;
  for (const auto& o : objs) metrics.push_back(o.metric);
  std::set<std::string> extra;
  for (const auto& t : trials)
    for (const auto& [k, v] : t.metrics)
      if (std::find(metrics.begin(), metrics.end(), k) == metrics.end()) extra.insert(k);
  for (const auto& k : extra) {
    if (metrics.size() >= 6) break;
    metrics.push_back(k);
  }
  std::string s = "<section id=\"trials\"><h2>Trials</h2><p class=\"note\">Click a column to sort. Metrics are medians over repeats.</p>"
                  "<div class=\"scroll\"><table id=\"trial-table\" class=\"sortable\"><thead><tr><th>seq</th><th>kind</th><th>status</th>";
  for (const auto& m : metrics) s += "<th>" + esc(m) + "</th>";
  s += "<th>seconds</th><th>parameters / failure</th></tr></thead><tbody>";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    std::string cls = !t.ok ? "failed" : (best && *best == i ? "best" : "");
    s += fmt::format("<tr class=\"{}\" data-seq=\"{}\"><td class=\"n\">{}</td><td>{}</td><td>{}</td>", cls, t.seq, t.seq, esc(results::to_string(t.kind)), esc(t.status()));
    for (const auto& m : metrics) {
      auto it = t.metrics.find(m);
      if (it == t.metrics.end()) s += "<td class=\"n\" data-v=\"\"></td>";
      else s += fmt::format("<td class=\"n\" data-v=\"{}\">{}</td>", it->second, num(it->second));
    }
    double secs = t.seconds();
    s += fmt::format("<td class=\"n\" data-v=\"{:.3f}\">{:.1f}</td>", secs, secs);
    if (!t.ok)
      s += fmt::format("<td><span class=\"stage\" style=\"background:{}\">{}</span> {}</td>", charts::stage_colour(t.failure_stage),
                       esc(t.failure_stage), esc(t.failure_reason.substr(0, 300)));
    else {
      std::string p;
      for (const auto& [k, v] : t.params.items()) p += fmt::format("{}{}={}", p.empty() ? "" : ", ", k, value_text(v));
      s += "<td><code>" + esc(p) + "</code>";
      if (!t.early_stop.is_null()) s += " <span class=\"note\">stopped early: " + esc(results::describe_early_stop(t.early_stop)) + "</span>";
      if (!t.extra_repeats.is_null()) s += " <span class=\"note\">extra repeats: " + esc(results::describe_extra_repeats(t.extra_repeats)) + "</span>";
      s += "</td>";
    }
    s += "</tr>";
  }
  return s + "</tbody></table></div></section>";
}

std::string failures(const std::vector<Trial>& trials) {
  std::map<std::string, std::map<std::string, std::vector<int>>> by_stage;  // stage → reason → seqs
  int n = 0;
  for (const auto& t : trials)
    if (!t.ok) {
      by_stage[t.failure_stage][t.failure_reason.substr(0, 200)].push_back(t.seq);
      ++n;
    }
  std::string s = "<section id=\"failures\"><h2>Failures</h2>";
  if (n == 0) return s + "<p class=\"note\">No trial failed.</p></section>";
  s += fmt::format("<p>{} of {} trials failed. The optimizer learns from them and steers away from such configurations.</p>", n, trials.size());
  s += "<table><thead><tr><th>stage</th><th>trials</th><th>reason</th></tr></thead><tbody>";
  for (const auto& [stage, reasons] : by_stage)
    for (const auto& [reason, seqs] : reasons) {
      std::string list;
      for (std::size_t i = 0; i < seqs.size() && i < 20; ++i) list += fmt::format("{}{}", i ? ", " : "", seqs[i]);
      if (seqs.size() > 20) list += fmt::format(" … ({} in all)", seqs.size());
      s += fmt::format("<tr class=\"failure\" data-stage=\"{}\"><td><span class=\"stage\" style=\"background:{}\">{}</span></td><td>{}</td><td><code>{}</code></td></tr>",
                       esc(stage), charts::stage_colour(stage), esc(stage), list, esc(reason));
    }
  return s + "</tbody></table></section>";
}

std::string provenance(const ReportInput& in, const nlohmann::json& md) {
  std::string s = "<section id=\"provenance\"><h2>Provenance</h2><table><tbody>";
  auto row = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) s += fmt::format("<tr><th>{}</th><td>{}</td></tr>", esc(k), v);
  };
  const auto& c = in.view.campaign;
  row("campaign", esc(c.name) + " (" + esc(c.status) + ")");
  row("created / updated", esc(c.created_at + " / " + c.updated_at));
  row("recipe", "<code>" + esc(c.recipe_path) + "</code>");
  row("recipe SHA-256", "<code>" + esc(c.recipe_hash) + "</code>");
  row("seed", std::to_string(c.seed));
  for (const char* key : {"target", "workload"})
    if (md.contains(key)) row(key, esc(value_text(md[key])));
  for (const auto& [k, v] : md.items()) {
    if (k.find("kernel") == std::string::npos || k == "kerntune_version") continue;
    row(k, "<code>" + esc(v.is_string() ? v.get<std::string>() : util::dump_json(v)) + "</code>");
  }
  row("kerntune (campaign)", esc(md.value("kerntune_version", "")));
  row("kerntune (report)", esc(KERNTUNE_VERSION_STRING));
  s += "</tbody></table>";
  s += "<details><summary>Recipe as stored</summary><pre>" + esc(c.recipe_text) + "</pre></details>";
  if (!in.events.empty()) {
    s += "<details><summary>Events (" + std::to_string(in.events.size()) + ")</summary><pre>";
    std::size_t from = in.events.size() > 200 ? in.events.size() - 200 : 0;
    for (std::size_t i = from; i < in.events.size(); ++i)
      s += esc(fmt::format("{} {:5} {}\n", iso_time(in.events[i].at), in.events[i].level, in.events[i].message));
    s += "</pre></details>";
  }
  return s + "</section>";
}

}  // namespace

FrontMarks front_marks(const results::CampaignView& view, const results::Recommendation& rec) {
  FrontMarks marks;
  for (const auto& c : rec.front) marks.front.insert(c.config);
  for (const auto& c : results::rank_candidates(view, rec.objective))
    if (!c.feasible) marks.infeasible.insert(c.config);
  if (rec.pick) marks.pick = view.trials[*rec.pick].config;
  return marks;
}

std::string render_html(const ReportInput& in, const RenderOptions& options) {
  const results::CampaignView& rview = in.view;
  const std::vector<Trial>& trials = rview.trials;
  const nlohmann::json& md = rview.metadata;
  const auto& campaign = rview.campaign;
  auto params = parameters(rview);
  const Objective main_obj = main_objective(rview);
  auto objs = rview.optimized();
  if (objs.empty()) objs.push_back(main_obj);  // no objective recorded: the first metric seen, minimized
  // The recommendation: the same function as `kerntune best` (results/recommend.hpp).
  std::optional<results::Recommendation> rec;
  if (auto r = results::recommend(rview, {.metric = main_obj.metric})) rec = *r;
  std::optional<std::size_t> best;
  if (rec && rec->pick) best = *rec->pick;
  std::optional<Improvement> improvement = in.improvement;
  if (!improvement && rec && rec->interval)
    improvement = Improvement{rec->interval->ratio, rec->interval->lo, rec->interval->hi, rec->interval->rounds,
                              rec->interval->method};
  const nlohmann::json& defaults = rview.defaults;
  int failed = 0;
  for (const auto& t : trials) failed += !t.ok;
  std::string unit;
  for (const auto& t : trials)
    if (t.units.contains(main_obj.metric)) { unit = t.units.at(main_obj.metric); break; }

  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">", kCsp);
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  h += fmt::format("<meta name=\"generator\" content=\"kerntune {}\">", esc(KERNTUNE_VERSION_STRING));
  h += fmt::format("<title>kerntune report — {}</title><style>{}</style></head><body><main>", esc(campaign.name), kStyle);
  h += fmt::format("<header><h1>Campaign “{}”</h1><p class=\"sub\">{} · target {} · objective {} ({})</p></header>", esc(campaign.name),
                   esc(campaign.status), esc(value_text(md.value("target", nlohmann::json("?")))), esc(main_obj.metric),
                   main_obj.maximize ? "maximize" : "minimize");
  // Summary cards.
  h += "<div class=\"cards\" id=\"summary\">";
  const auto& b = rview.budget;
  // Baselines and proposals count toward the budget (the campaign's rule);
  // re-measurements and confirmations are shown beside the count.
  int counted = 0;
  for (const auto& t : trials) counted += results::is_search(t.kind);
  std::string done = b ? fmt::format("{} / {}", counted, *b) : std::to_string(counted);
  if (counted < static_cast<int>(trials.size()))
    done += fmt::format(" <small>+{} re-measured</small>", trials.size() - static_cast<std::size_t>(counted));
  h += card("trials", done);
  h += card("failed", std::to_string(failed), failed ? "bad" : "");
  if (best) h += card("best " + main_obj.metric, esc(num(trials[*best].metrics.at(main_obj.metric)) + (unit.empty() ? "" : " " + unit)));
  if (improvement) {
    const auto& imp = *improvement;
    bool better = !std::isnan(imp.lo) && (main_obj.maximize ? imp.lo > 1.0 : imp.hi < 1.0);
    std::string v = fmt::format("{:+.1f}%", (imp.ratio - 1) * 100);
    if (!std::isnan(imp.lo)) v += fmt::format(" <small>[{:+.1f}%, {:+.1f}%]</small>", (imp.lo - 1) * 100, (imp.hi - 1) * 100);
    h += card("vs baseline (95% CI)", v, better ? "good" : "");
  }
  h += "</div>";

  h += "<section id=\"convergence-section\"><h2>Convergence</h2>";
  h += fmt::format("<p class=\"note\">Every trial's median {} (vertical bar: lowest to highest repeat), the best so far, and the baseline's repeats as a band. Failed trials are crosses on the top strip, coloured by stage.</p>",
                   esc(main_obj.metric));
  h += charts::convergence(trials, main_obj);
  h += "<div class=\"legend\"><span><i style=\"background:#2563eb\"></i>proposal</span><span><i style=\"background:#d97706\"></i>baseline</span>"
       "<span><i style=\"background:#0f766e\"></i>confirmation</span><span><i class=\"ln\" style=\"background:#15803d\"></i>best so far</span>"
       "<span><i class=\"sq\" style=\"background:#f59e0b;opacity:.35\"></i>baseline range</span>";
  std::set<std::string> stages;
  for (const auto& t : trials)
    if (!t.ok) stages.insert(t.failure_stage);
  for (const auto& st : stages)
    h += fmt::format("<span><i class=\"sq\" style=\"background:{}\"></i>failed: {}</span>", charts::stage_colour(st), esc(st));
  h += "</div></section>";

  h += "<section id=\"pareto\"><h2>Pareto front</h2>";
  if (objs.size() >= 2) {
    h += fmt::format("<p class=\"note\">Each successful trial by {} and {}; green points are the feasible configurations "
                     "not beaten on both at once (the recommender's front), hollow red ones break an outcome limit, and the "
                     "ringed point is the recommendation.</p>",
                     esc(objs[0].metric), esc(objs[1].metric));
    charts::FrontMarks marks;
    if (rec) marks = front_marks(rview, *rec);
    h += charts::pareto(trials, objs[0], objs[1], marks);
  } else {
    h += "<p class=\"note\">One objective: no trade-off to show. A recipe with two objectives gets a Pareto front here.</p>";
  }
  h += "</section>";

  auto imp = importance(params, trials, main_obj, options.importance);
  h += "<section id=\"importance\"><h2>Parameter importance</h2>";
  if (imp.params.empty()) {
    h += "<p class=\"note\">No importance: " + esc(imp.note) + ".</p>";
  } else {
    h += fmt::format("<p class=\"note\">From a Gaussian process refitted on the {} successful trials: how much {} moves when one parameter changes and the others stay as observed (standard deviation of its partial dependence, and its share of the sum of such effects). A model of the data, not a measurement: read it together with the trial table.</p>",
                     imp.points, esc(main_obj.metric));
    h += charts::importance(imp, unit);
    h += "<h3>Partial dependence of the top parameters</h3><div class=\"pds\" id=\"partial-dependence\">";
    for (int i = 0; i < options.partial_dependence_plots && i < static_cast<int>(imp.params.size()); ++i)
      h += "<figure>" + charts::partial_dependence(imp.params[i], main_obj.metric) +
           fmt::format("<figcaption>{} — predicted {} averaged over the observed points</figcaption></figure>", esc(imp.params[i].name), esc(main_obj.metric));
    h += "</div>";
  }
  h += "</section>";
  h += best_section(trials, best, main_obj, improvement, params, defaults, rec ? &*rec : nullptr);
  h += trial_table(trials, best, objs);
  h += failures(trials);
  h += provenance(in, md);
  h += fmt::format("<script>{}</script></main></body></html>\n", kScript);
  return h;
}

}  // namespace kerntune::report
