// Recipe keys of the lava target and their defaults.
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "option_fields.hpp"
#include "lava_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

using fields::resolve_path;

// A token goes into a curl config file as a quoted string: keep it to the
// characters LAVA's tokens use.
bool token_ok(const std::string& t) {
  if (t.empty()) return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

std::string LavaOptions::validate() const {
  if (mode != "local" && mode != "server") return fmt::format("mode must be local or server, not '{}'", mode);
  if (kernel.empty()) return "no kernel image";
  if (cmdline_base.find("console=ttyS0") == std::string::npos)
    return "cmdline_base must keep console=ttyS0: LAVA reads the trial from the first serial port";
  if (mode == "local" && device.empty()) return "mode local needs a device file (target.device)";
  if (mode == "server") {
    if (!util::starts_with(url, "http://") && !util::starts_with(url, "https://"))
      return fmt::format("url must start with http:// or https://, not '{}'", url);
    if (!token_ok(token)) return "mode server needs an API token (token, token_file or $KERNTUNE_LAVA_TOKEN) of letters, digits, '-', '_', '.'";
    if (device_type.empty()) return "device_type must not be empty";
  }
  if (artifact_dir.empty() != artifact_url.empty()) return "artifact_dir and artifact_url go together";
  return {};
}

std::optional<std::string> default_lava_device(const std::vector<std::string>& start_dirs) {
  if (const char* d = std::getenv("KERNTUNE_LAVA_DEVICE"); d && *d) return std::string(d);
  for (const auto& start : start_dirs) {
    if (start.empty()) continue;
    std::error_code ec;
    for (fs::path dir = fs::absolute(start, ec); !ec; dir = dir.parent_path()) {
      auto p = dir / ".cache" / "lava" / "qemu-device.yaml";
      if (fs::exists(p)) return p.string();
      if (dir == dir.parent_path()) break;
    }
  }
  return std::nullopt;
}

util::Result<LavaOptions> parse_lava_options(const YAML::Node& node, const TargetContext& ctx) {
  const std::string& file = ctx.recipe_file;
  if (!node || !node.IsMap()) return util::fail_at(node, file, "'target' must be a mapping");
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"kind", "mode", "kernel", "modules_dir", "cmdline_base", "boot_timeout",
                                  "job_timeout", "device", "lava_run", "url", "token", "token_file", "device_type",
                                  "priority", "tags", "poll_interval", "artifact_dir", "artifact_url"},
                                 "lava target"));
  LavaOptions o;
  auto str = [&](const char* key, std::string& into) { return fields::optional_string(node, file, key, into); };
  KT_TRY_STATUS(str("url", o.url));
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  o.mode = o.url.empty() ? "local" : "server";
  KT_TRY_STATUS(str("mode", o.mode));
  if (auto k = node["kernel"]) {
    KT_TRY(std::string kernel, util::as_string(k, file, "kernel"));
    o.kernel = resolve_path(kernel, ctx.recipe_dir);
    if (!fs::is_regular_file(o.kernel))
      return util::fail_at(k, file, fmt::format("kernel image '{}' does not exist (run scripts/fetch-kernel, or fix target.kernel)", o.kernel));
  } else {
    auto found = default_kernel({ctx.recipe_dir, fs::current_path().string()});
    if (!found || !fs::is_regular_file(*found))
      return util::fail_at(node, file, "no kernel image: set target.kernel, set KERNTUNE_KERNEL, or run scripts/fetch-kernel");
    o.kernel = *found;
  }
  if (auto m = node["modules_dir"]) {
    KT_TRY(std::string dir, util::as_string(m, file, "modules_dir"));
    o.modules_dir = resolve_path(dir, ctx.recipe_dir);
    if (!fs::is_directory(o.modules_dir))
      return util::fail_at(m, file, fmt::format("modules_dir '{}' is not a folder", o.modules_dir));
  }
  KT_TRY_STATUS(str("cmdline_base", o.cmdline_base));
  KT_TRY_STATUS(fields::optional_duration(node, file, "boot_timeout", o.boot_timeout));
  KT_TRY_STATUS(fields::optional_duration(node, file, "job_timeout", o.job_timeout));
  KT_TRY_STATUS(fields::optional_duration(node, file, "poll_interval", o.poll_interval));
  KT_TRY_STATUS(str("lava_run", o.lava_run));
  KT_TRY_STATUS(str("device_type", o.device_type));
  KT_TRY_STATUS(str("priority", o.priority));
  if (auto t = node["tags"]) {
    if (!t.IsSequence()) return util::fail_at(t, file, "tags must be a list of LAVA device tags");
    for (const auto& item : t) {
      KT_TRY(std::string tag, util::as_string(item, file, "tags"));
      o.tags.push_back(tag);
    }
  }
  KT_TRY_STATUS(str("artifact_dir", o.artifact_dir));
  o.artifact_dir = resolve_path(o.artifact_dir, ctx.recipe_dir);
  KT_TRY_STATUS(str("artifact_url", o.artifact_url));
  while (!o.artifact_url.empty() && o.artifact_url.back() == '/') o.artifact_url.pop_back();

  if (o.mode == "local") {
    if (auto d = node["device"]) {
      KT_TRY(std::string dev, util::as_string(d, file, "device"));
      o.device = resolve_path(dev, ctx.recipe_dir);
      if (!fs::is_regular_file(o.device))
        return util::fail_at(d, file, fmt::format("LAVA device file '{}' does not exist", o.device));
    } else if (auto found = default_lava_device({ctx.recipe_dir, fs::current_path().string()})) {
      o.device = *found;
    } else {
      return util::fail_at(node, file, "no LAVA device file: set target.device, set KERNTUNE_LAVA_DEVICE, or run "
                                       "scripts/lava-setup (which renders .cache/lava/qemu-device.yaml)");
    }
    if (!util::which(o.lava_run))
      return util::fail_at(node, file, fmt::format("'{}' is not installed (scripts/lava-setup installs lava-dispatcher)", o.lava_run));
    if (geteuid() != 0) return util::fail_at(node, file, "lava-run needs root (mode: local)");
  } else {
    if (auto t = node["token"]) {
      KT_TRY(o.token, util::as_string(t, file, "token"));
    } else if (auto tf = node["token_file"]) {
      KT_TRY(std::string path, util::as_string(tf, file, "token_file"));
      auto text = util::read_file(resolve_path(path, ctx.recipe_dir));
      if (!text) return util::fail_at(tf, file, text.error().message);
      o.token = util::trim(*text);
    } else if (const char* env = std::getenv("KERNTUNE_LAVA_TOKEN"); env && *env) {
      o.token = util::trim(env);
    }
    if (!util::which(o.curl)) return util::fail_at(node, file, "curl is not installed (the server mode talks REST through it)");
  }
  if (!ctx.work_dir.empty()) o.work_dir = fields::work_subdir(ctx.work_dir, "lava");
  if (auto why = o.validate(); !why.empty()) return util::fail_at(node, file, why);
  return o;
}

util::Result<TargetSpec> parse_lava_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(LavaOptions parsed, parse_lava_options(node, ctx));
  return TargetSpec("lava", [parsed](const TargetContext& worker) -> util::Result<std::unique_ptr<Target>> {
    LavaOptions o = parsed;
    if (!worker.work_dir.empty()) o.work_dir = fields::work_subdir(worker.work_dir, "lava");
    return std::unique_ptr<Target>(std::make_unique<LavaTarget>(std::move(o)));
  });
}

}  // namespace kerntune::targets
