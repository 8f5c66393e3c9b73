// Loading workload files (recipes/workloads/NAME.yaml) with located errors.
#include "kerntune/workloads/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/workloads/metric_regex.hpp"

namespace kerntune::workloads {
namespace fs = std::filesystem;
namespace {

using util::fail_at;

util::Result<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& file,
                                                   const std::string& field) {
  if (!node.IsSequence())
    return fail_at(node, file, fmt::format("'{}' must be a list of strings", field));
  std::vector<std::string> out;
  for (const auto& item : node) {
    if (!item.IsScalar())
      return fail_at(item, file, fmt::format("each item of '{}' must be a string", field));
    out.push_back(item.Scalar());
  }
  return out;
}

// An argv: a non-empty list of strings. A plain string is refused on purpose:
// splitting it would need a shell's quoting rules, and no shell runs it.
util::Result<std::vector<std::string>> argv_of(const YAML::Node& node, const std::string& file,
                                               const std::string& field) {
  if (node.IsScalar())
    return fail_at(node, file,
                   fmt::format("'{}' must be a list of arguments, e.g. [hackbench, -g, \"4\"], "
                               "not a string (no shell runs it)",
                               field));
  KT_TRY(auto argv, string_list(node, file, field));
  if (argv.empty() || argv[0].empty())
    return fail_at(node, file, fmt::format("'{}' must name a program as its first argument", field));
  return argv;
}

util::Result<MetricSpec> parse_metric(const YAML::Node& node, const std::string& file,
                                      const std::set<std::string>& seen) {
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"name", "regex", "kerntune_metric", "distribution", "unit", "direction", "scale"},
                                 "a metric"));
  MetricSpec m;
  if (!node["name"]) return fail_at(node, file, "a metric needs a 'name'");
  KT_TRY(m.name, util::as_string(node["name"], file, "name"));
  if (!valid_metric_name(m.name))
    return fail_at(node["name"], file,
                   fmt::format("metric name '{}' may hold only letters, digits, '_', '-', '.' (at most 128)", m.name));
  if (seen.contains(m.name)) return fail_at(node["name"], file, fmt::format("metric '{}' is defined twice", m.name));
  bool kt = false;
  if (node["kerntune_metric"]) {
    KT_TRY(kt, util::as_bool(node["kerntune_metric"], file, "kerntune_metric"));
  }
  if (kt && node["regex"])
    return fail_at(node["regex"], file,
                   fmt::format("metric '{}' has both 'regex' and 'kerntune_metric: true'; use one", m.name));
  if (node["distribution"]) {
    const YAML::Node& d = node["distribution"];
    if (kt || node["regex"])
      return fail_at(d, file,
                     fmt::format("metric '{}' has 'distribution' and also '{}'; use one", m.name,
                                 kt ? "kerntune_metric: true" : "regex"));
    if (!d.IsMap())
      return fail_at(d, file,
                     "'distribution' must be a mapping {regex: '...(?<value>...)...(?<count>...)', percentile: 99}");
    KT_TRY_STATUS(util::check_keys(d, file, {"regex", "percentile", "cumulative"}, "a distribution"));
    if (!d["regex"]) return fail_at(d, file, fmt::format("the distribution of metric '{}' needs a 'regex'", m.name));
    if (!d["percentile"])
      return fail_at(d, file, fmt::format("the distribution of metric '{}' needs a 'percentile' (e.g. 99)", m.name));
    m.source = MetricSpec::Source::distribution;
    KT_TRY(m.regex, util::as_string(d["regex"], file, "regex"));
    auto compiled = compile_metric_regex(m.regex);
    if (!compiled) return fail_at(d["regex"], file, fmt::format("metric '{}': {}", m.name, compiled.error().message));
    if (!compiled->groups.contains("count"))
      return fail_at(d["regex"], file,
                     fmt::format("metric '{}': a distribution regex needs a (?<count>...) group beside (?<value>...)",
                                 m.name));
    m.compiled = std::make_shared<const MetricRegex>(std::move(*compiled));
    KT_TRY(m.percentile, util::as_double(d["percentile"], file, "percentile"));
    if (!(m.percentile > 0 && m.percentile <= 100))
      return fail_at(d["percentile"], file,
                     fmt::format("'percentile' must be above 0 and at most 100, got {}", m.percentile));
    if (d["cumulative"]) {
      KT_TRY(m.cumulative, util::as_bool(d["cumulative"], file, "cumulative"));
    }
  } else if (kt) {
    m.source = MetricSpec::Source::kerntune_metric;
  } else {
    if (!node["regex"])
      return fail_at(node, file,
                     fmt::format("metric '{}' needs a 'regex' with a (?<value>...) group, "
                                 "'kerntune_metric: true', or a 'distribution'",
                                 m.name));
    KT_TRY(m.regex, util::as_string(node["regex"], file, "regex"));
    auto compiled = compile_metric_regex(m.regex);
    if (!compiled) return fail_at(node["regex"], file, fmt::format("metric '{}': {}", m.name, compiled.error().message));
    m.compiled = std::make_shared<const MetricRegex>(std::move(*compiled));
  }
  if (node["unit"]) {
    KT_TRY(m.unit, util::as_string(node["unit"], file, "unit"));
  }
  if (node["direction"]) {
    KT_TRY(m.direction, util::as_string(node["direction"], file, "direction"));
    if (m.direction != "minimize" && m.direction != "maximize") {
      std::string msg = fmt::format("unknown direction '{}' (use minimize or maximize)", m.direction);
      if (auto c = util::closest(m.direction, {"minimize", "maximize"})) msg += fmt::format("; did you mean '{}'?", *c);
      return fail_at(node["direction"], file, msg);
    }
  }
  if (node["scale"]) {
    KT_TRY(m.scale, util::as_double(node["scale"], file, "scale"));
    if (m.scale == 0 || !std::isfinite(m.scale))
      return fail_at(node["scale"], file, "'scale' must be a finite, non-zero number");
    if (m.source == MetricSpec::Source::distribution && m.scale < 0)
      return fail_at(node["scale"], file, "a distribution metric's 'scale' must be positive (it would reverse the order)");
  }
  return m;
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

