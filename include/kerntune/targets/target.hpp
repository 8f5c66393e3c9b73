#pragma once
// The Target interface: where a trial is realized and measured. A target takes
// plain data (a boot image, sysctl values, a workload) — it knows nothing of
// search spaces or optimizers. A trial's failure is an outcome (ok=false with a
// stage and a reason), not an Error; Error is reserved for "the campaign must
// stop" (interrupted, infrastructure gone).
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::workloads {
struct Workload;
}

namespace kerntune::targets {

/// What to boot (qemu/ssh/lava). Empty for the command target.
struct BootImage {
  std::string kernel;     ///< path to the kernel image
  std::string initramfs;  ///< path; empty: the target builds its own
  std::string cmdline;    ///< full kernel command line
  std::vector<std::string> modules_dirs;  ///< lib/modules trees to draw modules from
};

struct TrialRequest {
  int seq = 0;
  /// Active parameters → values (for the command target's KERNTUNE_PARAMS file).
  nlohmann::json params = nlohmann::json::object();
  BootImage boot;
  /// sysctl key (dotted, e.g. "vm.swappiness") → value text, in apply order.
  std::vector<std::pair<std::string, std::string>> sysctls;
  /// Path under /sys (e.g. "kernel/mm/transparent_hugepage/enabled") → value text.
  std::vector<std::pair<std::string, std::string>> sysfs;
  /// The workload to run (may be null for the command target).
  const workloads::Workload* workload = nullptr;
  int repeats = 1;  ///< measured repeats (0: the workload's own setting)
  int warmup = -1;  ///< warm-up repeats (-1: the workload's own setting)
  /// The `baseline: target` trial: write nothing; read the current value of
  /// every listed sysctl/sysfs knob (the values above are only their names'
  /// carriers) into TrialOutcome::effective, then measure as usual. The
  /// command target sets KERNTUNE_BASELINE=target and reports only what the
  /// program prints as KERNTUNE_EFFECTIVE lines.
  bool read_current = false;
  /// This run is one independent replicate (a confirmation round): a VM
  /// target boots afresh for it, never reusing or restoring a running boot —
  /// a fresh boot is the unit of replication (docs/recommendation.md).
  bool independent = false;
  /// Told each stage the trial enters ("building kernel", "booting",
  /// "applying", "setup", "warm-up 1/2", "repeat 2/5", "restoring"), for a
  /// progress display. Called on the thread that runs the trial; may be empty.
  std::function<void(const std::string&)> on_stage;
  void stage(const std::string& name) const {
    if (on_stage) on_stage(name);
  }
  /// Asked after each measured repeat but the last with the samples so far
  /// (metric → one value per repeat): a non-empty answer stops the repeats
  /// there, and the target hands it back unread as TrialOutcome::stopped_early.
  /// The caller decides why (campaign: a sequential test against the
  /// incumbent); a target only asks. May be empty (every repeat runs).
  std::function<std::string(const std::map<std::string, std::vector<double>>&)> stop_after_repeat;
  std::string should_stop(const std::map<std::string, std::vector<double>>& samples) const {
    return stop_after_repeat ? stop_after_repeat(samples) : std::string();
  }
};

struct Artifact {
  std::string name;     ///< e.g. "console.log", "stdout"
  std::string content;
};

/// Stages: configure, build, boot, apply, workload, parse, timeout.
struct TrialOutcome {
  bool ok = false;
  std::string failure_stage;
  std::string failure_reason;
  /// Metric name → one value per measured repeat.
  std::map<std::string, std::vector<double>> samples;
  /// Distribution metrics (docs/workloads.md): metric → its percentile over
  /// the requests of all measured repeats pooled. The trial's value of that
  /// metric in place of the median of `samples` (which hold each repeat's own
  /// percentile).
  std::map<std::string, double> pooled;
  std::map<std::string, std::string> units;
  /// What the target actually applied/read back (name → value), e.g. sysctls
  /// read back from the guest, "cmdline" → /proc/cmdline.
  nlohmann::json effective = nlohmann::json::object();
  /// Knob name → the kernel's message, for each write the kernel refused
  /// (EINVAL and the like). The trial goes on; `effective` holds the value
  /// that stayed in force.
  std::map<std::string, std::string> refused;
  /// Stage → seconds (e.g. boot, apply, workload, restore).
  std::map<std::string, double> timings;
  std::vector<Artifact> artifacts;
  std::string worker;  ///< which worker/VM/host ran it
  /// TrialRequest::stop_after_repeat's answer when it stopped the repeats
  /// early (samples then hold fewer than the requested repeats); else empty.
  std::string stopped_early;

  static TrialOutcome failure(std::string stage, std::string reason) {
    TrialOutcome o;
    o.ok = false;
    o.failure_stage = std::move(stage);
    o.failure_reason = std::move(reason);
    return o;
  }
};

class Target {
 public:
  virtual ~Target() = default;
  /// Realizes and measures one trial. Error only when the campaign must stop.
  virtual util::Result<TrialOutcome> run_trial(const TrialRequest& request) = 0;
  /// Releases VMs/connections. Called once at the end of a campaign.
  virtual void shutdown() {}
  virtual std::string kind() const = 0;
};

}  // namespace kerntune::targets
