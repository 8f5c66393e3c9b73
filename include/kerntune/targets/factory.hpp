#pragma once
// A recipe's `target:` mapping, parsed and checked once into a TargetSpec
// (its kind and its typed options), and the targets made from it. Each kind
// validates its own keys (errors located in the recipe file); making a
// worker's target reads no YAML.
//
//   target: mapping ─ parse_target ──► TargetSpec (recipe load: kind table in
//                                      factory.cpp → the kind's typed options)
//   TargetSpec ─ make(worker context) ─► Target (work folder, metrics, the
//                                      worker's share of an ssh host pool)
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>

#include "kerntune/targets/target.hpp"

namespace kerntune::targets {

/// Where a target stands. parse_target reads only the recipe's part
/// (recipe_file, recipe_dir, worker_count, workers_line/column); make() reads
/// the worker's part (work_dir, required_metrics, worker_index).
struct TargetContext {
  std::string recipe_file;  ///< for error locations
  std::string recipe_dir;   ///< relative paths resolve against it
  std::string work_dir;     ///< scratch space for this campaign (initramfs, logs)
  std::vector<std::string> required_metrics;  ///< metrics the recipe's objectives need
  int worker_index = 0;  ///< which of the campaign's workers this target serves
  int worker_count = 1;  ///< the recipe's `workers:`
  int workers_line = 0;  ///< where `workers:` stands in the recipe (0: absent)
  int workers_column = 0;
};

/// A parsed `target:`: its kind and its options, typed by the kind (opaque
/// here; each backend keeps its own options struct). Copyable; empty when
/// default-constructed.
class TargetSpec {
 public:
  /// Makes one worker's target from the spec's options (copied per target).
  using Make = std::function<util::Result<std::unique_ptr<Target>>(const TargetContext&)>;

  TargetSpec() = default;
  TargetSpec(std::string kind, Make make, YAML::Node portable = YAML::Node())
      : kind_(std::move(kind)), make_(std::move(make)), portable_(std::move(portable)) {}

  /// "command", "qemu", "ssh", "lava" or "libvirt"; "" when empty.
  const std::string& kind() const { return kind_; }
  explicit operator bool() const { return static_cast<bool>(make_); }

  /// Worker ctx.worker_index's target, in ctx.work_dir, reporting
  /// ctx.required_metrics. Errors: a spec that is empty (internal), what the
  /// kind cannot make (e.g. io).
  util::Result<std::unique_ptr<Target>> make(const TargetContext& ctx) const;

  /// The `target:` mapping with every path made absolute, as another
  /// machine's `kerntune tune` reads it (the Slurm executor's job recipes);
  /// a null node for kinds that cannot run elsewhere (ssh, lava, libvirt).
  const YAML::Node& portable() const { return portable_; }

 private:
  std::string kind_;
  Make make_;
  YAML::Node portable_;
};

/// The kinds are one table in factory.cpp (command, qemu, ssh, lava, libvirt):
/// kind → its parser. Unknown kind: located error with did-you-mean.
util::Result<TargetSpec> parse_target(const YAML::Node& node, const TargetContext& ctx);

/// parse_target then make, for callers that make one target from a mapping.
util::Result<std::unique_ptr<Target>> make_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
