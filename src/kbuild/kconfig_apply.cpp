#include "kerntune/kbuild/kconfig_apply.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

namespace fs = std::filesystem;

util::Result<util::RunResult> run_make(const MakeOptions& options, const std::string& out_dir,
                                       const std::vector<std::string>& targets) {
  util::RunOptions r;
  if (options.nice > 0) r.argv = {"nice", "-n", std::to_string(options.nice)};
  r.argv.insert(r.argv.end(), {"make", "-C", options.source_dir, "O=" + fs::absolute(out_dir).string(),
                               "ARCH=" + options.arch});
  r.argv.insert(r.argv.end(), options.extra.begin(), options.extra.end());
  r.argv.insert(r.argv.end(), targets.begin(), targets.end());
  r.timeout = options.timeout;
  r.env = options.env;
  r.merge_stderr = true;
  r.on_stdout = options.on_output;
  r.max_capture = 8u << 20;
  return util::run(r);
}

namespace {

// space::to_string without linking kt_space
std::string describe(const space::Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<long long>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::get<std::string>(v);
}

}  // namespace

util::Result<std::map<std::string, std::string>> proposal_lines(const KconfigTree& tree,
                                                               const space::Assignment& proposal) {
  std::map<std::string, std::string> lines;
  for (const auto& [name, value] : proposal) {
    int id = tree.find(name);
    const std::string* sv = std::get_if<std::string>(&value);
    if (id < 0 || !tree.symbol(id).defined() || tree.symbol(id).is_choice) {
      // a choice group: the value names the member to set
      int m = sv ? tree.find(*sv) : -1;
      if (m >= 0 && tree.symbol(m).is_choice_value) {
        const KSymbol& cs = tree.symbol(tree.symbol(m).choice);
        for (int other : cs.members) lines[tree.symbol(other).name] = other == m ? "y" : "n";
        continue;
      }
      if (sv && id < 0 && tree.find(*sv) < 0 && name.ends_with("_CHOICE"))
        return util::invalid_input(fmt::format("'{}': '{}' is not a Kconfig symbol of a choice", name, *sv));
      return util::invalid_input(fmt::format("unknown Kconfig symbol '{}'", name));
    }
    const KSymbol& s = tree.symbol(id);
    auto wrong = [&](const char* want) {
      return util::invalid_input(fmt::format("Kconfig symbol {} is {}: value '{}' is not {}", name, to_string(s.type),
                                             describe(value), want));
    };
    switch (s.type) {
      case SymType::boolean:
        if (auto* b = std::get_if<bool>(&value)) lines[name] = *b ? "y" : "n";
        else if (sv && (*sv == "y" || *sv == "n")) lines[name] = *sv;
        else return wrong("true/false");
        break;
      case SymType::tristate:
        if (sv && (*sv == "y" || *sv == "m" || *sv == "n")) lines[name] = *sv;
        else if (auto* b = std::get_if<bool>(&value)) lines[name] = *b ? "y" : "n";
        else return wrong("n/m/y");
        break;
      case SymType::integer:
        if (auto* i = std::get_if<long long>(&value)) lines[name] = std::to_string(*i);
        else return wrong("an integer");
        break;
      case SymType::hex:
        if (auto* i = std::get_if<long long>(&value)) lines[name] = fmt::format("0x{:x}", *i);
        else return wrong("an integer");
        break;
      default:
        return util::invalid_input(fmt::format("Kconfig symbol {} is a {}: kerntune tunes bool, tristate, int, hex and "
                                               "choices",
                                               name, to_string(s.type)));
    }
    if (s.is_choice_value) {
      // setting a member =y deselects the others
      if (lines[name] == "y")
        for (int other : tree.symbol(s.choice).members)
          if (other != id) lines[tree.symbol(other).name] = "n";
    }
  }
  return lines;
}

