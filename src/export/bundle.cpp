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

#include "kerntune/results/recommend.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "render.hpp"

namespace kerntune::bundle {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string unit_of(const results::CampaignView& view, const std::string& metric) {
  for (const auto& t : view.trials)
    if (auto it = t.units.find(metric); it != t.units.end()) return it->second;
  return "";
}

/// metric → {median, samples (the repeats in order), unit}.
json metrics_json(const results::Trial& t) {
  json out = json::object();
  for (const auto& [k, v] : t.samples) {
    auto med = t.metrics.find(k);
    out[k] = {{"median", med == t.metrics.end() ? json(nullptr) : json(med->second)}, {"samples", v}};
    if (t.pooled.contains(k)) out[k]["pooled"] = true;  // "median" holds the percentile of all repeats pooled
    if (auto u = t.units.find(k); u != t.units.end()) out[k]["unit"] = u->second;
  }
  return out;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }

/// The longest bundle name: it becomes the folder "kerntune-<name>" of the
/// TuneD profile, and a folder name holds at most 255 bytes (NAME_MAX).
constexpr std::size_t kMaxName = 200;

/// A bundle name is one folder name: [A-Za-z0-9._-]{1,200} not starting with
/// '.' (so never "." or "..", which would put the bundle beside its folder).
bool safe_name(const std::string& s) {
  return !s.empty() && s.size() <= kMaxName && s.front() != '.' && std::all_of(s.begin(), s.end(), name_char);
}

/// The default name "<campaign>-trial-<seq>", the campaign's part shortened
/// so that the whole stays one folder name however long the campaign's is.
std::string default_name(const std::string& campaign, int seq) {
  const std::string suffix = fmt::format("-trial-{}", seq);
  return campaign.substr(0, kMaxName - suffix.size()) + suffix;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += name_char(c) ? c : '-';
  for (std::size_t i = 0; i < out.size() && out[i] == '.'; ++i) out[i] = '-';  // never '.' or '..'
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
  if (wanted.empty()) return util::invalid_input("the campaign's metadata names no objective (was it made by an older kerntune?)");
  return util::invalid_input(fmt::format("'{}' is not an objective of this campaign", wanted));
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
  const auto link = fs::symlink_status(out, ec);
  if (fs::is_symlink(link))
    return force ? util::Status{} : refuse("the output is a symbolic link (pass --force to replace the link itself)");
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

/// A number from a stored value (effective values may be the kernel's text).
std::optional<double> number_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const std::string t = util::trim(v.get<std::string>());
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size()) return std::nullopt;
  return d;
}

/// Values of the trial outside a parameter's safe_range (campaign metadata),
/// as "name = value (safe_range [lo, hi])" (docs/search-spaces.md, "Safe ranges").
std::vector<std::string> unsafe_values(const json& meta, const results::Trial& trial) {
  const json& params = trial.params;
  const json& effective = trial.effective;
  std::vector<std::string> out;
  for (const auto& p : meta.value("parameters", json::array())) {
    if (!p.contains("safe_range") || !p["safe_range"].is_array() || p["safe_range"].size() != 2) continue;
    const std::string name = p.value("name", "");
    const json& v = effective.contains(name) ? effective[name] : params.contains(name) ? params[name] : json();
    auto x = number_of(v);
    if (x && (*x < p["safe_range"][0].get<double>() || *x > p["safe_range"][1].get<double>()))
      out.push_back(fmt::format("{} = {} (safe_range {})", name, detail::value_text(v), p["safe_range"].dump()));
  }
  return out;
}

util::Status check_safe(const json& meta, const results::Trial& trial, bool allow_unsafe) {
  auto unsafe = unsafe_values(meta, trial);
  if (unsafe.empty() || allow_unsafe) return {};
  return util::invalid_input(fmt::format("trial {} sets {} outside the documented safe range: such a bundle trades away safety. "
                                         "Pass --allow-unsafe to export it anyway", trial.seq, fmt::join(unsafe, ", ")));
}

