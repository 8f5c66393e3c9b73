// The dashboard's routes (include/kerntune/dashboard/dashboard.hpp): every
// answer is built from a read-only store through the read model and the
// functions `status`, `best` and `report` use.
#include <charconv>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <mutex>

#include "kerntune/dashboard/dashboard.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/results/recommend.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"
#include "page.hpp"

namespace kerntune::dashboard {
namespace {

using nlohmann::json;
using Query = std::multimap<std::string, std::string>;

constexpr std::size_t kMaxName = 200;         ///< longer campaign names are refused (400)
constexpr std::size_t kMaxArtifact = 256 * 1024;  ///< bytes of one log sent to the page

Response error(int status, const std::string& message) {
  return {status, "application/json", util::dump_json(json{{"error", message}})};
}
Response ok(const json& j) { return {200, "application/json", util::dump_json(j)}; }

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json finite(double x) { return std::isfinite(x) ? json(x) : json(); }

/// A query checked against the parameters a route accepts: each at most once,
/// no other.
struct Params {
  std::map<std::string, std::string> values;
  std::string problem;  ///< non-empty: answer 400 with it
};
Params check_query(const Query& q, std::initializer_list<const char*> allowed) {
  Params p;
  for (const auto& [k, v] : q) {
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) {
      p.problem = fmt::format("unknown query parameter '{}'", util::printable(k.substr(0, 40)));
      return p;
    }
    if (!p.values.emplace(k, v).second) {
      p.problem = fmt::format("query parameter '{}' given twice", k);
      return p;
    }
  }
  return p;
}

/// A whole decimal integer in [lo, hi], nothing else.
std::optional<long long> parse_int(const std::string& s, long long lo, long long hi) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

/// A campaign name as a query or path gives it: 1 to kMaxName bytes of valid
/// UTF-8 without control characters (a name the store could hold).
bool plausible_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxName || util::valid_utf8(s) != s) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

json campaign_json(const results::CampaignView& view) {
  const auto now = now_unix();
  json j;
  j["name"] = view.campaign.name;
  j["status"] = report::to_json(report::status(view, now));
  j["created_at"] = view.campaign.created_at;
  j["target"] = view.metadata.value("target", json());
  j["workload"] = view.metadata.value("workload", json());

  const auto main = report::main_objective(view);
  j["main"] = {{"metric", main.metric}, {"direction", main.maximize ? "maximize" : "minimize"}};
  json objectives = json::array();
  for (const auto& o : view.objectives)
    objectives.push_back({{"metric", o.metric},
                          {"direction", o.optimized ? (o.maximize ? "maximize" : "minimize") : "limit"},
                          {"limit", o.has_limit() ? json(o.limit_text()) : json()}});
  j["objectives"] = objectives;

  // The recommendation, its interval and the Pareto marks: `best --json`'s object and the report's marks.
  j["recommendation"] = nullptr;
  j["marks"] = {{"front", json::array()}, {"infeasible", json::array()}, {"pick", nullptr}};
  if (auto rec = results::recommend(view, {.metric = main.metric})) {
    j["recommendation"] = results::to_json(view, *rec);
    auto marks = report::front_marks(view, *rec);
    for (const auto& t : view.trials) {
      if (!t.ok) continue;
      if (marks.front.contains(t.config)) j["marks"]["front"].push_back(t.seq);
      if (marks.infeasible.contains(t.config)) j["marks"]["infeasible"].push_back(t.seq);
    }
    if (rec->pick) j["marks"]["pick"] = view.trials[*rec->pick].seq;
  } else {
    j["recommendation_error"] = rec.error().message;
  }

  // Parallel coordinates: every parameter's axis position (report::axis_position), then the objective.
  auto params = report::parameters(view);
  json axes = json::array(), rows = json::array();
  for (const auto& p : params)
    axes.push_back({{"name", p.name}, {"type", p.type}, {"lo", p.lo}, {"hi", p.hi}, {"log", p.log_scale}, {"values", p.values}});
  for (const auto& t : view.trials) {
    auto y = t.value(main.metric);
    if (!y || !results::is_search(t.kind)) continue;
    json pos = json::array();
    for (const auto& p : params) pos.push_back(finite(report::axis_position(p, t.params.value(p.name, json()))));
    rows.push_back({{"seq", t.seq}, {"axes", pos}, {"value", *y}});
  }
  j["parallel"] = {{"axes", axes}, {"rows", rows}};

  auto imp = report::importance(params, view.trials, main);
  json ip = json::array();
  for (const auto& p : imp.params) ip.push_back({{"name", p.name}, {"share", finite(p.share)}, {"effect_sd", finite(p.effect_sd)}});
  j["importance"] = {{"metric", imp.metric}, {"points", imp.points}, {"note", imp.note}, {"params", ip}};
  return j;
}

}  // namespace

util::Result<store::Store> open_store(const Options& options) {
  return store::Store::open(options.db, {.create = false, .read_only = true, .busy_timeout_ms = options.busy_timeout_ms});
}

struct Handler::Cache {
  std::mutex mutex;
  struct Entry {
    std::string key;  ///< what the answer was computed from
    json value;
  };
  std::map<std::string, Entry> campaigns;
  std::optional<std::string> chart_js;  ///< read once
};

