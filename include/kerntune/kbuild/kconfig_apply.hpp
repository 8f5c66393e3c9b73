#pragma once
// Applying a proposal to a kernel configuration: a base (tinyconfig, defconfig
// or a given .config) plus fragments, the proposal written as CONFIG_ lines,
// then the real `make olddefconfig` (out of tree, O=DIR, ARCH=x86_64) resolves
// it; the resolved .config is read back. The *effective* assignment (what
// Kconfig kept after dependencies and selects) is what the optimizer learns.
//
// Parameter names are Kconfig symbols (bool → y/n, tristate → n/m/y, int, hex
// as an int) or choice groups (a string value naming the member to set =y).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "kerntune/kbuild/config_file.hpp"
#include "kerntune/kbuild/kconfig.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/subprocess.hpp"

namespace kerntune::kbuild {

struct MakeOptions {
  std::string source_dir;
  std::string arch = "x86_64";
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::vector<std::string> extra;  ///< more make arguments (e.g. CC=ccache gcc, -j2)
  std::function<void(std::string_view)> on_output;
  int nice = 0;                    ///< >0: run under `nice -n N`
  std::map<std::string, std::string> env;  ///< added to make's environment (e.g. CCACHE_STATSLOG)
};

/// `make -C SRC O=OUT ARCH=… EXTRA… TARGETS…` (argv, no shell; stderr merged).
/// Error only when make cannot be started; a failing make is a RunResult.
util::Result<util::RunResult> run_make(const MakeOptions& options, const std::string& out_dir,
                                       const std::vector<std::string>& targets);

/// A proposal as .config lines. Errors (invalid_input): unknown symbol, a value
/// of the wrong type, a choice value that is not a member of a choice, a
/// string symbol (not tunable).
util::Result<std::map<std::string, std::string>> proposal_lines(const KconfigTree& tree,
                                                               const space::Assignment& proposal);

/// Reads an assignment's parameters back from a resolved .config. Choice
/// parameters take the member that is =y; parameters Kconfig left unset are
/// bool false / tristate "n" / absent (int, choice without a member).
space::Assignment effective_assignment(const KconfigTree& tree, const space::Assignment& proposal,
                                       const ConfigFile& resolved);

struct Resolution {
  ConfigFile config;               ///< the resolved .config
  std::string config_hash;         ///< sha256 of the resolved .config text (comments excluded)
  space::Assignment proposed;
  space::Assignment effective;
  std::vector<std::string> not_stuck;  ///< "HZ_CHOICE: proposed HZ_1000, effective HZ_250"
  double seconds = 0;
};

/// Writes base + proposal to OUT/.config, runs olddefconfig, reads it back.
util::Result<Resolution> resolve_proposal(const KconfigTree& tree, const MakeOptions& make,
                                          const ConfigFile& base, const space::Assignment& proposal,
                                          const std::string& out_dir);

/// The base .config: `make tinyconfig|defconfig` (or a copied FILE) in
/// `out_dir`, then the fragments' lines on top (merge_config.sh style) and
/// olddefconfig. Errors: unknown base, unreadable file, failing make.
util::Result<ConfigFile> make_base_config(const MakeOptions& make, const std::string& base,
                                          const std::vector<std::string>& fragments,
                                          const std::string& out_dir);

}  // namespace kerntune::kbuild
