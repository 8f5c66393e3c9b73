// Fuzz target: hostile stored values on every output path (issue 17,
// docs/hardening.md). Input: up to six fields separated by 0x1E — a metric
// name, its unit, an effective value of a sysctl parameter, a failure reason,
// an artifact's bytes and a campaign name. They go into a real store (a
// SQLite file) as a black box or a guest could have put them there, and come
// out through every reader: the read model results::make_view/to_json (trials, best, show),
// report::status (status, status --json), util::dump_json/printable, and the
// export writers (bundle::write_bundle). Checks: nothing throws; JSON output
// parses back; printable text holds no control character; an exported
// sysctl.d or tuned.conf holds exactly the line(s) the campaign tuned.
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "kerntune/export/bundle.hpp"
#include "kerntune/report/report.hpp"
#include "kerntune/results/view.hpp"
#include "kerntune/space/destination.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

using namespace kerntune;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> fields(std::string_view in) {
  std::vector<std::string> out = util::split(in, '\x1e');
  out.resize(6);
  return out;
}

void check_json(const json& j) {
  std::string text = util::dump_json(j, 2);
  if (json::parse(text, nullptr, false).is_discarded()) __builtin_trap();
}

void check_printable(std::string_view text) {
  std::string p = util::printable(text, true);
  for (char c : p)
    if (util::is_control(c) && c != '\n' && c != '\t') __builtin_trap();
  if (util::has_control(util::printable(text))) __builtin_trap();
}

/// The lines of an exported file that are not comments or blank.
std::vector<std::string> setting_lines(const fs::path& file) {
  std::vector<std::string> out;
  auto text = util::read_file(file.string());
  if (!text) return out;
  for (const auto& line : util::split(*text, '\n')) {
    std::string t = util::trim(line);
    if (!t.empty() && t[0] != '#') out.push_back(t);
  }
  return out;
}

void check_export(store::Store& st, const store::CampaignRow& c, const json& value) {
  const fs::path dir = fuzz::scratch_dir() / "bundle";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  auto m = bundle::write_bundle(st, c, 0, "y", "fuzz", dir.string());
  if (!m) {
    // Refused: only for a value the sysctl rule refuses, with a typed error.
    if (m.error().kind != util::Error::Kind::invalid_input) __builtin_trap();
    if (value.is_string() && !space::value_problem(space::Domain::sysctl, value.get<std::string>())) __builtin_trap();
    return;
  }
  check_json(*m);
  // Only what was tuned: one sysctl line; TuneD sections [main] and [sysctl].
  auto sysctl = setting_lines(dir / "sysctl.d/90-kerntune.conf");
  // (an empty value's line is "kernel.core_pattern =" once trimmed)
  if (sysctl.size() != 1 || !(sysctl[0] == "kernel.core_pattern =" || sysctl[0].starts_with("kernel.core_pattern = ")))
    __builtin_trap();
  for (const auto& line : setting_lines(dir / "tuned/kerntune-fuzz/tuned.conf"))
    if (line.starts_with("[") && line != "[main]" && line != "[sysctl]") __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = fields(fuzz::as_text(data, size));
  const std::string db = (fuzz::scratch_dir() / "store.db").string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  auto st = store::Store::open(db);
  if (!st) __builtin_trap();
  check_printable(f[0] + f[1] + f[2] + f[3] + f[4] + f[5]);

  store::CampaignRow row;
  row.name = f[5].empty() ? "fuzz" : f[5];
  row.recipe_text = "name: fuzz\n";
  row.metadata_json = util::dump_json(json{
      {"parameters", json::array({{{"name", "kernel.core_pattern"}, {"domain", "sysctl"}, {"type", "choice"},
                                   {"default", "core"}, {"values", json::array({"core", "|/bin/x"})}}})},
      {"objectives", json::array({{{"metric", "y"}, {"direction", "minimize"}}})}});
  auto c = st->create_campaign(row);
  if (!c) {
    if (!util::name_text_problem(row.name)) __builtin_trap();  // a valid name must be accepted
    return 0;
  }
  store::TrialRecord t;
  t.campaign_id = c->id;
  t.seq = 0;
  t.kind = "baseline";
  t.status = f[3].empty() ? "ok" : "failed";
  t.failure_stage = f[3].empty() ? "" : "workload";
  t.failure_reason = f[3];
  t.params_json = R"({"kernel.core_pattern":"core"})";
  t.effective_json = util::dump_json(json{{"kernel.core_pattern", f[2]}, {f[0], f[1]}});
  t.measurements = {{"y", 0, 1.0, f[1]}, {f[0].empty() ? "m" : f[0], 0, 2.0, f[1]}};
  if (!st->insert_trial(t, {{"stdout", f[4]}, {f[0].empty() ? "a" : f[0], f[4]}})) __builtin_trap();

  auto trials = st->trials(c->id);
  if (!trials || trials->size() != 1) __builtin_trap();
  const auto view = results::make_view(*c, *trials);
  const auto& summary = view.trials.front();
  check_json(results::to_json(summary));
  auto snap = report::status(view, 0);
  check_json(report::to_json(snap));
  check_printable(report::format_status(snap));
  auto arts = st->trial_artifacts(trials->front().id);
  if (!arts || arts->size() != 2 || arts->front().content != f[4]) __builtin_trap();  // bytes kept exactly
  if (!util::is_text(util::valid_utf8(f[4])) && f[4].find('\0') == std::string::npos) __builtin_trap();
  if (t.status == "ok") check_export(*st, *c, summary.effective.value("kernel.core_pattern", json()));
  return 0;
}
