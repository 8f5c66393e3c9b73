#include "command_target.hpp"

#include "guest_session.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kerntune/util/json.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

std::string tail_of(const std::string& s, std::size_t n) {
  if (s.size() <= n) return util::trim(s);
  return "…" + util::trim(std::string_view(s).substr(s.size() - n));
}

constexpr std::size_t kMaxEffectiveNesting = 32;

// `KERNTUNE_EFFECTIVE <name> <value>`: the value as JSON when it parses as
// JSON (numbers, true/false, quoted strings), else as a plain string.
std::vector<std::pair<std::string, nlohmann::json>> parse_effective_lines(std::string_view out) {
  std::vector<std::pair<std::string, nlohmann::json>> result;
  for (const auto& raw : util::split(out, '\n')) {
    std::string line = util::trim(raw);
    constexpr std::string_view tag = "KERNTUNE_EFFECTIVE ";
    if (!util::starts_with(line, tag)) continue;
    std::string rest = util::trim(std::string_view(line).substr(tag.size()));
    auto sp = rest.find_first_of(" \t");
    if (sp == std::string::npos) continue;
    // Bytes are data: invalid UTF-8 becomes U+FFFD, and a value nested too
    // deeply to print safely is kept as its text.
    std::string name = util::valid_utf8(rest.substr(0, sp));
    std::string value = util::valid_utf8(util::trim(std::string_view(rest).substr(sp)));
    auto j = util::json_nesting(value) <= kMaxEffectiveNesting ? nlohmann::json::parse(value, nullptr, false)
                                                               : nlohmann::json(nlohmann::json::value_t::discarded);
    result.emplace_back(name, j.is_discarded() ? nlohmann::json(value) : j);
  }
  return result;
}

/// `KERNTUNE_STAGE <stage> <seconds>` lines: time the command spent in a
/// stage kerntune's cost model knows (a script that reboots a lab machine
/// reports `boot`, one that builds a kernel `build`). Other names, negative
/// or non-finite values are ignored.
std::map<std::string, double> parse_stage_lines(std::string_view out) {
  static const std::set<std::string> known = {"boot", "build", "apply", "setup", "restore"};
  std::map<std::string, double> result;
  for (const auto& raw : util::split(out, '\n')) {
    std::string line = util::trim(raw);
    constexpr std::string_view tag = "KERNTUNE_STAGE ";
    if (!util::starts_with(line, tag)) continue;
    auto words = util::split(util::trim(std::string_view(line).substr(tag.size())), ' ');
    if (words.size() != 2 || !known.contains(words[0])) continue;
    char* end = nullptr;
    const double v = std::strtod(words[1].c_str(), &end);
    if (end == words[1].c_str() || *end != '\0' || !std::isfinite(v) || v < 0) continue;
    result[words[0]] += v;
  }
  return result;
}

class CommandTarget final : public Target {
 public:
  explicit CommandTarget(CommandTargetOptions o) : o_(std::move(o)) {}

  std::string kind() const override { return "command"; }

