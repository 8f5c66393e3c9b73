#include "kerntune/targets/initramfs.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "guest_agent.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kDir = 0040000, kReg = 0100000, kLnk = 0120000, kChr = 0020000;

void pad4(std::string& s) {
  while (s.size() % 4 != 0) s += '\0';
}

// One planned archive member. Files are read only when the archive is written.
struct Member {
  enum class Kind { dir, host_file, content, symlink, chardev } kind = Kind::dir;
  std::string source;  ///< host path (host_file), content, or link target
  std::uint32_t mode = 0755;
  std::uint32_t major = 0, minor = 0;
};

struct Plan {
  std::map<std::string, Member> members;  // archive path (no leading '/') → member

  static std::string rel(std::string_view p) {
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    return std::string(p);
  }
  void parents(const std::string& path) {
    for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
      members.try_emplace(path.substr(0, slash), Member{});
  }
  void dir(std::string_view p) {
    auto r = rel(p);
    parents(r);
    members.try_emplace(r, Member{});
  }
  void put(std::string_view p, Member m) {
    auto r = rel(p);
    parents(r);
    members[r] = std::move(m);
  }
};

std::uint32_t host_mode(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) return 0755;
  return static_cast<std::uint32_t>(st.st_mode) & 0777;
}

std::string file_stamp(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return fmt::format("{}:{}.{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

util::Result<std::string> find_program(const std::string& name) {
  auto found = util::which(name);
  if (!found) return util::io_error(fmt::format("program '{}' (a workload binary) not found in PATH on this host", name));
  return fs::absolute(*found).lexically_normal().string();
}

// glibc loads libgcc_s at run time (thread cancellation, unwinding): ldd never lists it.
std::optional<std::string> libgcc_s() {
  for (const char* p : {"/lib/x86_64-linux-gnu/libgcc_s.so.1", "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
                        "/lib64/libgcc_s.so.1", "/usr/lib64/libgcc_s.so.1"})
    if (fs::exists(p)) return std::string(p);
  return std::nullopt;
}

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const char* kGroup = "root:x:0:\nnogroup:x:65534:\n";
const char* kHosts = "127.0.0.1\tlocalhost kerntune-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n";
const char* kNsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files\nservices: files\n";

}  // namespace

// ---- CpioWriter --------------------------------------------------------------

void CpioWriter::entry(const std::string& path, std::uint32_t mode, std::string_view data,
                       std::uint32_t rdev_major, std::uint32_t rdev_minor) {
  if (path.empty() || path.front() == '/') throw std::logic_error("cpio path must be relative: " + path);
  bool is_dir = (mode & 0170000) == kDir;
  out_ += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                      ino_++, mode, 0, 0, is_dir ? 2 : 1, 0, data.size(), 0, 0, rdev_major, rdev_minor,
                      path.size() + 1, 0);
  out_ += path;
  out_ += '\0';
  pad4(out_);
  out_ += data;
  pad4(out_);
}

void CpioWriter::add_dir(const std::string& path, std::uint32_t mode) { entry(path, kDir | (mode & 07777), {}); }
void CpioWriter::add_file(const std::string& path, std::string_view content, std::uint32_t mode) {
  entry(path, kReg | (mode & 07777), content);
}
void CpioWriter::add_symlink(const std::string& path, const std::string& target) {
  entry(path, kLnk | 0777, target);
}
void CpioWriter::add_char_device(const std::string& path, std::uint32_t major, std::uint32_t minor,
                                 std::uint32_t mode) {
  entry(path, kChr | (mode & 07777), {}, major, minor);
}
std::string CpioWriter::finish() {
  ino_ = 0;
  entry("TRAILER!!!", 0, {});
  return std::move(out_);
}

// ---- ldd ---------------------------------------------------------------------

util::Result<std::vector<std::string>> shared_libraries(const std::string& program) {
  util::RunOptions o;
  o.argv = {"ldd", program};
  o.timeout = std::chrono::seconds(30);
  o.env = {{"LC_ALL", "C"}};
  KT_TRY(auto r, util::run(o));
  std::string all = r.out + r.err;
  if (all.find("not a dynamic executable") != std::string::npos ||
      all.find("statically linked") != std::string::npos)
    return std::vector<std::string>{};
  if (!r.ok()) return util::io_error(fmt::format("ldd {} failed ({}): {}", program, r.describe(), util::trim(all)));
  std::vector<std::string> libs;
  for (auto& raw : util::split(r.out, '\n')) {
    std::string l = util::trim(raw);
    if (l.empty()) continue;
    if (l.find("=> not found") != std::string::npos)
      return util::io_error(fmt::format("{} needs {}, which this host does not have", program,
                                        util::trim(l.substr(0, l.find("=>")))));
    std::string path;
    if (auto arrow = l.find("=> "); arrow != std::string::npos) {
      path = l.substr(arrow + 3);
    } else {
      path = l;  // the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)"
    }
    if (auto paren = path.find(" ("); paren != std::string::npos) path.resize(paren);
    if (!path.empty() && path.front() == '/') libs.push_back(path);  // linux-vdso has no file
  }
  return libs;
}

// ---- build -------------------------------------------------------------------

