#include "kerntune/targets/factory.hpp"

#include <fmt/format.h>

#include "command_target.hpp"
#include "lava_target.hpp"
#include "libvirt_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "ssh_target.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets {

util::Result<std::unique_ptr<Target>> make_target(const YAML::Node& node, const TargetContext& ctx) {
  if (!node || !node.IsMap()) return util::fail_at(node, ctx.recipe_file, "'target' must be a mapping with a 'kind'");
  YAML::Node kind_node = node["kind"];
  if (!kind_node) return util::fail_at(node, ctx.recipe_file, "'target' needs a 'kind' (command, qemu, ssh, lava, libvirt)");
  KT_TRY(std::string kind, util::as_string(kind_node, ctx.recipe_file, "kind"));
  if (kind == "command") return make_command_target(node, ctx);
  // Other backends register here, one line each.
  // @@TARGET-KINDS@@
  if (kind == "qemu") return make_qemu_target(node, ctx);
  if (kind == "ssh") return make_ssh_target(node, ctx);
  if (kind == "lava") return make_lava_target(node, ctx);
  if (kind == "libvirt") return make_libvirt_target(node, ctx);
  std::vector<std::string> kinds = {"command", "qemu", "ssh", "lava", "libvirt"};
  std::string msg = fmt::format("unknown target kind '{}'", kind);
  if (auto c = util::closest(kind, kinds)) msg += fmt::format(" (did you mean '{}'?)", *c);
  else msg += " (known kinds: command, qemu, ssh, lava, libvirt)";
  return util::fail_at(kind_node, ctx.recipe_file, msg);
}

}  // namespace kerntune::targets