  // `argv` runs warm-up + repeats times (once by default), each run with
  // KERNTUNE_REPEAT set; a failed run fails the trial. After each measured
  // run but the last the request may stop the repeats (stop_after_repeat).
  util::Result<TrialOutcome> run_trial(const TrialRequest& request) override {
    std::error_code ec;
    fs::create_directories(o_.work_dir, ec);
    std::string params_path = (fs::path(o_.work_dir) / fmt::format("params-{}.json", request.seq)).string();
    KT_TRY_STATUS(util::write_file(params_path, util::dump_json(request.params, 2) + "\n"));
    const int repeats = std::max(1, request.repeats);
    const int warmup = std::max(0, request.warmup);
    const int runs = warmup + repeats;
    TrialOutcome out;
    out.worker = "local";
    out.timings["workload"] = 0;
    std::string stdout_all, stderr_all, leftovers_all;
    nlohmann::json effective = request.read_current ? nlohmann::json::object() : request.params;
    auto finish = [&](TrialOutcome o) {
      fs::remove(params_path, ec);
      o.artifacts.push_back({"stdout", stdout_all});
      if (!stderr_all.empty()) o.artifacts.push_back({"stderr", stderr_all});
      if (!leftovers_all.empty()) o.artifacts.push_back({"leftovers", leftovers_all});
      return o;
    };
    for (int i = 0; i < runs; ++i) {
      const std::string label = runs == 1 ? "" : guest::repeat_label(i, warmup, repeats);
      util::RunOptions ro;
      ro.argv = o_.argv;
      ro.cwd = o_.cwd;
      ro.env = o_.env;
      ro.env["KERNTUNE_PARAMS"] = params_path;
      ro.env["KERNTUNE_TRIAL"] = std::to_string(request.seq);
      ro.env["KERNTUNE_REPEAT"] = std::to_string(i - warmup);  // 0-based; negative for warm-up runs
      if (request.read_current) ro.env["KERNTUNE_BASELINE"] = "target";
      if (!request.boot.kernel.empty()) ro.env["KERNTUNE_KERNEL_IMAGE"] = request.boot.kernel;  // e.g. to deploy it
      ro.timeout = o_.timeout;
      request.stage(runs == 1 ? "running" : "running, " + label);
      auto run = util::run(ro);
      if (!run) {
        fs::remove(params_path, ec);
        if (run.error().kind == util::Error::Kind::interrupted) return std::unexpected(run.error());
        return TrialOutcome::failure("workload", run.error().message);
      }
      const std::string head = runs == 1 ? "" : fmt::format("== {} ==\n", label);
      // Stages the command reports are its own time, not the workload's.
      double staged = 0;
      for (const auto& [stage, secs] : parse_stage_lines(run->out)) {
        const double v = std::min(secs, std::max(0.0, run->seconds - staged));
        out.timings[stage] += v;
        staged += v;
      }
      out.timings["workload"] += run->seconds - staged;
      stdout_all += head + run->out;
      if (!run->err.empty()) stderr_all += head + run->err;
      if (!run->leftovers.empty()) {
        std::string list = fmt::format("{}", fmt::join(run->leftovers, ", "));
        util::log_warn("trial {}: the command left {} process(es) behind, killed: {}", request.seq,
                       run->leftovers.size(), util::printable(list));
        leftovers_all += head + "killed after the command exited: " + list + "\n";
      }
      const std::string in = runs == 1 ? "" : " (" + label + ")";
      if (run->timed_out) {
        out.failure_stage = "timeout";
        out.failure_reason = fmt::format("command timed out after {}{} (recipe target.timeout)",
                                         util::format_duration(o_.timeout.count() / 1000.0), in);
        return finish(std::move(out));
      }
      if (!run->ok()) {
        out.failure_stage = "workload";
        out.failure_reason = fmt::format("command failed{}: {}; stderr: {}", in, run->describe(),
                                         util::valid_utf8(tail_of(run->err, 300)));
        return finish(std::move(out));
      }
      // The command may report what it actually applied (KERNTUNE_EFFECTIVE lines);
      // reading the current values, only what it reports counts.
      for (const auto& [name, value] : parse_effective_lines(run->out)) effective[name] = value;
      if (i < warmup) continue;
      auto metrics = workloads::parse_metric_lines(run->out);
      for (const auto& m : o_.metrics) {
        if (!metrics.contains(m)) {
          out.failure_stage = "parse";
          out.failure_reason =
              fmt::format("metric '{}' missing{}: no 'KERNTUNE_METRIC {} <value>' line on stdout", m, in, m);
          return finish(std::move(out));
        }
      }
      for (const auto& [name, vu] : metrics) {
        out.samples[name].push_back(vu.first);
        if (!vu.second.empty()) out.units[name] = vu.second;
      }
      if (i + 1 < runs) {
        if (std::string why = request.should_stop(out.samples); !why.empty()) {
          out.stopped_early = std::move(why);
          break;
        }
      }
    }
    out.effective = std::move(effective);
    out.ok = true;
    return finish(std::move(out));
  }

