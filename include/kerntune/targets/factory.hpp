#pragma once
// Builds a Target from a recipe's `target:` mapping. Each kind validates its
// own keys (errors located in the recipe file).
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "kerntune/targets/target.hpp"

namespace kerntune::targets {

struct TargetContext {
  std::string recipe_file;  ///< for error locations
  std::string recipe_dir;   ///< relative paths resolve against it
  std::string work_dir;     ///< scratch space for this campaign (initramfs, logs)
  std::vector<std::string> required_metrics;  ///< metrics the recipe's objectives need
  int worker_index = 0;  ///< which of the campaign's workers this target serves
  int worker_count = 1;  ///< the recipe's `workers:`
  int workers_line = 0;  ///< where `workers:` stands in the recipe (0: absent)
  int workers_column = 0;
};

/// The kinds are one table in factory.cpp (command, qemu, ssh, lava, libvirt). Unknown kind: located error with did-you-mean.
util::Result<std::unique_ptr<Target>> make_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
