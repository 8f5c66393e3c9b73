#include "kerntune/targets/factory.hpp"

#include <fmt/format.h>

#include <string_view>

#include "command_target.hpp"
#include "lava_target.hpp"
#include "libvirt_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "ssh_target.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets {

namespace {

using Maker = util::Result<std::unique_ptr<Target>> (*)(const YAML::Node&, const TargetContext&);

/// One row per backend: its `kind:` and the function that parses its
/// options and makes it. A new backend is one row here.
struct TargetKind {
  std::string_view kind;
  Maker make;
};
constexpr TargetKind kKinds[] = {
    {"command", &make_command_target},
    {"qemu", &make_qemu_target},
    {"ssh", &make_ssh_target},
    {"lava", &make_lava_target},
    {"libvirt", &make_libvirt_target},
};

std::string kind_list() {
  std::string out;
  for (const auto& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.kind);
  return out;
}

}  // namespace

util::Result<std::unique_ptr<Target>> make_target(const YAML::Node& node, const TargetContext& ctx) {
  if (!node || !node.IsMap()) return util::fail_at(node, ctx.recipe_file, "'target' must be a mapping with a 'kind'");
  YAML::Node kind_node = node["kind"];
  if (!kind_node) return util::fail_at(node, ctx.recipe_file, fmt::format("'target' needs a 'kind' ({})", kind_list()));
  KT_TRY(std::string kind, util::as_string(kind_node, ctx.recipe_file, "kind"));
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.make(node, ctx);
  std::vector<std::string> kinds;
  for (const auto& k : kKinds) kinds.emplace_back(k.kind);
  std::string msg = fmt::format("unknown target kind '{}'", kind);
  if (auto c = util::closest(kind, kinds)) msg += fmt::format(" (did you mean '{}'?)", *c);
  else msg += fmt::format(" (known kinds: {})", kind_list());
  return util::fail_at(kind_node, ctx.recipe_file, msg);
}

}  // namespace kerntune::targets
