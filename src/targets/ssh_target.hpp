#pragma once
// The ssh target: trials on real (lab) machines over SSH. Reference and
// examples: docs/ssh-target.md.
//
// Transport: the system `ssh` client, one ControlMaster socket per host, argv
// only. The few remote command strings kerntune sends are constants plus
// values passed through shell_quote(); everything else (sysctl paths and
// values, kexec arguments, workload argv) travels as base64 data to the
// kerntune guest agent (guest_agent.hpp), uploaded to the host and run over
// SSH with its stdin/stdout as the channel — the same agent and protocol as
// the qemu target.
//
// A trial: pick the first host of the pool (role target) → if the trial needs
// a kernel or command line other than what the host runs: upload kernel
// (+initramfs), `kexec -l … --command-line=…`, `kexec -e`, wait for the host to
// return (a new boot_id) within boot_timeout, check `uname -r` against the
// image's version string and /proc/cmdline against the requested line →
// apply sysctls/sysfs (read back) → workload (on the target, or with
// workload_on: loadgen on the loadgen host) → restore every knob written.
// Failures: boot (kexec refused, host not back in time, wrong kernel or
// command line), apply, workload, timeout, parse — and "host lost": a host
// that stops answering mid-trial fails the trial at that stage and leaves the
// pool. A host that does not come back, or is lost, is recovered with its
// `recovery` argv (e.g. ipmitool … chassis power cycle) when one is given and
// rejoins the pool only after a health check (SSH, agent, uname). When no
// target host is left, run_trial returns an Error (the campaign must stop).
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/target.hpp"

namespace kerntune::targets {

/// POSIX shell single-quoting: 'text' with each ' written as '\''. Any byte
/// string (newlines, non-UTF-8, $(), backticks) becomes one literal word for
/// sh/bash/dash/ash. NUL bytes cannot be passed to a shell: Error-free callers
/// must reject them first (this function throws std::invalid_argument on NUL —
/// a programming error).
std::string shell_quote(std::string_view value);

/// The release a bzImage announces in its header ("6.1.0-56-amd64"), read from
/// the kernel_version string of the x86 boot protocol; nullopt if the file is
/// not a bzImage or has no version string.
std::optional<std::string> bzimage_release(const std::string& path);

struct SshHost {
  std::string name;            ///< for logs and TrialOutcome::worker (default: address[:port])
  std::string address;         ///< host name or IP
  int port = 22;
  std::string user = "root";   ///< must be able to write /proc/sys and run kexec
  std::string key;             ///< private key file; "" = ssh's defaults/agent
  std::string host_key_policy = "strict";  ///< strict | accept-new | off
  std::string known_hosts;     ///< known_hosts file; "" = ssh's default files
  std::string role = "target"; ///< target | loadgen
  std::vector<std::string> recovery;   ///< argv run on the controller when the host is lost
  std::vector<std::string> ssh_options;  ///< extra ssh argv (e.g. -o ProxyJump=…), before the host
};

struct SshOptions {
  std::vector<SshHost> hosts;
  std::string kernel;     ///< local kernel image used when a trial names none but needs a boot
  std::string initramfs;  ///< local initramfs kexec'd with the kernel ("" = none)
  /// Base of every kexec command line; nullopt = the host's own /proc/cmdline
  /// at first contact (without BOOT_IMAGE= and initrd=).
  std::optional<std::string> cmdline_base;
  std::vector<std::string> kexec_exec = {"kexec", "-e"};  ///< e.g. [systemctl, kexec] on systemd hosts
  std::string remote_dir = "/var/tmp/kerntune";  ///< on each host: agent, kernels
  std::string workload_on = "target";  ///< target | loadgen
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds boot_timeout{300000};
  std::chrono::milliseconds recovery_timeout{600000};  ///< for the recovery argv itself
  std::chrono::milliseconds command_timeout{30000};    ///< one knob write/read, one upload step
  std::chrono::milliseconds agent_grace{30000};
  std::string ssh_binary = "ssh";
  std::string work_dir;  ///< control sockets live in a short temp folder, logs here

  /// Empty when valid, else why not.
  std::string validate() const;
};

/// Parses `target:` (kind: ssh). Keys: hosts (list) or inventory (a YAML file
/// with `hosts:`), kernel, initramfs, cmdline_base, kexec_exec, remote_dir,
/// workload_on, recovery (default for hosts without one), connect_timeout,
/// boot_timeout, recovery_timeout, command_timeout, ssh. Host keys: name,
/// address, port, user, key, known_hosts, host_key_policy, role, recovery,
/// ssh_options. Relative paths resolve against the recipe's (or inventory's) folder.
util::Result<SshOptions> parse_ssh_options(const YAML::Node& node, const TargetContext& ctx);

/// The ssh argv up to and including the destination (no remote command):
/// batch mode, timeouts, keep-alives, host-key policy, the control socket.
std::vector<std::string> ssh_argv(const SshOptions& options, const SshHost& host, const std::string& control_path,
                                  bool master);

namespace ssh {
/// Remote command that runs the uploaded agent (REMOTE_DIR/agent.sh) with
/// busybox sh or bash, its scratch folder REMOTE_DIR/tmp.
std::string agent_command(const std::string& remote_dir);
/// Remote command that stores stdin at `remote_path` (atomically, umask 077).
std::string upload_command(const std::string& remote_path);
/// Remote command printing "present" or "absent" for a regular file.
std::string exists_command(const std::string& remote_path);

}  // namespace ssh

class SshTarget final : public Target {
 public:
  explicit SshTarget(SshOptions options);
  ~SshTarget() override;

  util::Result<TrialOutcome> run_trial(const TrialRequest& request) override;
  void shutdown() override;
  std::string kind() const override { return "ssh"; }

  /// Names of the target hosts currently in the pool (tests check it).
  std::vector<std::string> pool() const;
  /// kexec boots so far.
  int boot_count() const { return boots_; }

  struct Host;  // connection state of one inventory host (ssh_target.cpp)

 private:
  struct TrialState;
  struct Link;  // a host as the guest session sees it
  /// kexecs unless the host's boot key matches the trial's.
  util::Result<bool> ensure_boot(Host& h, const TrialRequest& request, TrialState& st);
  /// Picks where the workload runs (workload_on) and runs it through the host's session.
  util::Result<bool> run_workload(Host& h, const TrialRequest& request, TrialState& st);
  /// The host stopped answering: fail the trial, take it out of the pool, recover it if possible.
  util::Result<bool> host_lost(Host& h, const std::string& stage, const std::string& doing,
                               const std::string& why, TrialState& st);
  /// Runs the recovery argv and the health check; true when the host is back in the pool.
  bool recover(Host& h, TrialState& st);

  SshOptions options_;
  std::string socket_dir_;
  std::vector<std::unique_ptr<Host>> hosts_;
  int boots_ = 0;
};

/// The factory entry for `kind: ssh`: its options (a pool too small for the
/// recipe's `workers:` is refused here), and targets that each own their
/// worker's share of the pool's target hosts, logging in <worker's folder>/ssh.
util::Result<TargetSpec> parse_ssh_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
