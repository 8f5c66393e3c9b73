// Recipe key shapes shared by the target option parsers.
#include "option_fields.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "kerntune/util/text.hpp"

namespace kerntune::targets::fields {

namespace fs = std::filesystem;

std::string resolve_path(const std::string& p, const std::string& base) {
  if (p.empty() || fs::path(p).is_absolute() || base.empty()) return p;
  return (fs::path(base) / p).lexically_normal().string();
}

util::Status optional_string(const YAML::Node& node, const std::string& file, const char* key, std::string& out) {
  if (auto n = node[key]) {
    KT_TRY(out, util::as_string(n, file, key));
  }
  return {};
}

util::Status optional_duration(const YAML::Node& node, const std::string& file, const char* key,
                               std::chrono::milliseconds& out, bool require_positive) {
  auto n = node[key];
  if (!n) return {};
  KT_TRY(std::string text, util::as_string(n, file, key));
  auto d = util::parse_duration(text);
  if (!d) return util::fail_at(n, file, d.error().message);
  if (require_positive && d->count() <= 0) return util::fail_at(n, file, fmt::format("{} must be positive", key));
  out = *d;
  return {};
}

std::string work_subdir(const std::string& work_dir, const char* sub) {
  return work_dir.empty() ? std::string() : (std::filesystem::path(work_dir) / sub).string();
}

}  // namespace kerntune::targets::fields
