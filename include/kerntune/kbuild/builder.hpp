#pragma once
// Kernel builds for Kconfig campaigns: a proposal (Kconfig symbols and choice
// groups) is applied to the base configuration, resolved by `make
// olddefconfig`, and built out of tree (O=) through ccache; the bzImage lands
// in a build cache keyed by (source identity, resolved .config hash, compiler
// version), so two proposals resolving to the same .config build once.
//
// Recipe form (docs/kconfig.md):
//   kernel_source:
//     path: ../.cache/linux-source-6.1   # or  git: REPO  ref: v6.1   or  tarball: FILE
//     base: tinyconfig                   # tinyconfig | defconfig | a .config file
//     fragments: [extra.config]          # merged on top of the base
//     options: {SERIAL_8250: y, PRINTK: y}   # inline fragment lines
//     cache_dir: ~/.cache/kerntune/kernels
//     cache_size: 5G
//     build_timeout: 45m
//     jobs: 2          # default: nproc
//     nice: 19         # default: 0
//     ccache: true
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kerntune/kbuild/build_cache.hpp"
#include "kerntune/kbuild/config_file.hpp"
#include "kerntune/kbuild/kconfig.hpp"
#include "kerntune/kbuild/kernel_source.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

struct BuilderConfig {
  SourceSpec source;
  std::string base = "tinyconfig";
  std::vector<std::string> fragments;           ///< absolute paths
  std::map<std::string, std::string> options;   ///< inline fragment: symbol → value
  std::string cache_dir;                        ///< default: $XDG_CACHE_HOME|~/.cache/kerntune/kernels
  std::uint64_t cache_size = 20ull << 30;
  std::chrono::milliseconds build_timeout{std::chrono::minutes(60)};
  int jobs = 0;                                 ///< 0: number of CPUs
  int nice = 0;
  bool ccache = true;
  std::string arch = "x86_64";
  std::string target = "bzImage";
};

/// Parses a recipe's `kernel_source:` node; relative paths resolve against
/// `recipe_dir`. Errors are located in `recipe_file` (unknown keys with a
/// did-you-mean, none or several of path/git/tarball, bad base, size, duration).
util::Result<BuilderConfig> parse_builder_config(const YAML::Node& node, const std::string& recipe_file,
                                                 const std::string& recipe_dir);

struct BuildOutcome {
  enum class Stage { configure, build };
  bool ok = false;
  Stage stage = Stage::build;        ///< where it failed (when !ok)
  std::string reason;                ///< why it failed
  std::string kernel_image;          ///< bzImage (in the cache) when ok
  space::Assignment proposed;
  space::Assignment effective;       ///< what Kconfig kept: the optimizer learns this
  std::vector<std::string> not_stuck;
  std::string config_hash;           ///< of the resolved .config
  std::string config_path;           ///< the resolved .config (in the cache when ok)
  bool cache_hit = false;
  double seconds = 0;                ///< configure + build wall time
  std::string log;                   ///< build log file (artifact); empty on a cache hit
  /// ccache's counters for this build's compilations (from its stats log,
  /// CCACHE_STATSLOG); -1 when the build ran no ccache (a cache hit, ccache off).
  int ccache_hits = -1, ccache_misses = -1;
};
std::string to_string(BuildOutcome::Stage s);

/// Hits and misses in a ccache stats log (one `# file` line per compilation
/// and its counter names, as ccache 4 writes it with CCACHE_STATSLOG): a hit
/// is `direct_cache_hit` or `preprocessed_cache_hit`, a miss `cache_miss`.
struct CcacheCounts {
  int hits = 0, misses = 0;
};
CcacheCounts parse_ccache_stats_log(std::string_view log);

class Builder {
 public:
  /// Prepares the source (git export / tarball unpack), parses its Kconfig,
  /// makes the base configuration once (kept in the cache folder). `check`
  /// (optional) runs on the parsed tree before the base is made, so bad
  /// input (e.g. a recipe's unknown symbols) is refused in seconds.
  static util::Result<Builder> create(const BuilderConfig& config,
                                      const std::function<util::Status(const KconfigTree&)>& check = {});

  /// Applies, resolves and builds one proposal (kconfig-domain values only).
  /// Error only for bad input (unknown symbol, wrong type: invalid_input), for
  /// infrastructure trouble (io) or a stop request (interrupted); a failing
  /// olddefconfig or compile is an outcome with ok=false.
  util::Result<BuildOutcome> build(const space::Assignment& kconfig_values);
  /// Only configure: the resolved .config and effective assignment (no build).
  util::Result<BuildOutcome> configure(const space::Assignment& kconfig_values);

  const SourceInfo& source() const { return source_; }
  const KconfigTree& kconfig() const { return *tree_; }
  const ConfigFile& base_config() const { return base_; }
  const std::string& compiler() const { return compiler_; }
  BuildCache& cache() { return cache_; }
  int builds_run() const { return builds_; }

 private:
  Builder(BuilderConfig c, BuildCache cache) : config_(std::move(c)), cache_(std::move(cache)) {}
  BuilderConfig config_;
  BuildCache cache_;
  SourceInfo source_;
  std::shared_ptr<KconfigTree> tree_;
  ConfigFile base_;
  std::string compiler_;
  int builds_ = 0;
};

}  // namespace kerntune::kbuild
