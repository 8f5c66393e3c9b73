// export_bundle / write_bundle / verify_bundle / open_bundle: choosing the
// trial, the evidence, the manifest and its checksums.
#include "kerntune/export/bundle.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>

#include "kerntune/stats/best.hpp"
#include "kerntune/stats/stats.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "render.hpp"

namespace kerntune::bundle {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parse_object(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

/// Per-trial samples of one metric in repeat order, NaN gaps dropped (as
/// campaign::summarize reads them, so pairs and medians match `kerntune best`).
std::vector<double> samples_of(const store::TrialRecord& t, const std::string& metric) {
  std::vector<double> v;
  for (const auto& m : t.measurements) {
    if (m.metric != metric || m.repeat < 0) continue;
    auto r = static_cast<std::size_t>(m.repeat);
    if (v.size() <= r) v.resize(r + 1, std::nan(""));
    v[r] = m.value;
  }
  std::erase_if(v, [](double x) { return std::isnan(x); });
  return v;
}

/// The trials as the shared best-trial rule (stats/best.hpp) sees them; the
/// configuration key is the canonical params JSON, as campaign::summarize has it.
std::vector<stats::TrialMetric> metric_view(const std::vector<store::TrialRecord>& trials, const std::string& metric) {
  std::vector<stats::TrialMetric> out;
  out.reserve(trials.size());
  for (const auto& t : trials) {
    json p = json::parse(t.params_json, nullptr, false);
    if (p.is_discarded()) p = json::object();
    out.push_back({t.kind, t.status == "ok", p.dump(), samples_of(t, metric)});
  }
  return out;
}

std::string unit_of(const std::vector<store::TrialRecord>& trials, const std::string& metric) {
  for (const auto& t : trials)
    for (const auto& m : t.measurements)
      if (m.metric == metric && !m.unit.empty()) return m.unit;
  return "";
}

json metrics_json(const store::TrialRecord& t) {
  std::map<std::string, std::vector<double>> by;
  std::map<std::string, std::string> units;
  for (const auto& m : t.measurements) {
    by[m.metric].push_back(m.value);
    if (!m.unit.empty()) units[m.metric] = m.unit;
  }
  json out = json::object();
  for (const auto& [k, v] : by) {
    out[k] = {{"median", stats::median(v)}, {"samples", v}};
    if (units.contains(k)) out[k]["unit"] = units[k];
  }
  return out;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '-';
  return out.empty() ? "bundle" : out;
}

json host_description() {
  json h = json::object();
  struct utsname u {};
  if (::uname(&u) == 0)
    h["uname"] = fmt::format("{} {} {} {} {}", u.sysname, u.nodename, u.release, u.version, u.machine);
  if (auto cpu = util::read_file("/proc/cpuinfo")) {
    int count = 0;
    for (const auto& line : util::split(*cpu, '\n')) {
      if (line.rfind("model name", 0) == 0) {
        ++count;
        if (!h.contains("cpu_model")) h["cpu_model"] = util::trim(line.substr(line.find(':') + 1));
      }
    }
    h["cpus"] = count;
  }
  if (auto mem = util::read_file("/proc/meminfo")) {
    for (const auto& line : util::split(*mem, '\n'))
      if (line.rfind("MemTotal:", 0) == 0) h["memory"] = util::trim(line.substr(9));
  }
  return h;
}

/// Every regular file under dir, as sorted relative paths.
std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file() || it->is_symlink()) out.push_back(fs::relative(it->path(), dir).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

util::Status write(const fs::path& dir, const std::string& rel, const std::string& content) {
  fs::path p = dir / rel;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return util::io_error(fmt::format("cannot create '{}': {}", p.parent_path().string(), ec.message()));
  return util::write_file(p.string(), content);
}

struct Objective {
  std::string metric;
  bool maximize = false;
};

util::Result<Objective> pick_objective(const json& meta, const std::string& wanted) {
  const json objectives = meta.value("objectives", json::array());
  for (const auto& o : objectives) {
    if (!o.contains("direction")) continue;
    std::string m = o.value("metric", "");
    if (wanted.empty() || wanted == m) return Objective{m, o.value("direction", "minimize") == "maximize"};
  }
  if (wanted.empty()) return util::fail("the campaign's metadata names no objective (was it made by an older kerntune?)");
  return util::fail(fmt::format("'{}' is not an objective of this campaign", wanted));
}

/// The output may be new, an empty folder, or — with `force` — an archive
/// file or a folder holding a kerntune bundle (its manifest.json says so).
/// Any other non-empty folder is refused even with --force: export never
/// deletes what it did not write.
util::Status check_output(const fs::path& out, bool tarball, bool force) {
  auto refuse = [&](const std::string& why) {
    return util::fail(util::Error{util::Error::Kind::invalid_input, why, out.string(), 0, 0});
  };
  std::error_code ec;
  if (!fs::exists(out, ec)) return {};
  if (tarball) {
    if (!fs::is_regular_file(out, ec)) return refuse("the output exists and is not a file");
    return force ? util::Status{} : refuse("the output archive exists (pass --force to replace it)");
  }
  if (!fs::is_directory(out, ec)) return refuse("the output exists and is not a folder");
  if (fs::is_empty(out, ec)) return {};
  auto manifest = util::read_file((out / "manifest.json").string());
  bool is_bundle = false;
  if (manifest) {
    json m = json::parse(*manifest, nullptr, false);
    is_bundle = m.is_object() && m.value("format", "").starts_with("kerntune-bundle/");
  }
  if (!is_bundle) return refuse("the output folder is not empty and holds no kerntune bundle: refusing to overwrite it");
  return force ? util::Status{} : refuse("the output folder holds a bundle already (pass --force to replace it)");
}

}  // namespace

nlohmann::json bundle_values(const nlohmann::json& manifest) {
  json out = json::object();
  for (const auto& p : manifest.value("parameters", json::array())) {
    const json& v = p.contains("effective") && !p["effective"].is_null() ? p["effective"] : p.value("proposed", json());
    if (!v.is_null()) out[p.value("name", "")] = v;
  }
  return out;
}

util::Result<json> write_bundle(store::Store& store, const store::CampaignRow& campaign, int seq,
                                const std::string& objective, const std::string& name, const std::string& dir) {
  const json meta = parse_object(campaign.metadata_json);
  KT_TRY(Objective obj, pick_objective(meta, objective));
  KT_TRY(auto trials, store.trials(campaign.id));
  auto it = std::find_if(trials.begin(), trials.end(), [&](const auto& t) { return t.seq == seq; });
  if (it == trials.end()) return util::fail(fmt::format("campaign '{}' has no trial {}", campaign.name, seq));
  const store::TrialRecord& trial = *it;
  if (trial.status != "ok")
    return util::fail(fmt::format("trial {} failed at {} ({}): nothing to export", seq, trial.failure_stage, trial.failure_reason));

  // Evidence: the trial against the baseline, by the rule `kerntune best`
  // and the report use (stats/best.hpp).
  const json params = parse_object(trial.params_json);
  const auto views = metric_view(trials, obj.metric);
  const std::size_t index = static_cast<std::size_t>(it - trials.begin());
  std::vector<std::int64_t> baseline_ids, confirm_ids;
  std::size_t n_baseline = 0, n_trial = 0;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    if (t.status != "ok") continue;
    if (t.kind == "baseline" || t.kind == "rebaseline") {
      baseline_ids.push_back(t.id);
      n_baseline += views[i].samples.size();
    } else if (views[i].config == views[index].config) {
      if (t.kind == "confirm") confirm_ids.push_back(t.id);
      n_trial += views[i].samples.size();
    }
  }
  json improvement = nullptr;
  std::string headline = fmt::format("{} (trial {})", obj.metric, seq);
  if (auto imp = stats::improvement(views, index)) {
    improvement = {{"metric", obj.metric}, {"direction", obj.maximize ? "maximize" : "minimize"},
                   {"ratio", imp->ratio}, {"change_percent", (imp->ratio - 1) * 100}, {"ci95", nullptr},
                   {"n", imp->n}, {"n_baseline", n_baseline}, {"n_trial", n_trial}, {"method", imp->method}};
    headline = fmt::format("{} {:+.1f}% vs baseline", obj.metric, (imp->ratio - 1) * 100);
    if (std::isfinite(imp->lo) && std::isfinite(imp->hi)) {
      improvement["ci95"] = {imp->lo, imp->hi};
      bool better = obj.maximize ? imp->lo > 1 : imp->hi < 1;
      bool worse = obj.maximize ? imp->hi < 1 : imp->lo > 1;
      improvement["verdict"] = better ? "significant improvement" : worse ? "significant regression" : "not significant";
      headline = fmt::format("{} {:+.1f}% [{:+.1f}%, {:+.1f}%] vs baseline", obj.metric, (imp->ratio - 1) * 100,
                             (imp->lo - 1) * 100, (imp->hi - 1) * 100);
    } else {
      improvement["verdict"] = "no interval: a single measurement on one side";
    }
  }