space::Assignment effective_assignment(const KconfigTree& tree, const space::Assignment& proposal,
                                       const ConfigFile& resolved) {
  space::Assignment out;
  for (const auto& [name, value] : proposal) {
    int id = tree.find(name);
    auto v = id >= 0 ? resolved.get(name) : std::nullopt;
    const std::string* sv = std::get_if<std::string>(&value);
    if (id < 0 || !tree.symbol(id).defined() || tree.symbol(id).is_choice) {
      int m = sv ? tree.find(*sv) : -1;
      if (m < 0 || !tree.symbol(m).is_choice_value) continue;
      for (int member : tree.symbol(tree.symbol(m).choice).members)
        if (resolved.get(tree.symbol(member).name) == "y") out[name] = tree.symbol(member).name;
      continue;
    }
    const KSymbol& s = tree.symbol(id);
    switch (s.type) {
      case SymType::boolean:
        if (std::holds_alternative<bool>(value)) out[name] = v == "y";
        else out[name] = std::string(v == "y" ? "y" : "n");
        break;
      case SymType::tristate:
        if (std::holds_alternative<bool>(value)) out[name] = v == "y";
        else out[name] = std::string(v && (*v == "y" || *v == "m") ? *v : "n");
        break;
      case SymType::integer:
        if (v && !v->empty()) out[name] = std::strtoll(v->c_str(), nullptr, 10);
        break;
      case SymType::hex:
        if (v && !v->empty()) out[name] = std::strtoll(v->c_str(), nullptr, 16);
        break;
      default:
        break;
    }
  }
  return out;
}

util::Result<Resolution> resolve_proposal(const KconfigTree& tree, const MakeOptions& make,
                                          const ConfigFile& base, const space::Assignment& proposal,
                                          const std::string& out_dir) {
  KT_TRY(auto lines, proposal_lines(tree, proposal));
  ConfigFile cfg = base;
  for (const auto& [k, v] : lines) cfg.set(k, v);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create {}: {}", out_dir, ec.message()));
  KT_TRY_STATUS(cfg.write((fs::path(out_dir) / ".config").string()));
  auto t0 = std::chrono::steady_clock::now();
  KT_TRY(util::RunResult rr, run_make(make, out_dir, {"olddefconfig"}));
  if (!rr.ok())
    return util::io_error(fmt::format("make olddefconfig failed ({}): {}", rr.describe(),
                                      rr.out.substr(rr.out.size() > 2000 ? rr.out.size() - 2000 : 0)));
  Resolution res;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  KT_TRY(res.config, ConfigFile::read((fs::path(out_dir) / ".config").string()));
  res.config_hash = util::sha256_hex(res.config.text());
  res.proposed = proposal;
  res.effective = effective_assignment(tree, proposal, res.config);
  for (const auto& [name, value] : proposal) {
    auto it = res.effective.find(name);
    std::string eff = it == res.effective.end() ? "(unset)" : describe(it->second);
    if (eff != describe(value))
      res.not_stuck.push_back(fmt::format("{}: proposed {}, effective {}", name, describe(value), eff));
  }
  return res;
}

util::Result<ConfigFile> make_base_config(const MakeOptions& make, const std::string& base,
                                          const std::vector<std::string>& fragments,
                                          const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create {}: {}", out_dir, ec.message()));
  std::string cfg_path = (fs::path(out_dir) / ".config").string();
  if (base == "tinyconfig" || base == "defconfig" || base == "allnoconfig" || base == "alldefconfig") {
    KT_TRY(util::RunResult rr, run_make(make, out_dir, {base}));
    if (!rr.ok())
      return util::io_error(fmt::format("make {} failed ({}): {}", base, rr.describe(),
                                        rr.out.substr(rr.out.size() > 2000 ? rr.out.size() - 2000 : 0)));
  } else {
    KT_TRY(std::string text, util::read_file(base));
    KT_TRY_STATUS(util::write_file(cfg_path, text));
  }
  KT_TRY(ConfigFile cfg, ConfigFile::read(cfg_path));
  for (const auto& f : fragments) {
    auto frag = ConfigFile::read(f);
    if (!frag)
      return util::fail_like(frag.error(), fmt::format("cannot read config fragment {}: {}", f, frag.error().message));
    for (const auto& [k, v] : frag->values()) cfg.set(k, v.value, v.quoted);
  }
  KT_TRY_STATUS(cfg.write(cfg_path));
  KT_TRY(util::RunResult rr, run_make(make, out_dir, {"olddefconfig"}));
  if (!rr.ok()) return util::io_error(fmt::format("make olddefconfig failed ({})", rr.describe()));
  return ConfigFile::read(cfg_path);
}

}  // namespace kerntune::kbuild
