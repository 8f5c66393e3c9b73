#pragma once
// Internal to the targets: the recipe key shapes the qemu, ssh and lava
// targets' option parsers share. Each reads one optional key of a target's
// mapping and reports a bad value at its location in the recipe file.
#include <chrono>
#include <string>

#include "kerntune/util/result.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets::fields {

/// `p` resolved against `base` (the recipe's folder) when it is relative;
/// empty paths and an empty base leave `p` unchanged.
std::string resolve_path(const std::string& p, const std::string& base);

/// If `node[key]` is present, its string value goes into `out`; otherwise
/// `out` keeps its default.
util::Status optional_string(const YAML::Node& node, const std::string& file, const char* key, std::string& out);

/// If `node[key]` is present, it is parsed with util::parse_duration into
/// `out` (a parse error is reported at the key's value). With
/// `require_positive`, a zero duration fails with "<key> must be positive".
util::Status optional_duration(const YAML::Node& node, const std::string& file, const char* key,
                               std::chrono::milliseconds& out, bool require_positive = true);

/// `sub` inside `work_dir` (a worker's work folder), or "" without one.
std::string work_subdir(const std::string& work_dir, const char* sub);

/// A place in the recipe kept past parsing, for an error a target reports
/// when it is made (no YAML node is held that long).
struct Place {
  std::string file;
  int line = 0;
  int column = 0;
  static Place of(const YAML::Node& node, const std::string& file) {
    return {file, node.Mark().line + 1, node.Mark().column + 1};
  }
  std::unexpected<util::Error> fail(std::string message) const {
    return util::fail_at(file, line, column, std::move(message));
  }
};

}  // namespace kerntune::targets::fields