Handler::Handler(Options options) : options_(std::move(options)), cache_(std::make_unique<Cache>()) {}
Handler::~Handler() = default;

Response Handler::handle(const std::string& method, const std::string& path, const Query& query) {
  if (method != "GET" && method != "HEAD") return error(405, "the dashboard is read-only: only GET and HEAD");
  if (path == "/" || path == "/index.html") {
    if (!query.empty()) return error(400, "the page takes no query parameters");
    return {200, "text/html; charset=utf-8", std::string(kPage)};
  }
  if (path == "/app.js") return {200, "text/javascript; charset=utf-8", std::string(kScript)};
  if (path == "/chart.js") {
    std::lock_guard lock(cache_->mutex);
    if (!cache_->chart_js) {
      auto text = util::read_file(options_.chart_js);
      if (!text) return error(500, "cannot read Chart.js: " + text.error().message);
      cache_->chart_js = std::move(*text);
    }
    return {200, "text/javascript; charset=utf-8", *cache_->chart_js};
  }
  if (path == "/api/config") {
    return ok({{"campaign", options_.campaign}, {"poll_ms", options_.poll_ms}, {"version", KERNTUNE_VERSION_STRING}});
  }
  const bool campaigns = path == "/api/campaigns";
  const bool trials = path == "/api/trials";
  const bool one_trial = path == "/api/trial";
  const std::string prefix = "/api/campaign/";
  const bool campaign = path.starts_with(prefix);
  if (!campaigns && !trials && !one_trial && !campaign) return error(404, "no such page");

  Params q = campaigns || campaign ? check_query(query, {})
             : trials              ? check_query(query, {"campaign", "since"})
                                   : check_query(query, {"campaign", "seq"});
  if (!q.problem.empty()) return error(400, q.problem);
  std::string name = campaign ? path.substr(prefix.size()) : (q.values.contains("campaign") ? q.values["campaign"] : "");
  if (!campaigns && !plausible_name(name)) return error(400, "a campaign name of 1 to 200 printable characters is needed");
  long long since = -1, seq = 0;
  if (trials && q.values.contains("since")) {
    auto v = parse_int(q.values["since"], -1, 1'000'000'000);
    if (!v) return error(400, "since must be a whole number from -1 to 1000000000");
    since = *v;
  }
  if (one_trial) {
    auto v = q.values.contains("seq") ? parse_int(q.values["seq"], 0, 1'000'000'000) : std::nullopt;
    if (!v) return error(400, "seq must be a whole number from 0 to 1000000000");
    seq = *v;
  }

  auto st = open_store(options_);
  if (!st) return error(503, "cannot read the store: " + st.error().message);
  if (campaigns) {
    auto all = st->campaigns();
    if (!all) return error(503, all.error().message);
    json out = json::array();
    for (const auto& c : *all) out.push_back({{"name", c.name}, {"status", c.status}, {"created_at", c.created_at}, {"updated_at", c.updated_at}});
    return ok(out);
  }
  auto row = st->find_campaign(name);
  if (!row) return error(503, row.error().message);
  if (!*row) return error(404, "no such campaign");
  auto view = results::load_view(*st, **row);
  if (!view) return error(503, view.error().message);

  if (campaign) {
    // The importance model is refitted only when the trials or the state changed.
    std::string key = fmt::format("{}/{}/{}/{}", view->trials.size(), view->trials.empty() ? -1 : view->trials.back().seq,
                                  view->campaign.status, view->campaign.updated_at);
    {
      std::lock_guard lock(cache_->mutex);
      auto it = cache_->campaigns.find(name);
      if (it != cache_->campaigns.end() && it->second.key == key) {
        json j = it->second.value;
        j["status"] = report::to_json(report::status(*view, now_unix()));  // elapsed and ETA move on
        return ok(j);
      }
    }
    json j = campaign_json(*view);
    std::lock_guard lock(cache_->mutex);
    cache_->campaigns[name] = {key, j};
    return ok(j);
  }
  if (trials) {
    json list = json::array();
    for (const auto& t : view->trials) {
      if (t.seq <= since) continue;
      json tj = results::to_json(t);
      tj["seconds"] = t.seconds();
      list.push_back(std::move(tj));
    }
    return ok({{"campaign", name}, {"last_seq", view->trials.empty() ? -1 : view->trials.back().seq}, {"trials", list}});
  }
  const results::Trial* t = view->trial_by_seq(static_cast<int>(seq));
  if (!t) return error(404, "no such trial");
  json tj = results::to_json(*t);
  tj["seconds"] = t->seconds();
  tj["artifacts"] = json::array();
  auto artifacts = st->trial_artifacts(t->id);
  if (!artifacts) return error(503, artifacts.error().message);
  for (auto& a : *artifacts) {
    bool cut = a.content.size() > kMaxArtifact;
    if (cut) a.content.resize(kMaxArtifact);
    json aj = results::to_json(a);
    aj["truncated"] = cut;
    tj["artifacts"].push_back(std::move(aj));
  }
  return ok(tj);
}

}  // namespace kerntune::dashboard
