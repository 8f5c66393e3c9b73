// Kernel module resolution for the initramfs: names → .ko files with their
// dependencies, dependencies first. Works on a release folder unpacked with
// `dpkg -x` (no modules.dep: depmod never ran) by reading each module's
// .modinfo section, and on an installed tree through modules.dep.
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "kerntune/targets/initramfs.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

std::string canonical_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

// "kernel/net/ipv4/tcp_bbr.ko" → "tcp_bbr"; "" for anything that is not a .ko.
std::string module_name_of(std::string_view rel) {
  auto slash = rel.rfind('/');
  std::string_view base = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  for (std::string_view ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
    if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext)
      return canonical_name(base.substr(0, base.size() - ext.size()));
  }
  return {};
}

template <class T>
T read_le(const std::string& bytes, std::size_t at) {
  T v{};
  if (at + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

// The "depends=" list of a module's .modinfo section (ELF64 little-endian).
util::Result<std::vector<std::string>> modinfo_depends(const std::string& path) {
  KT_TRY(std::string elf, util::read_file(path));
  if (elf.size() < 64 || elf.compare(0, 4, "\x7f" "ELF") != 0 || elf[4] != 2 || elf[5] != 1)
    return util::fail(fmt::format("{} is not an ELF64 little-endian module", path), util::Error::Kind::io);
  auto shoff = read_le<std::uint64_t>(elf, 0x28);
  auto shentsize = read_le<std::uint16_t>(elf, 0x3A);
  auto shnum = read_le<std::uint16_t>(elf, 0x3C);
  auto shstrndx = read_le<std::uint16_t>(elf, 0x3E);
  auto section = [&](std::size_t i) { return static_cast<std::size_t>(shoff) + i * shentsize; };
  if (shentsize < 64 || shstrndx >= shnum || section(shnum) > elf.size())
    return util::fail(fmt::format("{}: bad ELF section table", path), util::Error::Kind::io);
  auto strtab_off = read_le<std::uint64_t>(elf, section(shstrndx) + 24);
  for (std::size_t i = 0; i < shnum; ++i) {
    auto name_off = read_le<std::uint32_t>(elf, section(i));
    std::size_t name_at = static_cast<std::size_t>(strtab_off) + name_off;
    if (name_at >= elf.size() || std::strcmp(elf.c_str() + name_at, ".modinfo") != 0) continue;
    auto off = static_cast<std::size_t>(read_le<std::uint64_t>(elf, section(i) + 24));
    auto size = static_cast<std::size_t>(read_le<std::uint64_t>(elf, section(i) + 32));
    if (off + size > elf.size()) break;
    std::vector<std::string> deps;
    for (auto& item : util::split(std::string_view(elf).substr(off, size), '\0')) {
      if (!util::starts_with(item, "depends=")) continue;
      for (auto& d : util::split(item.substr(8), ','))
        if (!d.empty()) deps.push_back(canonical_name(d));
    }
    return deps;
  }
  return util::fail(fmt::format("{}: no .modinfo section", path), util::Error::Kind::io);
}

}  // namespace

util::Result<std::vector<ModuleFile>> resolve_modules(const std::vector<std::string>& names,
                                                      const std::string& release_dir) {
  if (names.empty()) return std::vector<ModuleFile>{};
  if (!fs::is_directory(release_dir))
    return util::invalid_input(fmt::format("kernel modules folder '{}' does not exist", release_dir));

  std::set<std::string> builtin;
  if (auto text = util::read_file(release_dir + "/modules.builtin")) {
    for (auto& l : util::split(*text, '\n'))
      if (auto n = module_name_of(util::trim(l)); !n.empty()) builtin.insert(n);
  }

  std::map<std::string, std::string> rel_of;                 // name → relative path
  std::map<std::string, std::vector<std::string>> deps_of;   // from modules.dep
  bool have_dep_file = false;
  if (auto text = util::read_file(release_dir + "/modules.dep")) {
    have_dep_file = true;
    for (auto& l : util::split(*text, '\n')) {
      auto colon = l.find(':');
      if (colon == std::string::npos) continue;
      std::string rel = util::trim(std::string_view(l).substr(0, colon));
      std::string name = module_name_of(rel);
      if (name.empty()) continue;
      rel_of[name] = rel;
      for (auto& d : util::split(util::trim(std::string_view(l).substr(colon + 1)), ' '))
        if (auto dn = module_name_of(d); !dn.empty()) deps_of[name].push_back(dn);
    }
  } else {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(release_dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = fs::relative(it->path(), release_dir).string();
      if (auto n = module_name_of(rel); !n.empty()) rel_of[n] = rel;
    }
  }

  std::vector<ModuleFile> order;
  std::set<std::string> done, active;
  std::function<util::Status(const std::string&, const std::string&)> visit =
      [&](const std::string& raw, const std::string& wanted_by) -> util::Status {
    std::string name = canonical_name(raw);
    if (done.contains(name) || builtin.contains(name)) return {};
    if (active.contains(name)) return {};  // a cycle cannot load anyway; modprobe would refuse too
    auto it = rel_of.find(name);
    if (it == rel_of.end()) {
      std::string msg = fmt::format("kernel module '{}' not found in {}", raw, release_dir);
      if (!wanted_by.empty()) msg += fmt::format(" (needed by '{}')", wanted_by);
      return util::invalid_input(msg);
    }
    if (!it->second.ends_with(".ko"))
      return util::invalid_input(fmt::format("kernel module '{}' is compressed ({}); only plain .ko files are supported",
                                             raw, it->second));
    active.insert(name);
    std::vector<std::string> deps;
    if (have_dep_file) {
      deps = deps_of[name];
    } else {
      KT_TRY(deps, modinfo_depends(release_dir + "/" + it->second));
    }
    for (const auto& d : deps) KT_TRY_STATUS(visit(d, name));
    active.erase(name);
    done.insert(name);
    order.push_back(ModuleFile{name, release_dir + "/" + it->second, it->second});
    return {};
  };
  for (const auto& n : names) KT_TRY_STATUS(visit(n, ""));
  return order;
}

}  // namespace kerntune::targets
