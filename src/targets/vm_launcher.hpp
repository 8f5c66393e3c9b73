#pragma once
// Internal to the targets module: how a VM target starts one boot. QemuTarget
// runs everything around it — the boot key and reuse, the initramfs, the
// accel: auto KVM probe and its TCG fallback, the guest session's stages; a
// launcher only starts the machine and hands back the guest console as a
// GuestChannel, then removes the machine once the channel is dead:
//
//   qemu    — spawns QEMU with `-serial stdio` (qemu_options.cpp);
//   libvirt — a transient domain from generated XML, its first serial port a
//             unix socket bridged to the channel by socat (libvirt_target.cpp).
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/result.hpp"
#include "option_fields.hpp"

namespace kerntune::targets {

/// One boot as the target decided it.
struct VmBoot {
  std::string accel;      ///< "kvm" or "tcg" (auto resolved)
  std::string kernel;     ///< kernel image
  std::string initramfs;  ///< the initramfs with the agent
  std::string cmdline;    ///< the whole kernel command line
  std::string swap_disk;  ///< a fresh empty disk file for /dev/vda; "" = none
  /// The machine must be able to save and load a snapshot (can_snapshot()):
  /// swap_disk is then a qcow2 image, which holds the snapshot, or without
  /// one `state_disk` is an empty qcow2 image for it.
  bool snapshots = false;
  std::string state_disk;
};

class VmLauncher {
 public:
  virtual ~VmLauncher() = default;
  /// "qemu" / "libvirt": the target's kind, its log prefix and worker name.
  virtual std::string kind() const = 0;
  /// Starts the machine and connects its console. An Error (io) when the
  /// machine could not be started at all; a guest that then does not boot is
  /// the channel's to report.
  virtual util::Result<guest::GuestChannel> start(const VmBoot& boot) = 0;
  /// The channel of the last start is killed or powered off: remove what is
  /// left of the machine (libvirt destroys its domain). Safe to call twice.
  virtual void stop() {}
  /// True when a machine started with VmBoot::snapshots can save and load.
  virtual bool can_snapshot() const { return false; }
  /// Saves the running machine (RAM, devices, disks) as its one snapshot,
  /// replacing an earlier one; the machine runs on. An io Error when it cannot.
  virtual util::Status save_snapshot() { return util::io_error(kind() + " cannot save a snapshot"); }
  /// Puts the running machine back to the snapshot; the console channel
  /// stays connected. An io Error when it cannot.
  virtual util::Status load_snapshot() { return util::io_error(kind() + " cannot load a snapshot"); }
};

/// The launcher of `kind: qemu`: qemu_argv() plus the swap disk's -drive.
std::unique_ptr<VmLauncher> qemu_launcher(const QemuOptions& options);

/// The recipe keys both VM kinds share, read into `o`: kernel (or the default
/// kernel), modules_dir, memory, cpus, accel, boot_timeout, cmdline_base,
/// swap_disk, between_trials (or reuse_vm). Each bad value is reported at its key.
/// No default kernel found at parse time leaves o.kernel empty.
util::Status parse_vm_keys(const YAML::Node& node, const TargetContext& ctx, QemuOptions& o);

/// Where a target without `kernel:` was parsed: the search's start and the
/// place its error names.
struct KernelSearch {
  std::string recipe_dir;
  fields::Place target;  ///< the `target:` mapping
  static KernelSearch at(const YAML::Node& node, const TargetContext& ctx) {
    return {ctx.recipe_dir, fields::Place::of(node, ctx.recipe_file)};
  }
};

/// A target parsed before any kernel was there looks again when it is made
/// (default_kernel from the recipe's folder and the current one); no image is
/// the invalid_input error the recipe would have had, at its target mapping.
util::Status late_default_kernel(QemuOptions& o, const KernelSearch& where);

}  // namespace kerntune::targets
