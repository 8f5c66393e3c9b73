#pragma once
// The lava target: each trial is one LAVA job (docs/lava-target.md). kerntune
// builds the initramfs (the workload's programs and the guest agent, as for
// the qemu target) with the trial's plan in it, writes the job definition
// (lava_job.hpp) and runs it either
//   * locally: `lava-run --job-id N --device DEVICE.yaml --output-dir OUT JOB.yaml`
//     (mode: local, or no url; needs root and lava-dispatcher), or
//   * on a LAVA server: POST /api/v0.2/jobs/, poll GET /api/v0.2/jobs/ID/, read
//     /logs/ and /tests/ (mode: server; url, token, device_type).
// Every trial boots (a LAVA job is one boot). The job log is stored as the
// artifact "lava-job.log"; the console as "console.log".
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kerntune/targets/factory.hpp"
#include "lava_job.hpp"
#include "kerntune/targets/target.hpp"

namespace kerntune::targets {

struct LavaOptions {
  std::string mode = "local";        ///< local | server
  std::string kernel;                ///< kernel image (must exist)
  std::string modules_dir;           ///< lib/modules/<release>; "" = next to the kernel
  std::string cmdline_base = "console=ttyS0,115200 panic=-1 quiet";
  std::chrono::milliseconds boot_timeout{180000};
  std::chrono::milliseconds job_timeout{0};  ///< 0: boot + plan + 5 min
  std::string work_dir;              ///< initramfs, job files, outputs; "" = a temp folder
  // local
  std::string device;                ///< rendered device YAML (scripts/lava-setup writes one)
  std::string lava_run = "lava-run";
  // server
  std::string url;                   ///< e.g. http://127.0.0.1:8000 (no trailing /api)
  std::string token;                 ///< API token (or token_file / $KERNTUNE_LAVA_TOKEN)
  std::string device_type = "qemu";
  std::string priority = "medium";
  std::vector<std::string> tags;
  std::chrono::milliseconds poll_interval{2000};
  /// Where the worker fetches kernel and ramdisk: files are copied to
  /// artifact_dir and named artifact_url/NAME. Empty: file:// URLs of the
  /// local paths (a worker on this machine).
  std::string artifact_dir;
  std::string artifact_url;
  std::string curl = "curl";

  /// Empty when valid, else why not.
  std::string validate() const;
};

/// Parses `target:` (kind: lava). Keys: mode, kernel, modules_dir, cmdline_base,
/// boot_timeout, job_timeout, device, lava_run, url, token, token_file,
/// device_type, priority, tags, poll_interval, artifact_dir, artifact_url.
/// Errors are located at the key. Relative paths resolve against the recipe.
util::Result<LavaOptions> parse_lava_options(const YAML::Node& node, const TargetContext& ctx);

/// The device file used when a recipe names none: $KERNTUNE_LAVA_DEVICE, else
/// .cache/lava/qemu-device.yaml in the first of `start_dirs` or their parents.
std::optional<std::string> default_lava_device(const std::vector<std::string>& start_dirs);

class LavaTarget final : public Target {
 public:
  explicit LavaTarget(LavaOptions options);
  util::Result<TrialOutcome> run_trial(const TrialRequest& request) override;
  std::string kind() const override { return "lava"; }
  const LavaOptions& options() const { return options_; }

 private:
  struct Job {
    std::string log;                          ///< the job log (LAVA's YAML lines)
    std::vector<lava::LavaResult> results;    ///< from the server's tests API (local: from the log)
    std::string failure;                      ///< why LAVA did not complete the job ("" if it did)
    std::string id;
  };
  util::Result<Job> run_local(const std::string& job_file, const std::string& dir, int seq);
  util::Result<Job> run_server(const std::string& job_yaml, const std::string& dir);

  LavaOptions options_;
  int jobs_ = 0;
};

/// The factory entry for `kind: lava`: its options, and targets whose job
/// files and outputs live in <worker's folder>/lava.
util::Result<TargetSpec> parse_lava_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
