#pragma once
// The qemu target: boots a kernel in QEMU with an initramfs kerntune builds
// (busybox, the workload's programs, the guest agent), drives the guest over
// its serial console, and measures workloads there. Reference and examples:
// docs/qemu-target.md.
//
// A trial boots only when (kernel, initramfs, cmdline) differs from the
// running VM; otherwise the VM is reused with every sysctl/sysfs file written
// by the previous trial restored to the value read at boot (and verified).
// Failures are outcomes with a stage: boot (timeout, panic, QEMU exit), apply
// (a knob missing or refused), workload (non-zero exit, a panic or the agent
// lost while it ran), timeout (killed at the workload's timeout), parse (a
// metric missing). After boot/workload/timeout failures the VM is killed, so
// the next trial boots afresh.
//
// How a boot starts is a VmLauncher's (src/targets/vm_launcher.hpp): QEMU
// itself by default, a transient libvirt domain for `kind: libvirt`
// (docs/libvirt-target.md); everything above stays this class's.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/initramfs.hpp"
#include "kerntune/targets/target.hpp"

namespace kerntune::targets {
namespace guest {
class GuestSession;
}
class VmLauncher;  // how a boot starts (src/targets/vm_launcher.hpp): QEMU itself or a libvirt domain

struct QemuOptions {
  std::string kernel;                  ///< kernel image (must exist)
  std::string modules_dir;             ///< lib/modules/<release> for workload modules; "" = next to the kernel
  std::string memory = "512M";         ///< QEMU -m
  int cpus = 1;                        ///< QEMU -smp
  std::string accel = "auto";          ///< auto | kvm | tcg
  std::vector<std::string> qemu_options;  ///< extra QEMU argv, appended last
  std::chrono::milliseconds boot_timeout{60000};
  std::string cmdline_base = "console=ttyS0 panic=-1 quiet";
  std::string qemu_binary = "qemu-system-x86_64";
  std::string work_dir;                ///< initramfs cache and console logs; "" = a temp folder
  /// A fresh, empty virtio disk of this size (e.g. "256M") attached at every
  /// boot as the guest's /dev/vda (a sparse file in work_dir); "" = none. A
  /// workload makes it swap (mkswap + swapon in its setup).
  std::string swap_disk;
  /// What a trial whose boot key (kernel, initramfs, command line) matches
  /// the running VM starts from (docs/qemu-target.md, "Between trials"):
  ///   restore — the VM as it stood booted and idle, loaded from the snapshot
  ///             taken right after its boot: no state of an earlier trial is
  ///             left (page cache, swap, setup), at a fraction of a boot;
  ///   reuse   — the VM as the previous trial left it (knobs written back);
  ///   reboot  — a fresh boot for every trial.
  /// Recipe key `between_trials:`; the older `reuse_vm: true/false` is reuse/reboot.
  enum class BetweenTrials { restore, reuse, reboot };
  BetweenTrials between_trials = BetweenTrials::restore;
  bool reuses() const { return between_trials != BetweenTrials::reboot; }
  /// How long past a command's own timeout the host waits for the agent.
  std::chrono::milliseconds agent_grace{30000};
  /// Timeout of one knob write/read in the guest.
  std::chrono::milliseconds command_timeout{30000};

