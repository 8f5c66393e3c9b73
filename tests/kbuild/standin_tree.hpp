#pragma once
// A small stand-in kernel tree for fast kernel-stage tests: a real Kconfig
// file (parsed by kerntune) and a Makefile whose tinyconfig/olddefconfig/
// bzImage targets write real files; the "bzImage" is a copy of the resolved
// .config, so a program handed the image (the command target's
// KERNTUNE_KERNEL_IMAGE) can tell which configuration was built. Each build appends
// a line to <tree>/builds.log. The real tree: tests/system/kconfig_*_test.cpp.
#include <filesystem>
#include <fstream>
#include <string>

namespace kt_test {

/// `compiles`: the bzImage target also compiles a C file with $(CC) (the
/// `CC=ccache gcc` kerntune passes when ccache is on), for ccache's counters.
inline void make_standin_tree(const std::filesystem::path& d, bool compiles = false) {
  std::filesystem::create_directories(d / "scripts" / "kconfig");
  std::ofstream(d / "Kconfig") << R"K(mainmenu "Stand-in kernel $(KERNELVERSION)"
config BASE
	bool "base"
	default y
config FAST
	bool "fast path"
config LEVEL
	int "level"
	range 1 10
	default 3
)K";
  // Recipe lines need tabs; O= is the out-of-tree folder kerntune passes.
  std::ofstream(d / "Makefile")
      << "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -standin\n"
         ".PHONY: tinyconfig olddefconfig bzImage\n"
         "tinyconfig:\n\tmkdir -p $(O)\n\tprintf 'CONFIG_BASE=y\\nCONFIG_LEVEL=3\\n' > $(O)/.config\n"
         "olddefconfig:\n\ttrue\n"
         "bzImage:\n"
         "\tmkdir -p $(O)/arch/x86/boot\n\tcp $(O)/.config $(O)/arch/x86/boot/bzImage\n" +
             (compiles ? "\t$(CC) -c " + (d / "fast.c").string() + " -o $(O)/fast.o\n" : std::string()) +
         "\techo built >> " + (d / "builds.log").string() + "\n";
  if (compiles) std::ofstream(d / "fast.c") << "int fast_path(int x) { return x * 3 + 1; }\n";
}

/// The `kernel_source:` lines of a recipe for the stand-in tree at `tree`
/// with its build cache in `cache`.
inline std::string standin_kernel_source(const std::string& tree, const std::string& cache) {
  return "kernel_source:\n  path: " + tree + "\n  base: tinyconfig\n  cache_dir: " + cache +
         "\n  jobs: 1\n  build_timeout: 60s\n  ccache: false\n";
}

}  // namespace kt_test
