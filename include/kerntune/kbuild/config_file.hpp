#pragma once
// A kernel .config: `CONFIG_NAME=value` lines and `# CONFIG_NAME is not set`
// (value "n"). Names are kept without the CONFIG_ prefix; string values are
// kept unquoted and unescaped. Later lines override earlier ones (as kconfig's
// conf_read does); `order` remembers which came last.
#include <map>
#include <optional>
#include <string>

#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

struct ConfigValue {
  std::string value;
  bool quoted = false;  ///< a string value ("…" in the file)
  int order = 0;        ///< position of the line that set it
};

class ConfigFile {
 public:
  static ConfigFile parse(const std::string& text);
  static util::Result<ConfigFile> read(const std::string& path);
  /// The file text: one line per symbol in `order`.
  std::string text() const;
  util::Status write(const std::string& path) const;

  std::optional<std::string> get(const std::string& name) const;
  /// Sets (or replaces) a value; it becomes the last line.
  void set(const std::string& name, const std::string& value, bool quoted = false);
  void erase(const std::string& name);
  const std::map<std::string, ConfigValue>& values() const { return values_; }
  std::size_t size() const { return values_.size(); }
  /// Symbol → value text (`n` for "is not set"); what kerntune compares and hashes.
  std::map<std::string, std::string> flat() const;

 private:
  std::map<std::string, ConfigValue> values_;
  int next_order_ = 0;
};

}  // namespace kerntune::kbuild
