#pragma once
// The `command` target: a generic black box. Runs `argv` once per trial (no
// shell) with KERNTUNE_PARAMS naming a JSON file of the active parameters, and
// reads `KERNTUNE_METRIC <name> <value> [unit]` lines from stdout.
// Protocol reference: docs/command-target.md.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kerntune/targets/factory.hpp"

namespace kerntune::targets {

struct CommandTargetOptions {
  std::vector<std::string> argv;        ///< relative paths already resolved against the recipe folder
  std::string cwd;                      ///< default: the recipe folder
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::map<std::string, std::string> env;
  std::vector<std::string> metrics;     ///< required metric names (missing → trial fails at parse)
  std::string work_dir;                 ///< where parameter files are written
};

std::unique_ptr<Target> make_command_target(CommandTargetOptions options);
/// Parses `target:` (kind: command): argv (resolved), timeout, cwd, env.
util::Result<CommandTargetOptions> parse_command_options(const YAML::Node& node, const TargetContext& ctx);
/// The factory entry for `kind: command`: its options, and targets that
/// write parameter files in the worker's folder and require its metrics.
util::Result<TargetSpec> parse_command_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
