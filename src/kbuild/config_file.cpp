#include "kerntune/kbuild/config_file.hpp"

#include <algorithm>
#include <vector>

#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

ConfigFile ConfigFile::parse(const std::string& text) {
  ConfigFile f;
  for (const auto& raw : util::split(text, '\n')) {
    std::string line = util::trim(raw);
    if (util::starts_with(line, "# CONFIG_") && line.size() > 11 && line.ends_with(" is not set")) {
      std::string name = line.substr(9, line.size() - 9 - 11);
      f.set(name, "n");
      continue;
    }
    if (!util::starts_with(line, "CONFIG_")) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(7, eq - 7);
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      std::string out;
      for (std::size_t i = 1; i + 1 < v.size(); ++i) {
        if (v[i] == '\\' && i + 2 < v.size()) ++i;
        out += v[i];
      }
      f.set(name, out, true);
    } else {
      f.set(name, v);
    }
  }
  return f;
}

util::Result<ConfigFile> ConfigFile::read(const std::string& path) {
  KT_TRY(std::string text, util::read_file(path));
  return parse(text);
}

std::string ConfigFile::text() const {
  std::vector<std::pair<int, const std::string*>> order;
  for (const auto& [name, v] : values_) order.emplace_back(v.order, &name);
  std::sort(order.begin(), order.end());
  std::string out;
  for (const auto& [o, name] : order) {
    const ConfigValue& v = values_.at(*name);
    if (!v.quoted && v.value == "n") {
      out += "# CONFIG_" + *name + " is not set\n";
    } else if (v.quoted) {
      std::string esc;
      for (char c : v.value) {
        if (c == '"' || c == '\\') esc += '\\';
        esc += c;
      }
      out += "CONFIG_" + *name + "=\"" + esc + "\"\n";
    } else {
      out += "CONFIG_" + *name + "=" + v.value + "\n";
    }
  }
  return out;
}

util::Status ConfigFile::write(const std::string& path) const { return util::write_file(path, text()); }

std::optional<std::string> ConfigFile::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.value;
}

void ConfigFile::set(const std::string& name, const std::string& value, bool quoted) {
  values_[name] = ConfigValue{value, quoted, next_order_++};
}

void ConfigFile::erase(const std::string& name) { values_.erase(name); }

std::map<std::string, std::string> ConfigFile::flat() const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_) out[k] = v.value;
  return out;
}

}  // namespace kerntune::kbuild