  // Parameters, proposed and effective.
  const json effective = parse_object(trial.effective_json);
  std::vector<detail::ParamValue> values;
  json params_out = json::array();
  for (const auto& p : meta.value("parameters", json::array())) {
    detail::ParamValue v;
    v.name = p.value("name", "");
    v.domain = p.value("domain", "generic");
    v.type = p.value("type", "");
    v.default_value = p.value("default", json());
    if (v.type == "choice" && p.contains("values") && p["values"].is_array())
      for (const auto& c : p["values"]) v.choices.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    if (params.contains(v.name)) v.proposed = params[v.name];
    if (effective.contains(v.name) && effective[v.name] != v.proposed) v.effective = effective[v.name];
    params_out.push_back({{"name", v.name}, {"domain", v.domain}, {"type", v.type}, {"default", v.default_value},
                          {"proposed", v.proposed}, {"effective", v.value()},
                          {"changed", !v.value().is_null() && v.value() != v.default_value}});
    values.push_back(std::move(v));
  }

  const fs::path root(dir);
  std::string header = fmt::format("# kerntune bundle '{}': campaign '{}', trial {}. {}\n", name, campaign.name, seq, headline);
  auto has = [&](const char* domain) {
    return std::any_of(values.begin(), values.end(), [&](const auto& v) { return v.domain == domain; });
  };
  if (has("kconfig")) {
    KT_TRY_STATUS(write(root, "kernel.fragment", detail::kconfig_fragment(values, false, header)));
    KT_TRY_STATUS(write(root, "rollback/kernel.fragment", detail::kconfig_fragment(values, true, header)));
    KT_TRY(auto arts, store.trial_artifacts(trial.id));
    for (const auto& a : arts)
      if (a.name == "kernel.config") KT_TRY_STATUS(write(root, "kernel.config", a.content));
  }
  if (has("sysctl")) {
    KT_TRY_STATUS(write(root, "sysctl.d/90-kerntune.conf", detail::sysctl_conf(values, false, header)));
    KT_TRY_STATUS(write(root, "rollback/sysctl.d/90-kerntune.conf",
                        detail::sysctl_conf(values, true, "# kerntune rollback: the kernel defaults of what the bundle sets.\n")));
  }
  if (has("sysfs")) {
    KT_TRY_STATUS(write(root, "sysfs.d/90-kerntune.conf", detail::sysfs_conf(values, false, header)));
    KT_TRY_STATUS(write(root, "rollback/sysfs.d/90-kerntune.conf",
                        detail::sysfs_conf(values, true, "# kerntune rollback: the kernel defaults of what the bundle sets.\n")));
  }
  if (has("cmdline")) {
    std::string words = detail::cmdline_words(values, false);
    KT_TRY_STATUS(write(root, "cmdline", words + "\n"));
    KT_TRY_STATUS(write(root, "grub/90-kerntune.cfg", detail::grub_cfg(words, header +
        "# Install as /etc/default/grub.d/90-kerntune.cfg, then run update-grub (or grub2-mkconfig).\n")));
    KT_TRY_STATUS(write(root, "rollback/cmdline",
        fmt::format("# To undo the boot parameters: delete /etc/default/grub.d/90-kerntune.cfg, run update-grub\n"
                    "# and reboot. The bundle added: {}\n# The baseline (kernel defaults) words were: {}\n",
                    words, detail::cmdline_words(values, true))));
  }
  std::string summary = fmt::format("kerntune {}: campaign {}, trial {}: {}", name, campaign.name, seq, headline);
  KT_TRY_STATUS(write(root, fmt::format("tuned/kerntune-{}/tuned.conf", name), detail::tuned_conf(values, summary)));