  /// Empty when valid, else why not. need_kernel=false while parsing a recipe
  /// whose default kernel is looked for again when the target is made.
  std::string validate(bool need_kernel = true) const;
};

/// Parses `target:` (kind: qemu). Keys: kernel, modules_dir, memory, cpus,
/// accel, qemu_options, boot_timeout, cmdline_base, qemu (binary), swap_disk,
/// between_trials (or reuse_vm). A named
/// kernel that is missing is an error located at the key; with no `kernel:`
/// and no default kernel yet, `kernel` stays empty and the spec's make looks
/// again (parse_qemu_target). Relative paths resolve against the recipe's folder.
util::Result<QemuOptions> parse_qemu_options(const YAML::Node& node, const TargetContext& ctx);

/// The kernel used when a recipe names none: $KERNTUNE_KERNEL, else
/// $KERNTUNE_KERNEL_DIR/vmlinuz, else .cache/kernel/vmlinuz (scripts/fetch-kernel)
/// in the first of `start_dirs` or their parents that has one.
std::optional<std::string> default_kernel(const std::vector<std::string>& start_dirs);

/// lib/modules/<release> beside an unpacked kernel (…/boot/vmlinuz-R → …/lib/modules/R), if it exists.
std::optional<std::string> modules_dir_for_kernel(const std::string& kernel);

/// "kvm" when /dev/kvm can create a VM, else "tcg". (QemuTarget with accel: auto
/// still falls back to TCG when the first KVM boot does not reach the agent
/// within 20 s, and remembers that in <work_dir>/kvm-broken.)
std::string detect_accel();

/// "restore" / "reuse" / "reboot".
std::string to_string(QemuOptions::BetweenTrials b);

/// The QEMU argv for one boot (no shell; values are separate arguments).
std::vector<std::string> qemu_argv(const QemuOptions& options, const std::string& accel,
                                   const std::string& kernel, const std::string& initramfs,
                                   const std::string& cmdline);

class QemuTarget final : public Target {
 public:
  explicit QemuTarget(QemuOptions options);
  /// The same trial with another way to start a boot (`kind: libvirt`); a
  /// null launcher is QEMU's own.
  QemuTarget(QemuOptions options, std::unique_ptr<VmLauncher> launcher);
  ~QemuTarget() override;

  util::Result<TrialOutcome> run_trial(const TrialRequest& request) override;
  void shutdown() override;
  std::string kind() const override;

  /// Boots so far (tests check VM reuse with it).
  int boot_count() const { return boots_; }
  /// The accelerator in use (auto resolved).
  const std::string& accel() const { return accel_; }
  const QemuOptions& options() const { return options_; }

 private:
  struct Vm;
  struct TrialState;
  struct Link;  // the running VM as the guest session sees it

  util::Result<Initramfs> initramfs_for(const TrialRequest& request);
  /// Boots unless the running VM's boot key matches; failure → outcome in `st`.
  util::Result<bool> ensure_vm(const TrialRequest& request, const std::string& initramfs, TrialState& st);
  /// Turns a channel error into the trial's failure; Error only for interrupts.
  util::Result<bool> channel_failure(const guest::ChannelError& e, const std::string& stage,
                                     const std::string& doing, TrialState& st);
  /// Kills the VM's process group; with `st`, keeps its console log for the trial.
  void kill_vm(TrialState* st = nullptr);
  std::string kvm_memo_path() const;
  std::string kvm_memo_key() const;
  void remember_kvm_broken();
  /// The swap disk's file, created empty (sparse) now; "" without swap_disk.
  /// With snapshots it is a qcow2 image (the snapshot holds its blocks too).
  util::Result<std::string> fresh_swap_disk(bool qcow2);
  /// The qcow2 image that holds the snapshot when there is no swap disk.
  util::Result<std::string> fresh_state_disk();
  /// True when this target restores snapshots (between_trials: restore, a
  /// launcher that can, qemu-img present, and no snapshot has failed yet).
  bool snapshots() const;
  /// Saves the booted, idle VM as its snapshot; a failure turns snapshots
  /// off for this target (logged) and the trials reuse the VM instead.
  void take_snapshot(TrialState& st);

  QemuOptions options_;
  std::unique_ptr<VmLauncher> launcher_;
  std::string accel_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<guest::GuestSession> session_;  ///< the running boot's state (key: kernel, initramfs, cmdline)
  int boots_ = 0;
  bool kvm_verified_ = false;  ///< a KVM boot has reached the agent
  std::map<std::string, Initramfs> initramfs_cache_;  // by workload inputs
  std::string swap_disk_path_;  ///< this target's swap disk file ("" until the first boot)
  std::string state_disk_path_;  ///< the snapshot's qcow2 without a swap disk ("" until needed)
  bool snapshot_taken_ = false;  ///< the running VM has its snapshot
  bool snapshots_broken_ = false;  ///< a save or load failed: reuse from now on
};

/// The factory entry for `kind: qemu`: its options, and targets whose
/// initramfs cache and console logs live in <worker's folder>/qemu.
util::Result<TargetSpec> parse_qemu_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