/// The baseline trial's value of each parameter (the defaults, or with
/// `baseline: target` what the target ran): the rollback and "changed" refer to it.
json baseline_values(const results::CampaignView& view) {
  const results::Trial* b = view.baseline();
  return b ? b->params : json::object();
}

/// The first baseline trial that succeeded, or nullptr.
const results::Trial* ok_baseline(const results::CampaignView& view) {
  for (const auto& t : view.trials)
    if (t.kind == results::TrialKind::baseline && t.ok) return &t;
  return nullptr;
}

/// What the target reported, as stored: the effective values with the list
/// of adjustments (docs/export.md, "effective_reported").
json effective_reported(const results::Trial& t) {
  json out = t.effective;
  if (!t.adjusted.empty()) out["adjusted"] = t.adjusted;
  return out;
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
  if (!safe_name(name))
    return util::invalid_input(fmt::format(
        "the bundle name '{}' is not one folder name ([A-Za-z0-9._-], 1 to {} characters, not starting with '.')",
        util::printable(name), kMaxName));
  KT_TRY(const results::CampaignView view, results::load_view(store, campaign));
  const json& meta = view.metadata;
  KT_TRY(Objective obj, pick_objective(meta, objective));
  const results::Trial* found = view.trial_by_seq(seq);
  if (!found) return util::invalid_input(fmt::format("campaign '{}' has no trial {}", campaign.name, seq));
  const results::Trial& trial = *found;
  if (!trial.ok)
    return util::invalid_input(fmt::format("trial {} failed at {} ({}): nothing to export", seq, trial.failure_stage, trial.failure_reason));

  // Evidence: the trial against the baseline over independent runs, by the
  // rule `kerntune best` and the report use (results/recommend.hpp).
  const json& params = trial.params;
  const auto index = static_cast<std::size_t>(&trial - view.trials.data());
  std::vector<std::int64_t> baseline_ids, confirm_ids;
  for (const auto& t : view.trials) {
    if (!t.ok) continue;
    if (results::measures_defaults(t.kind)) baseline_ids.push_back(t.id);
    else if (t.kind == results::TrialKind::confirm && t.config == trial.config) confirm_ids.push_back(t.id);
  }
  json improvement = nullptr;
  std::string headline = fmt::format("{} (trial {})", obj.metric, seq);
  if (auto imp = results::compare_to_baseline(view, index, obj.metric)) {
    improvement = {{"metric", obj.metric}, {"direction", obj.maximize ? "maximize" : "minimize"},
                   {"ratio", imp->ratio}, {"change_percent", (imp->ratio - 1) * 100}, {"ci95", nullptr},
                   {"n", imp->rounds}, {"rounds", imp->rounds}, {"n_baseline", imp->baseline_runs},
                   {"n_trial", imp->candidate_runs}, {"method", imp->method}, {"confirmed", imp->confirmed},
                   {"verdict", imp->verdict(obj.maximize)}};
    const std::string tag = imp->confirmed ? fmt::format("confirmed over {} rounds", imp->rounds) : "unconfirmed";
    headline = fmt::format("{} {:+.1f}% vs baseline ({})", obj.metric, (imp->ratio - 1) * 100, tag);
    if (imp->has_interval()) {
      improvement["ci95"] = {imp->lo, imp->hi};
      headline = fmt::format("{} {:+.1f}% [{:+.1f}%, {:+.1f}%] vs baseline ({})", obj.metric, (imp->ratio - 1) * 100,
                             (imp->lo - 1) * 100, (imp->hi - 1) * 100, tag);
    }
  }

  // Parameters, proposed and effective.
  const json& effective = trial.effective;
  const json base = baseline_values(view);
  std::vector<detail::ParamValue> values;
  json params_out = json::array();
  for (const auto& p : meta.value("parameters", json::array())) {
    detail::ParamValue v;
    v.name = p.value("name", "");
    v.domain = p.value("domain", "generic");
    v.type = p.value("type", "");
    v.default_value = base.contains(v.name) ? base[v.name] : p.value("default", json());
    if (v.type == "choice" && p.contains("values") && p["values"].is_array())
      for (const auto& c : p["values"]) v.choices.push_back(c.is_string() ? c.get<std::string>() : util::dump_json(c));
    if (params.contains(v.name)) v.proposed = params[v.name];
    if (effective.contains(v.name) && effective[v.name] != v.proposed) v.effective = effective[v.name];
    params_out.push_back({{"name", v.name}, {"domain", v.domain}, {"type", v.type}, {"default", v.default_value},
                          {"proposed", v.proposed}, {"effective", v.value()},
                          {"changed", !v.value().is_null() && v.value() != v.default_value}});
    values.push_back(std::move(v));
  }

  const fs::path root(dir);
  std::string header = detail::comment_text(
                           fmt::format("# kerntune bundle '{}': campaign '{}', trial {}. {}", name, campaign.name, seq, headline)) +
                       "\n";
  auto has = [&](const char* domain) {
    return std::any_of(values.begin(), values.end(), [&](const auto& v) { return v.domain == domain; });
  };
  // Every file is rendered before the first is written: a parameter that
  // cannot be written safely refuses the whole export (naming the trial).
  std::map<std::string, std::string> files_out;
  auto render = [&](const std::string& rel, util::Result<std::string> text) -> util::Status {
    if (!text)
      return util::fail_like(text.error(), fmt::format("campaign '{}', trial {}: {} (while writing {})",
                                                       util::printable(campaign.name), seq, text.error().message, rel));
    files_out[rel] = std::move(*text);
    return {};
  };
  const std::string rollback_header = "# kerntune rollback: the kernel defaults of what the bundle sets.\n";
  if (has("kconfig")) {
    KT_TRY_STATUS(render("kernel.fragment", detail::kconfig_fragment(values, false, header)));
    KT_TRY_STATUS(render("rollback/kernel.fragment", detail::kconfig_fragment(values, true, header)));
    KT_TRY(auto arts, store.trial_artifacts(trial.id));
    for (const auto& a : arts)
      if (a.name == "kernel.config") files_out["kernel.config"] = a.content;
  }
  if (has("sysctl")) {
    KT_TRY_STATUS(render("sysctl.d/90-kerntune.conf", detail::sysctl_conf(values, false, header)));
    KT_TRY_STATUS(render("rollback/sysctl.d/90-kerntune.conf", detail::sysctl_conf(values, true, rollback_header)));
  }
  if (has("sysfs")) {
    KT_TRY_STATUS(render("sysfs.d/90-kerntune.conf", detail::sysfs_conf(values, false, header)));
    KT_TRY_STATUS(render("rollback/sysfs.d/90-kerntune.conf", detail::sysfs_conf(values, true, rollback_header)));
  }
  if (has("cmdline")) {
    KT_TRY_STATUS(render("cmdline", detail::cmdline_words(values, false)));
    KT_TRY_STATUS(render("rollback/cmdline", detail::cmdline_words(values, true)));
    const std::string words = files_out["cmdline"], baseline_words = files_out["rollback/cmdline"];
    files_out["cmdline"] = words + "\n";
    KT_TRY_STATUS(render("grub/90-kerntune.cfg", detail::grub_cfg(words, header +
        "# Install as /etc/default/grub.d/90-kerntune.cfg, then run update-grub (or grub2-mkconfig).\n")));
    files_out["rollback/cmdline"] =
        fmt::format("# To undo the boot parameters: delete /etc/default/grub.d/90-kerntune.cfg, run update-grub\n"
                    "# and reboot. The bundle added: {}\n# The baseline (kernel defaults) words were: {}\n",
                    words, baseline_words);
  }
  std::string summary = fmt::format("kerntune {}: campaign {}, trial {}: {}", name, campaign.name, seq, headline);
  KT_TRY_STATUS(render(fmt::format("tuned/kerntune-{}/tuned.conf", name), detail::tuned_conf(values, summary)));
  for (const auto& [rel, text] : files_out) KT_TRY_STATUS(write(root, rel, text));

  const results::Trial* baseline = ok_baseline(view);
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
      {"effective_reported", effective_reported(trial)},
      {"objective", {{"metric", obj.metric}, {"direction", obj.maximize ? "maximize" : "minimize"},
                     {"unit", unit_of(view, obj.metric)}}},
      {"metrics", {{"trial", metrics_json(trial)}, {"baseline", baseline ? metrics_json(*baseline) : json(nullptr)}}},
      {"improvement", improvement},
      {"headline", headline},
      {"trials", {{"trial_id", trial.id}, {"seq", trial.seq}, {"kind", results::to_string(trial.kind)},
                  {"baseline_trial_ids", baseline_ids}, {"confirm_trial_ids", confirm_ids}}},
  };
  json files = json::object();
  for (const auto& rel : list_files(dir)) {
    if (rel == "manifest.json") continue;
    KT_TRY(std::string content, util::read_file((root / rel).string()));
    files[rel] = util::sha256_hex(content);
  }
  manifest["files"] = files;
  KT_TRY_STATUS(write(root, "manifest.json", util::dump_json(manifest, 2) + "\n"));
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
    // A listed name may hold ".." inside a component (a bundle named "o.."),
    // never as a component: nothing outside the bundle is read.
    const fs::path relp(rel);
    bool escapes = relp.is_absolute() || rel.empty();
    for (const auto& part : relp) escapes = escapes || part == "..";
    if (escapes) return bad(mpath, fmt::format("manifest.json lists '{}', a path outside the bundle", util::printable(rel)));
    if (!fs::is_regular_file(p)) return bad(p.string(), "listed in manifest.json but missing from the bundle");
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
    return util::invalid_input(o.campaign.empty() ? fmt::format("pass --campaign (the store holds: {})", names.empty() ? "none" : names)
                                                  : fmt::format("no campaign '{}' (the store holds: {})", o.campaign, names));
  }
  KT_TRY(const results::CampaignView view, results::load_view(store, *campaign));
  KT_TRY(Objective obj, pick_objective(view.metadata, o.objective));
  int seq = 0;
  if (o.trial_seq) {
    seq = *o.trial_seq;
  } else {
    KT_TRY(auto rec, results::recommend(view, {.metric = obj.metric}));
    if (!rec.pick)
      return util::invalid_input(fmt::format("no trial of campaign '{}' to export: {}", campaign->name,
                                             rec.notes.empty() ? rec.rule : rec.notes.front()));
    seq = view.trials[*rec.pick].seq;
  }
  if (const auto* t = view.trial_by_seq(seq)) KT_TRY_STATUS(check_safe(view.metadata, *t, o.allow_unsafe));
  ExportSummary s;
  s.seq = seq;
  s.name = o.name.empty() ? sanitize(default_name(campaign->name, seq)) : sanitize(o.name);
  if (o.out.empty()) return util::invalid_input("--out is required (a folder, or FILE.tar.gz)");
  const bool tarball = o.out.ends_with(".tar.gz") || o.out.ends_with(".tgz");
  const fs::path out = fs::absolute(o.out);
  KT_TRY_STATUS(check_output(out, tarball, o.force));

  // Written into a scratch folder beside the output, then moved into place:
  // a failed export leaves nothing half-written, and --force replaces an old
  // bundle only once the new one is complete.
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  if (ec) return util::io_error(fmt::format("cannot create '{}': {}", out.parent_path().string(), ec.message()));
  // A private scratch folder (mkdtemp: a new random name, never a path that
  // existed before), removed on every way out.
  KT_TRY(std::string made, util::make_temp_dir(fmt::format(".{}.kerntune-export", out.filename().string()),
                                               out.parent_path().string()));
  util::TempDirGuard cleanup(made);
  const fs::path scratch(made);
  const fs::path dir = scratch / s.name;
  fs::create_directories(dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create '{}': {}", dir.string(), ec.message()));

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
    if (!r.ok()) {
      std::string why = fmt::format("tar failed: {}", r.timed_out ? r.describe() : util::trim(r.err));
      return r.timed_out ? util::timeout_error(std::move(why)) : util::io_error(std::move(why));
    }
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