  const store::TrialRecord* baseline = nullptr;
  for (const auto& t : trials)
    if (t.kind == "baseline" && t.status == "ok") { baseline = &t; break; }
  json manifest = {
      {"format", "kerntune-bundle/1"},
      {"name", name},
      {"kerntune_version", KERNTUNE_VERSION_STRING},
      {"campaign", {{"name", campaign.name}, {"id", campaign.id}, {"recipe_path", campaign.recipe_path},
                    {"recipe_hash", campaign.recipe_hash}, {"created_at", campaign.created_at},
                    {"kerntune_version", meta.value("kerntune_version", "")}}},
      {"kernel_source", meta.contains("kernel_source") ? meta["kernel_source"] : json(nullptr)},
      {"target", {{"kind", meta.value("target", "")}, {"workload", meta.value("workload", "")},
                  {"worker", trial.worker}, {"description", meta.contains("target_description") ? meta["target_description"] : json(nullptr)}}},
      {"export_host", host_description()},
      {"parameters", params_out},
      {"effective_reported", effective},
      {"objective", {{"metric", obj.metric}, {"direction", obj.maximize ? "maximize" : "minimize"},
                     {"unit", unit_of(trials, obj.metric)}}},
      {"metrics", {{"trial", metrics_json(trial)}, {"baseline", baseline ? metrics_json(*baseline) : json(nullptr)}}},
      {"improvement", improvement},
      {"headline", headline},
      {"trials", {{"trial_id", trial.id}, {"seq", trial.seq}, {"kind", trial.kind},
                  {"baseline_trial_ids", baseline_ids}, {"confirm_trial_ids", confirm_ids}}},
  };
  json files = json::object();
  for (const auto& rel : list_files(dir)) {
    if (rel == "manifest.json") continue;
    KT_TRY(std::string content, util::read_file((root / rel).string()));
    files[rel] = util::sha256_hex(content);
  }
  manifest["files"] = files;
  KT_TRY_STATUS(write(root, "manifest.json", manifest.dump(2) + "\n"));
  return manifest;
}

