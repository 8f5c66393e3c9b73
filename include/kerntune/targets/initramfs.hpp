#pragma once
// The initramfs kerntune boots its qemu guests with: busybox-static with its
// applet links, the workload's programs with every shared library they load
// (found by running the host's `ldd`, the dynamic loader included), kernel
// modules with their dependencies, a few /etc files, and the guest agent as
// /init. Written as an uncompressed cpio "newc" archive (the kernel unpacks it
// directly; under TCG this is faster than gunzip) and cached by the hash of
// its inputs. Details: docs/qemu-target.md ("The initramfs").
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::targets {

/// Writes a cpio newc archive in memory. Paths are archive paths without a
/// leading '/'; parents must be added before children (the kernel needs it).
class CpioWriter {
 public:
  void add_dir(const std::string& path, std::uint32_t mode = 0755);
  void add_file(const std::string& path, std::string_view content, std::uint32_t mode = 0644);
  void add_symlink(const std::string& path, const std::string& target);
  void add_char_device(const std::string& path, std::uint32_t major, std::uint32_t minor,
                       std::uint32_t mode = 0600);
  /// Appends the TRAILER!!! entry and returns the archive (the writer is spent).
  std::string finish();

 private:
  void entry(const std::string& path, std::uint32_t mode, std::string_view data,
             std::uint32_t rdev_major = 0, std::uint32_t rdev_minor = 0);
  std::string out_;
  std::uint32_t ino_ = 1;
};

/// Shared objects a program needs, as `ldd` resolves them (absolute paths,
/// the dynamic loader included). Empty for a static program. Error when ldd
/// reports a library "not found" or cannot run.
util::Result<std::vector<std::string>> shared_libraries(const std::string& program);

struct ModuleFile {
  std::string name;  ///< "tcp_bbr"
  std::string path;  ///< absolute host path of the .ko
  std::string rel;   ///< path below the release folder, e.g. "kernel/net/ipv4/tcp_bbr.ko"
};

/// Resolves modules (names with '-' or '_') and their dependencies in load
/// order (dependencies first) from a release folder (lib/modules/<release>).
/// Uses modules.dep when present, else each .ko's .modinfo "depends=".
/// Modules listed in modules.builtin are skipped (already in the kernel).
util::Result<std::vector<ModuleFile>> resolve_modules(const std::vector<std::string>& names,
                                                      const std::string& release_dir);

struct InitramfsSpec {
  std::vector<std::string> binaries;  ///< program names (looked up in PATH) or paths
  std::vector<std::string> modules;   ///< module names, loaded at boot in order
  std::string modules_release_dir;    ///< lib/modules/<release> on the host (needed if modules)
  std::string busybox;                ///< busybox-static path; empty: found in PATH
  std::string init_script;            ///< /init; empty: the kerntune guest agent
  /// Extra files (archive path → content), e.g. a workload's config.
  std::vector<std::pair<std::string, std::string>> extra_files;
};

struct Initramfs {
  std::string path;   ///< the archive
  std::string hash;   ///< sha256 of the inputs (the cache key)
  bool cached = false;
  std::size_t bytes = 0;
};

/// Builds (or finds in `cache_dir`) the initramfs for `spec`. The cache key
/// covers every input file's path, size and mtime, the init script and the
/// extra files. Errors: a program not found, a busybox that is not static,
/// a missing library or module, I/O.
util::Result<Initramfs> build_initramfs(const InitramfsSpec& spec, const std::string& cache_dir);

}  // namespace kerntune::targets
