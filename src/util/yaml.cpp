#include "kerntune/util/yaml.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <unordered_set>

#include "kerntune/util/text.hpp"

namespace kerntune::util {

Result<YAML::Node> load_yaml_string(const std::string& text, const std::string& name) {
  if (!is_text(text))
    return fail(Error{Error::Kind::invalid_input, "not a text file (binary or invalid UTF-8 content)", name, 0, 0});
  if (trim(text).empty()) return fail(Error{Error::Kind::invalid_input, "file is empty", name, 1, 0});
  try {
    YAML::Node node = YAML::Load(text);
    if (!node || node.IsNull())
      return fail(Error{Error::Kind::invalid_input, "file holds no YAML document (only comments?)", name, 1, 0});
    return node;
  } catch (const YAML::Exception& e) {
    return fail(Error{Error::Kind::invalid_input, fmt::format("YAML syntax error: {}", e.msg), name,
                      e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0});
  }
}

Result<YAML::Node> load_yaml_file(const std::string& path) {
  KT_TRY(std::string text, read_file(path));
  return load_yaml_string(text, path);
}

Error error_at(const YAML::Node& node, const std::string& file, std::string message) {
  int line = 0, col = 0;
  if (node.IsDefined()) {
    auto m = node.Mark();
    if (m.line >= 0) line = m.line + 1;
    if (m.column >= 0) col = m.column + 1;
  }
  return Error{Error::Kind::invalid_input, std::move(message), file, line, col};
}

Status check_unique_keys(const YAML::Node& node, const std::string& file, const std::string& what) {
  if (!node.IsMap()) return {};
  std::unordered_set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it)
    if (it->first.IsScalar() && !seen.insert(it->first.Scalar()).second)
      return fail_at(it->first, file, fmt::format("duplicate key '{}' in {}", it->first.Scalar(), what));
  return {};
}

Status check_keys(const YAML::Node& node, const std::string& file, const std::vector<std::string>& allowed,
                  const std::string& what) {
  if (!node.IsMap()) return fail_at(node, file, fmt::format("{} must be a mapping", what));
  KT_TRY_STATUS(check_unique_keys(node, file, what));
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = fmt::format("unknown key '{}' in {}", key, what);
    if (auto c = closest(key, allowed)) msg += fmt::format(" (did you mean '{}'?)", *c);
    else msg += fmt::format(" (allowed: {})", fmt::join(allowed, ", "));
    return fail_at(it->first, file, msg);
  }
  return {};
}

Result<std::string> as_string(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (!node.IsScalar()) return fail_at(node, file, fmt::format("'{}' must be a scalar", field));
  return node.Scalar();
}

bool looks_like_int(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '_') return false;
  return true;
}

Result<long long> as_int(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (!looks_like_int(node))
    return fail_at(node, file, fmt::format("'{}' must be an integer, got '{}'", field, node.IsScalar() ? node.Scalar() : "a collection"));
  std::string s = node.Scalar();
  std::erase(s, '_');
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return fail_at(node, file, fmt::format("'{}' is out of range for a 64-bit integer", field));
  return v;
}

Result<double> as_double(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (!node.IsScalar()) return fail_at(node, file, fmt::format("'{}' must be a number", field));
  std::string s = node.Scalar();
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    return fail_at(node, file, fmt::format("'{}' must be a number, got '{}'", field, node.Scalar()));
  return v;
}

Result<bool> as_bool(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "yes" || s == "on" || s == "y") return true;
    if (s == "false" || s == "False" || s == "no" || s == "off" || s == "n") return false;
  }
  return fail_at(node, file, fmt::format("'{}' must be true or false, got '{}'", field,
                                         node.IsScalar() ? node.Scalar() : "a collection"));
}

}  // namespace kerntune::util