util::Result<json> verify_bundle(const std::string& dir) {
  const fs::path root(dir);
  auto bad = [&](const std::string& file, const std::string& why) {
    return util::fail(util::Error{util::Error::Kind::invalid_input, why, file, 0, 0});
  };
  if (!fs::is_directory(root)) return bad(dir, "not a bundle folder");
  std::string mpath = (root / "manifest.json").string();
  if (!fs::exists(mpath)) return bad(mpath, "the bundle has no manifest.json: refusing an unverifiable bundle");
  KT_TRY(std::string text, util::read_file(mpath));
  json manifest = json::parse(text, nullptr, false);
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object())
    return bad(mpath, "manifest.json is not a kerntune manifest (no 'files' checksums)");
  std::set<std::string> listed;
  for (const auto& [rel, sum] : manifest["files"].items()) {
    listed.insert(rel);
    fs::path p = root / rel;
    if (rel.find("..") != std::string::npos || !fs::is_regular_file(p))
      return bad(p.string(), "listed in manifest.json but missing from the bundle");
    KT_TRY(std::string content, util::read_file(p.string()));
    if (!sum.is_string() || util::sha256_hex(content) != sum.get<std::string>())
      return bad(p.string(), "checksum mismatch: the file was changed after export");
  }
  for (const auto& rel : list_files(dir))
    if (rel != "manifest.json" && !listed.contains(rel))
      return bad((root / rel).string(), "file not listed in manifest.json (added after export)");
  return manifest;
}

util::Result<std::string> open_bundle(const std::string& path, const std::string& scratch) {
  if (fs::is_directory(path)) return path;
  if (!fs::is_regular_file(path))
    return util::fail(util::Error{util::Error::Kind::invalid_input, "no such bundle (a folder or .tar.gz)", path, 0, 0});
  std::error_code ec;
  fs::create_directories(scratch, ec);
  util::RunOptions ro;
  ro.argv = {"tar", "-xzf", fs::absolute(path).string(), "-C", scratch};
  ro.timeout = std::chrono::minutes(2);
  KT_TRY(auto r, util::run(ro));
  if (!r.ok())
    return util::fail(util::Error{util::Error::Kind::invalid_input, "cannot unpack bundle: " + util::trim(r.err), path, 0, 0});
  std::vector<fs::path> tops;
  for (const auto& e : fs::directory_iterator(scratch, ec)) tops.push_back(e.path());
  if (tops.size() != 1 || !fs::is_directory(tops[0]))
    return util::fail(util::Error{util::Error::Kind::invalid_input, "a bundle archive holds exactly one folder", path, 0, 0});
  return tops[0].string();
}