util::Result<Initramfs> build_initramfs(const InitramfsSpec& spec, const std::string& cache_dir) {
  Plan plan;
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "lib", "lib64", "proc", "sys",
                        "dev", "tmp", "run", "root", "mnt", "var/tmp", "var/lib", "var/log", "etc/kerntune"})
    plan.dir(d);
  plan.put("dev/console", Member{Member::Kind::chardev, {}, 0600, 5, 1});
  plan.put("dev/null", Member{Member::Kind::chardev, {}, 0666, 1, 3});
  plan.members["tmp"].mode = 01777;
  plan.members["var/tmp"].mode = 01777;
  plan.members["root"].mode = 0700;

  // busybox and its applets.
  std::string busybox = spec.busybox;
  if (busybox.empty()) {
    auto found = util::which("busybox");
    if (!found) return util::io_error("busybox not found in PATH: install busybox-static");
    busybox = *found;
  }
  KT_TRY(auto bb_libs, shared_libraries(busybox));
  if (!bb_libs.empty())
    return util::io_error(fmt::format("{} is dynamically linked: the guest needs busybox-static", busybox));
  plan.put("bin/busybox", Member{Member::Kind::host_file, busybox, 0755});
  util::RunOptions list;
  list.argv = {busybox, "--list-full"};
  list.timeout = std::chrono::seconds(30);
  KT_TRY(auto applets, util::run(list));
  if (!applets.ok()) return util::io_error(fmt::format("{} --list-full: {}", busybox, applets.describe()));
  for (auto& a : util::split(applets.out, '\n')) {
    std::string path = util::trim(a);
    if (path.empty() || path == "bin/busybox") continue;
    plan.put(path, Member{Member::Kind::symlink, "/bin/busybox", 0777});
  }

  // The workload's programs with their libraries (they replace applets of the same path).
  bool any_dynamic = false;
  for (const auto& name : spec.binaries) {
    KT_TRY(std::string path, find_program(name));
    plan.put(path, Member{Member::Kind::host_file, path, host_mode(path)});
    KT_TRY(auto libs, shared_libraries(path));
    any_dynamic = any_dynamic || !libs.empty();
    for (const auto& lib : libs) plan.put(lib, Member{Member::Kind::host_file, lib, 0755});
  }
  if (any_dynamic) {
    if (auto gcc = libgcc_s()) plan.put(*gcc, Member{Member::Kind::host_file, *gcc, 0644});
  }

  // Kernel modules, dependencies first, and the list /init loads.
  std::string load_list;
  if (!spec.modules.empty()) {
    if (spec.modules_release_dir.empty())
      return util::invalid_input("the workload needs kernel modules but no modules folder is known (set target.modules_dir)");
    KT_TRY(auto mods, resolve_modules(spec.modules, spec.modules_release_dir));
    std::string release = fs::path(spec.modules_release_dir).lexically_normal().filename().string();
    if (release.empty()) release = fs::path(spec.modules_release_dir).parent_path().filename().string();
    for (const auto& m : mods) {
      std::string dest = fmt::format("/lib/modules/{}/{}", release, m.rel);
      plan.put(dest, Member{Member::Kind::host_file, m.path, 0644});
      load_list += dest + "\n";
    }
  }
  plan.put("etc/kerntune/modules", Member{Member::Kind::content, load_list, 0644});
  plan.put("etc/passwd", Member{Member::Kind::content, kPasswd, 0644});
  plan.put("etc/group", Member{Member::Kind::content, kGroup, 0644});
  plan.put("etc/hosts", Member{Member::Kind::content, kHosts, 0644});
  plan.put("etc/nsswitch.conf", Member{Member::Kind::content, kNsswitch, 0644});
  for (const auto& [path, content] : spec.extra_files)
    plan.put(path, Member{Member::Kind::content, content, 0644});
  std::string init = spec.init_script.empty() ? std::string(guest::agent_script()) : spec.init_script;
  plan.put("init", Member{Member::Kind::content, init, 0755});

  // The cache key: every member as planned (host files by path, size and mtime).
  std::string manifest = "kerntune-initramfs-v1\n";
  for (const auto& [path, m] : plan.members) {
    std::string what;
    switch (m.kind) {
      case Member::Kind::dir: what = "dir"; break;
      case Member::Kind::host_file: what = "file " + m.source + " " + file_stamp(m.source); break;
      case Member::Kind::content: what = "content " + util::sha256_hex(m.source); break;
      case Member::Kind::symlink: what = "link " + m.source; break;
      case Member::Kind::chardev: what = fmt::format("chr {}:{}", m.major, m.minor); break;
    }
    manifest += fmt::format("{} {:o} {}\n", path, m.mode, what);
  }
  Initramfs out;
  out.hash = util::sha256_hex(manifest);
  out.path = (fs::path(cache_dir) / fmt::format("initramfs-{}.cpio", out.hash.substr(0, 16))).string();
  std::error_code ec;
  if (fs::is_regular_file(out.path, ec) && fs::file_size(out.path, ec) > 0) {
    out.cached = true;
    out.bytes = fs::file_size(out.path, ec);
    return out;
  }
  fs::create_directories(cache_dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create {}: {}", cache_dir, ec.message()));

  // std::map orders "a" before "a/b": parents come first, as the kernel needs.
  CpioWriter cpio;
  for (const auto& [path, m] : plan.members) {
    switch (m.kind) {
      case Member::Kind::dir: cpio.add_dir(path, m.mode); break;
      case Member::Kind::host_file: {
        KT_TRY(std::string bytes, util::read_file(m.source));
        cpio.add_file(path, bytes, m.mode);
        break;
      }
      case Member::Kind::content: cpio.add_file(path, m.source, m.mode); break;
      case Member::Kind::symlink: cpio.add_symlink(path, m.source); break;
      case Member::Kind::chardev: cpio.add_char_device(path, m.major, m.minor, m.mode); break;
    }
  }
  std::string archive = cpio.finish();
  KT_TRY_STATUS(util::write_file(out.path, archive));
  out.bytes = archive.size();
  util::log_info("initramfs: {} ({:.1f} MB, {} members)", out.path, static_cast<double>(out.bytes) / 1e6,
                 plan.members.size());
  return out;
}

}  // namespace kerntune::targets
