#pragma once
// Helpers for user-facing YAML: loading with clear errors (missing, empty,
// binary, syntax), errors located at a node, and key checks with did-you-mean.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::util {

/// Loads a YAML document from a file. Errors (all Kind::invalid_input):
/// missing/unreadable file, empty file, binary content (NUL bytes or invalid
/// UTF-8), YAML syntax error (with its line and column).
Result<YAML::Node> load_yaml_file(const std::string& path);
/// Same for text already in memory; `name` is used as the file in errors.
Result<YAML::Node> load_yaml_string(const std::string& text, const std::string& name);

/// Error located at `node` (1-based line/column from yaml-cpp's mark).
Error error_at(const YAML::Node& node, const std::string& file, std::string message);
inline std::unexpected<Error> fail_at(const YAML::Node& node, const std::string& file,
                                      std::string message) {
  return std::unexpected<Error>(error_at(node, file, std::move(message)));
}

/// Fails on a key that appears twice in map `node` ("duplicate key 'budget'
/// in recipe", located at the second): yaml-cpp would keep the first silently.
Status check_unique_keys(const YAML::Node& node, const std::string& file, const std::string& what);
/// Fails on a duplicate key (check_unique_keys), then on the first key of map
/// `node` not in `allowed`, with a did-you-mean suggestion ("unknown key
/// 'rnage' (did you mean 'range'?)"), located at the key.
Status check_keys(const YAML::Node& node, const std::string& file,
                  const std::vector<std::string>& allowed, const std::string& what);

/// Scalar conversions that fail with a located error instead of throwing.
Result<std::string> as_string(const YAML::Node& node, const std::string& file,
                              const std::string& field);
Result<long long> as_int(const YAML::Node& node, const std::string& file,
                         const std::string& field);
Result<double> as_double(const YAML::Node& node, const std::string& file,
                         const std::string& field);
Result<bool> as_bool(const YAML::Node& node, const std::string& file,
                     const std::string& field);
/// True when a scalar's text is an integer literal (no '.', 'e', …).
bool looks_like_int(const YAML::Node& node);

}  // namespace kerntune::util