// A search dir that holds a workloads/ folder (e.g. recipes/) stands for that
// folder, so recipes next to it are never taken for workloads.
fs::path workload_dir(const std::string& dir) {
  std::error_code ec;
  fs::path sub = fs::path(dir) / "workloads";
  return fs::is_directory(sub, ec) ? sub : fs::path(dir);
}

}  // namespace

bool valid_metric_name(std::string_view n) {
  if (n.empty() || n.size() > 128) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

const MetricSpec* Workload::find_metric(std::string_view metric_name) const {
  for (const auto& m : metrics)
    if (m.name == metric_name) return &m;
  return nullptr;
}

util::Result<Workload> parse_workload(const std::string& text, const std::string& file) {
  KT_TRY(YAML::Node root, util::load_yaml_string(text, file));
  if (!root.IsMap()) return fail_at(root, file, "a workload file must be a mapping (name:, command:, metrics:, ...)");
  KT_TRY_STATUS(util::check_keys(root, file,
                                 {"name", "description", "binaries", "modules", "setup", "command",
                                  "repeats", "warmup", "timeout", "metrics"},
                                 "a workload"));
  Workload w;
  w.file = file;
  w.name = stem_of(file);
  if (root["name"]) {
    KT_TRY(w.name, util::as_string(root["name"], file, "name"));
    if (w.name.empty()) return fail_at(root["name"], file, "'name' must not be empty");
  }
  if (root["description"]) {
    KT_TRY(w.description, util::as_string(root["description"], file, "description"));
  }
  if (root["binaries"]) {
    KT_TRY(w.binaries, string_list(root["binaries"], file, "binaries"));
  }
  if (root["modules"]) {
    KT_TRY(w.modules, string_list(root["modules"], file, "modules"));
  }
  if (root["setup"]) {
    const YAML::Node setup = root["setup"];
    if (!setup.IsSequence())
      return fail_at(setup, file, "'setup' must be a list of commands, each a list of arguments");
    for (const auto& step : setup) {
      KT_TRY(auto argv, argv_of(step, file, "setup"));
      w.setup.push_back(std::move(argv));
    }
  }
  if (!root["command"])
    return fail_at(root, file, "a workload needs a 'command' (a list of arguments run per repeat)");
  KT_TRY(w.command, argv_of(root["command"], file, "command"));
  if (root["repeats"]) {
    KT_TRY(long long r, util::as_int(root["repeats"], file, "repeats"));
    if (r < 1 || r > 100000) return fail_at(root["repeats"], file, "'repeats' must be between 1 and 100000");
    w.repeats = static_cast<int>(r);
  }
  if (root["warmup"]) {
    KT_TRY(long long r, util::as_int(root["warmup"], file, "warmup"));
    if (r < 0 || r > 100000) return fail_at(root["warmup"], file, "'warmup' must be between 0 and 100000");
    w.warmup = static_cast<int>(r);
  }
  if (root["timeout"]) {
    KT_TRY(std::string t, util::as_string(root["timeout"], file, "timeout"));
    auto d = util::parse_duration(t);
    if (!d) return fail_at(root["timeout"], file, fmt::format("'timeout': {}", d.error().message));
    if (d->count() <= 0) return fail_at(root["timeout"], file, "'timeout' must be positive");
    w.timeout = *d;
  }
  if (!root["metrics"] || !root["metrics"].IsSequence() || root["metrics"].size() == 0)
    return fail_at(root["metrics"] ? root["metrics"] : root, file,
                   "a workload needs 'metrics': a non-empty list of {name, regex | kerntune_metric, unit, "
                   "direction, scale}");
  std::set<std::string> seen;
  for (const auto& node : root["metrics"]) {
    KT_TRY(MetricSpec m, parse_metric(node, file, seen));
    seen.insert(m.name);
    w.metrics.push_back(std::move(m));
  }
  return w;
}

util::Result<Workload> load_workload(const std::string& name_or_path,
                                     const std::vector<std::string>& search_dirs, const std::string& base_dir) {
  auto ends_with = [&](std::string_view suffix) {
    return name_or_path.size() >= suffix.size() &&
           name_or_path.compare(name_or_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::string path;
  if (name_or_path.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml")) {
    path = name_or_path;
    if (!base_dir.empty() && fs::path(path).is_relative()) {
      fs::path beside = fs::path(base_dir) / path;
      std::error_code ec;
      if (fs::exists(beside, ec) || !fs::exists(path, ec)) path = beside.lexically_normal().string();
    }
  } else {
    std::vector<std::string> tried;
    for (const auto& dir : search_dirs) {
      fs::path d = workload_dir(dir);
      for (const auto& candidate : {d / (name_or_path + ".yaml"), d / (name_or_path + ".yml")}) {
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) {
          path = candidate.string();
          break;
        }
        tried.push_back(candidate.string());
      }
      if (!path.empty()) break;
    }
    if (path.empty()) {
      auto names = available_workloads(search_dirs);
      std::string msg = fmt::format("no workload named '{}'", name_or_path);
      if (auto c = util::closest(name_or_path, names)) msg += fmt::format(" (did you mean '{}'?)", *c);
      if (!names.empty()) msg += fmt::format("; available: {}", fmt::join(names, ", "));
      msg += fmt::format("; looked for {}", tried.empty() ? std::string("nothing (no search dirs)") : fmt::format("{}", fmt::join(tried, ", ")));
      return util::invalid_input(msg);
    }
  }
  KT_TRY(std::string text, util::read_file(path));
  return parse_workload(text, path);
}

std::vector<std::string> available_workloads(const std::vector<std::string>& search_dirs) {
  std::set<std::string> names;
  for (const auto& dir : search_dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(workload_dir(dir), ec), end; !ec && it != end; it.increment(ec)) {
      auto ext = it->path().extension().string();
      if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) names.insert(it->path().stem().string());
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace kerntune::workloads