 private:
  CommandTargetOptions o_;
};

}  // namespace

std::unique_ptr<Target> make_command_target(CommandTargetOptions options) {
  return std::make_unique<CommandTarget>(std::move(options));
}

util::Result<CommandTargetOptions> parse_command_options(const YAML::Node& node, const TargetContext& ctx) {
  const std::string& file = ctx.recipe_file;
  KT_TRY_STATUS(util::check_keys(node, file, {"kind", "argv", "timeout", "cwd", "env"}, "target"));
  CommandTargetOptions o;
  YAML::Node argv = node["argv"];
  if (!argv) return util::fail_at(node, file, "target 'command' needs 'argv' (a list: program and arguments)");
  if (!argv.IsSequence() || argv.size() == 0)
    return util::fail_at(argv, file, "'argv' must be a non-empty list, e.g. [python3, eval.py]");
  for (const auto& a : argv) {
    KT_TRY(std::string s, util::as_string(a, file, "argv"));
    o.argv.push_back(s);
  }
  // Relative paths in argv resolve against the recipe's folder: any argument
  // that names an existing file there (and the program itself if it has a '/').
  for (std::size_t i = 0; i < o.argv.size(); ++i) {
    auto& a = o.argv[i];
    if (a.empty() || fs::path(a).is_absolute()) continue;
    fs::path candidate = fs::path(ctx.recipe_dir) / a;
    bool is_program = i == 0;
    std::error_code ec;  // an argument too long for a file name (an inline script) names no file
    if ((is_program && a.find('/') != std::string::npos) || (!is_program && fs::exists(candidate, ec)))
      a = fs::absolute(candidate).lexically_normal().string();
  }
  if (o.argv[0].find('/') == std::string::npos && !util::which(o.argv[0]))
    return util::fail_at(argv[0], file, fmt::format("program '{}' not found in PATH", o.argv[0]));
  if (o.argv[0].find('/') != std::string::npos && !fs::exists(o.argv[0]))
    return util::fail_at(argv[0], file, fmt::format("program '{}' does not exist", o.argv[0]));
  if (auto t = node["timeout"]) {
    KT_TRY(std::string ts, util::as_string(t, file, "timeout"));
    auto d = util::parse_duration(ts);
    if (!d) return util::fail_at(t, file, d.error().message);
    if (d->count() <= 0) return util::fail_at(t, file, "'timeout' must be positive");
    o.timeout = *d;
  }
  o.cwd = ctx.recipe_dir;
  if (auto c = node["cwd"]) {
    KT_TRY(std::string cs, util::as_string(c, file, "cwd"));
    o.cwd = fs::path(cs).is_absolute() ? cs : (fs::path(ctx.recipe_dir) / cs).string();
  }
  if (auto e = node["env"]) {
    if (!e.IsMap()) return util::fail_at(e, file, "'env' must be a mapping of NAME: value");
    KT_TRY_STATUS(util::check_unique_keys(e, file, "env"));
    for (auto it = e.begin(); it != e.end(); ++it) {
      KT_TRY(std::string v, util::as_string(it->second, file, "env"));
      o.env[it->first.Scalar()] = v;
    }
  }
  o.metrics = ctx.required_metrics;
  o.work_dir = ctx.work_dir;
  return o;
}

util::Result<TargetSpec> parse_command_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(CommandTargetOptions parsed, parse_command_options(node, ctx));
  YAML::Node portable = YAML::Clone(node);
  portable["argv"] = parsed.argv;
  portable["cwd"] = parsed.cwd;
  auto make = [parsed](const TargetContext& worker) -> util::Result<std::unique_ptr<Target>> {
    CommandTargetOptions o = parsed;
    o.metrics = worker.required_metrics;
    o.work_dir = worker.work_dir;
    return make_command_target(std::move(o));
  };
  return TargetSpec("command", make, portable);
}

}  // namespace kerntune::targets
