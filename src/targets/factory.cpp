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

using Parser = util::Result<TargetSpec> (*)(const YAML::Node&, const TargetContext&);

/// One row per backend: its `kind:` and the function that parses its
/// options into a spec (which makes its targets). A new backend is one row here.
struct TargetKind {
  std::string_view kind;
  Parser parse;
};
constexpr TargetKind kKinds[] = {
    {"command", &parse_command_target},
    {"qemu", &parse_qemu_target},
    {"ssh", &parse_ssh_target},
    {"lava", &parse_lava_target},
    {"libvirt", &parse_libvirt_target},
};

std::string kind_list() {
  std::string out;
  for (const auto& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.kind);
  return out;
}

}  // namespace

util::Result<std::unique_ptr<Target>> TargetSpec::make(const TargetContext& ctx) const {
  if (!make_) return util::internal_error("an empty target spec cannot make a target");
  return make_(ctx);
}

util::Result<TargetSpec> parse_target(const YAML::Node& node, const TargetContext& ctx) {
  if (!node || !node.IsMap()) return util::fail_at(node, ctx.recipe_file, "'target' must be a mapping with a 'kind'");
  YAML::Node kind_node = node["kind"];
  if (!kind_node) return util::fail_at(node, ctx.recipe_file, fmt::format("'target' needs a 'kind' ({})", kind_list()));
  KT_TRY(std::string kind, util::as_string(kind_node, ctx.recipe_file, "kind"));
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.parse(node, ctx);
  std::vector<std::string> kinds;
  for (const auto& k : kKinds) kinds.emplace_back(k.kind);
  std::string msg = fmt::format("unknown target kind '{}'", kind);
  if (auto c = util::closest(kind, kinds)) msg += fmt::format(" (did you mean '{}'?)", *c);
  else msg += fmt::format(" (known kinds: {})", kind_list());
  return util::fail_at(kind_node, ctx.recipe_file, msg);
}

util::Result<std::unique_ptr<Target>> make_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(TargetSpec spec, parse_target(node, ctx));
  return spec.make(ctx);
}

}  // namespace kerntune::targets