util::Result<ExportSummary> export_bundle(store::Store& store, const ExportOptions& o) {
  // Resolve the campaign.
  KT_TRY(auto all, store.campaigns());
  std::optional<store::CampaignRow> campaign;
  for (const auto& c : all)
    if (c.name == o.campaign || (o.campaign.empty() && all.size() == 1)) campaign = c;
  if (!campaign) {
    std::string names;
    for (const auto& c : all) names += (names.empty() ? "" : ", ") + c.name;
    return util::fail(o.campaign.empty() ? fmt::format("pass --campaign (the store holds: {})", names.empty() ? "none" : names)
                                         : fmt::format("no campaign '{}' (the store holds: {})", o.campaign, names));
  }
  const json meta = parse_object(campaign->metadata_json);
  KT_TRY(Objective obj, pick_objective(meta, o.objective));
  int seq = 0;
  if (o.trial_seq) {
    seq = *o.trial_seq;
  } else {
    KT_TRY(auto trials, store.trials(campaign->id));
    auto best = stats::best_trial(metric_view(trials, obj.metric), obj.maximize);
    if (!best) return util::fail(fmt::format("no successful trial has metric '{}'", obj.metric));
    seq = trials[*best].seq;
  }
  ExportSummary s;
  s.seq = seq;
  s.name = sanitize(o.name.empty() ? fmt::format("{}-trial-{}", campaign->name, seq) : o.name);
  if (o.out.empty()) return util::fail("--out is required (a folder, or FILE.tar.gz)");
  const bool tarball = o.out.ends_with(".tar.gz") || o.out.ends_with(".tgz");
  const fs::path out = fs::absolute(o.out);
  KT_TRY_STATUS(check_output(out, tarball, o.force));

  // Written into a scratch folder beside the output, then moved into place:
  // a failed export leaves nothing half-written, and --force replaces an old
  // bundle only once the new one is complete.
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) return util::io_error(fmt::format("cannot create '{}': {}", out.parent_path().string(), ec.message()));
  const fs::path scratch = out.parent_path() / fmt::format(".{}.kerntune-export-{}", out.filename().string(), ::getpid());
  fs::remove_all(scratch, ec);
  const fs::path dir = scratch / s.name;
  fs::create_directories(dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
  struct Cleanup {
    fs::path path;
    ~Cleanup() { std::error_code e; fs::remove_all(path, e); }
  } cleanup{scratch};

  KT_TRY(json manifest, write_bundle(store, *campaign, seq, obj.metric, s.name, dir.string()));
  s.manifest = manifest;
  s.headline = manifest.value("headline", "");
  if (!o.git_repo.empty()) {
    std::string msg = fmt::format("kerntune: {}: {}\n\nCampaign '{}', trial {} (recipe sha256 {}).\n", s.name, s.headline,
                                  campaign->name, seq, campaign->recipe_hash.substr(0, 12));
    KT_TRY(s.git_commit, commit_bundle(o.git_repo, dir.string(), s.name, msg));
  }
  if (tarball) {
    const fs::path tmp = scratch / "bundle.tar.gz";
    util::RunOptions ro;
    ro.argv = {"tar", "-czf", tmp.string(), "-C", scratch.string(), s.name};
    ro.timeout = std::chrono::minutes(2);
    KT_TRY(auto r, util::run(ro));
    if (!r.ok()) return util::io_error(fmt::format("tar failed: {}", util::trim(r.err)));
    fs::rename(tmp, out, ec);  // replaces an existing file (--force was checked)
  } else {
    if (fs::exists(out)) fs::remove_all(out, ec);  // empty, or an old bundle with --force
    if (!ec) fs::rename(dir, out, ec);
  }
  if (ec) return util::io_error(fmt::format("cannot move the bundle to '{}': {}", out.string(), ec.message()));
  s.path = o.out;
  return s;
}

}  // namespace kerntune::bundle
