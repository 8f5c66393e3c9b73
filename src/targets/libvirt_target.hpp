#pragma once
// Internal to the targets module: the libvirt target (docs/libvirt-target.md).
// The qemu target's trial (QemuTarget: boot key, initramfs, KVM probe, the
// guest session) with another launcher: each boot is a transient domain
// (`virsh create --paused` of generated XML) with direct kernel boot, its
// first serial port a unix socket that socat bridges to the guest channel;
// `virsh resume` once the console is connected. A domain is destroyed when
// its boot ends (failure, reboot, shutdown); domains a killed kerntune left
// behind are destroyed by the next libvirt target on the same connection.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "vm_launcher.hpp"

namespace kerntune::targets {

struct LibvirtOptions {
  QemuOptions vm;  ///< the keys shared with kind: qemu (qemu_binary unused)
  std::string uri = "qemu:///system";
  std::string virsh = "virsh";
  std::string socat = "socat";
  std::string emulator;               ///< <emulator>; "" = libvirt's default for the domain type
  std::string name_prefix = "kerntune";  ///< domains are <prefix>-<pid>-<n>
};

/// Parses `target:` (kind: libvirt); errors name the file, line and key.
util::Result<LibvirtOptions> parse_libvirt_options(const YAML::Node& node, const TargetContext& ctx);

/// The transient domain of one boot: type qemu (TCG) or kvm, direct kernel
/// boot, ttyS0 on a unix socket at `socket`, every value escaped.
std::string domain_xml(const LibvirtOptions& o, const std::string& name, const VmBoot& boot,
                       const std::string& socket);

/// The libvirt launcher (libvirt_target.cpp).
std::unique_ptr<VmLauncher> libvirt_launcher(const LibvirtOptions& options);

/// The factory entry for `kind: libvirt`: its options, and targets whose
/// domain files and logs live in <worker's folder>/libvirt.
util::Result<TargetSpec> parse_libvirt_target(const YAML::Node& node, const TargetContext& ctx);

}  // namespace kerntune::targets
