// The libvirt target: recipe keys, the domain XML, and the launcher that
// turns one boot into a transient domain (libvirt_target.hpp).
#include "libvirt_target.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>

#include "kerntune/util/log.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "option_fields.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kVirshTimeout{60000};

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

/// "512M" → 512 MiB, "2G" → 2048 MiB (validate() allows digits and one M/G).
long long memory_mib(const std::string& memory) {
  long long n = std::stoll(memory);
  return memory.back() == 'G' ? n * 1024 : n;
}

class LibvirtLauncher final : public VmLauncher {
 public:
  explicit LibvirtLauncher(LibvirtOptions o) : o_(std::move(o)) {}
  ~LibvirtLauncher() override { stop(); }
  std::string kind() const override { return "libvirt"; }

  util::Result<guest::GuestChannel> start(const VmBoot& boot) override {
    stop();
    if (!swept_) sweep();
    for (const auto* v : {&boot.kernel, &boot.initramfs, &boot.cmdline, &boot.swap_disk})
      if (has_control(*v)) return util::invalid_input(fmt::format("'{}' has a control character: not a domain XML value", *v));
    static std::atomic<int> serial{0};
    name_ = fmt::format("{}-{}-{}", o_.name_prefix, getpid(), serial++);
    // A unix socket path has room for 107 bytes, and socat reads ':' and ',' as syntax.
    std::string tmp = fs::temp_directory_path().string();
    if (tmp.size() > 40 || tmp.find_first_of(":,!\\'\" ") != std::string::npos) tmp = "/tmp";
    socket_ = (fs::path(tmp) / (name_ + ".sock")).string();
    xml_ = (fs::path(o_.vm.work_dir) / (name_ + ".xml")).string();
    std::error_code ec;
    fs::create_directories(o_.vm.work_dir, ec);
    fs::remove(socket_, ec);
    KT_TRY_STATUS(util::write_file(xml_, domain_xml(o_, name_, boot, socket_)));
    KT_TRY(std::string created, virsh({"create", "--paused", xml_}));
    (void)created;
    util::Child::Options co;
    co.argv = {o_.socat, "STDIO", "UNIX-CONNECT:" + socket_};
    co.merge_stderr = true;
    auto child = util::Child::spawn(co);
    if (!child) {
      stop();
      return util::fail("cannot start socat for the domain's console: " + child.error().message, util::Error::Kind::io);
    }
    guest::GuestChannel channel(std::move(*child));
    if (auto r = virsh({"resume", name_}); !r) {
      stop();
      return std::unexpected(r.error());
    }
    return channel;
  }

  void stop() override {
    if (name_.empty()) return;
    (void)virsh({"destroy", name_});  // fails when the domain already ended (poweroff, crash): gone either way
    std::error_code ec;
    fs::remove(socket_, ec);
    fs::remove(xml_, ec);
    name_.clear();
  }

 private:
  /// virsh on the target's connection; io when it fails or hangs.
  util::Result<std::string> virsh(std::vector<std::string> args) const {
    util::RunOptions ro;
    ro.argv = {o_.virsh, "-q", "-c", o_.uri};
    ro.argv.insert(ro.argv.end(), args.begin(), args.end());
    ro.timeout = kVirshTimeout;
    ro.merge_stderr = true;
    auto r = util::run(ro);
    std::string what = "virsh " + args.front();
    if (!r) return util::fail(fmt::format("{}: {}", what, r.error().message), util::Error::Kind::io);
    if (r->timed_out)
      return util::timeout_error(fmt::format("{} on {} did not finish within {} s (is libvirtd running? scripts/libvirt-start)",
                                             what, o_.uri, kVirshTimeout.count() / 1000));
    if (!r->ok())
      return util::fail(fmt::format("{} on {} failed: {}", what, o_.uri, guest::tail_lines(r->out, 3, "(no output)")),
                        util::Error::Kind::io);
    return r->out;
  }

  /// Destroys the domains of this prefix whose kerntune process is gone
  /// (killed before it could destroy them).
  void sweep() {
    swept_ = true;
    auto list = virsh({"list", "--name"});
    if (!list) return;  // the create that follows reports a dead connection
    static const std::regex ours("^(.+)-([0-9]{1,9})-[0-9]+$");
    for (const auto& line : util::split(*list, '\n')) {
      std::smatch m;
      std::string n = util::trim(line);
      if (!std::regex_match(n, m, ours) || m[1] != o_.name_prefix) continue;
      if (std::stoll(m[2]) == getpid() || fs::exists("/proc/" + m[2].str())) continue;
      util::log_warn("libvirt: destroying domain {}, left by kerntune process {} (no longer running)", n, m[2].str());
      (void)virsh({"destroy", n});
    }
  }

  LibvirtOptions o_;
  bool swept_ = false;
  std::string name_, socket_, xml_;  ///< the running domain's; "" when none
};

}  // namespace

std::string domain_xml(const LibvirtOptions& o, const std::string& name, const VmBoot& b, const std::string& socket) {
  auto e = [](const std::string& v) { return util::xml_escape(v); };
  bool kvm = b.accel == "kvm";
  std::string x = fmt::format("<domain type='{}'>\n  <name>{}</name>\n", kvm ? "kvm" : "qemu", e(name));
  x += fmt::format("  <memory unit='MiB'>{}</memory>\n  <vcpu>{}</vcpu>\n", memory_mib(o.vm.memory), o.vm.cpus);
  x += fmt::format("  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    <kernel>{}</kernel>\n"
                   "    <initrd>{}</initrd>\n    <cmdline>{}</cmdline>\n  </os>\n",
                   e(b.kernel), e(b.initramfs), e(b.cmdline));
  x += "  <features><acpi/></features>\n";
  if (kvm) x += "  <cpu mode='host-passthrough'/>\n";
  // The guest powering off, rebooting (panic=-1) or crashing ends the domain, as -no-reboot ends QEMU.
  x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n";
  x += "  <devices>\n";
  if (!o.emulator.empty()) x += fmt::format("    <emulator>{}</emulator>\n", e(o.emulator));
  x += fmt::format("    <serial type='unix'>\n      <source mode='bind' path='{}'/>\n      <target port='0'/>\n"
                   "    </serial>\n",
                   e(socket));
  if (!b.swap_disk.empty())
    x += fmt::format("    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw' cache='unsafe'/>\n"
                     "      <source file='{}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n",
                     e(b.swap_disk));
  x += "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n";
  return x;
}

util::Result<LibvirtOptions> parse_libvirt_options(const YAML::Node& node, const TargetContext& ctx) {
  const std::string& file = ctx.recipe_file;
  if (!node || !node.IsMap()) return util::fail_at(node, file, "'target' must be a mapping");
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"kind", "kernel", "modules_dir", "memory", "cpus", "accel", "boot_timeout",
                                  "cmdline_base", "swap_disk", "reuse_vm", "between_trials", "uri", "virsh", "socat", "emulator",
                                  "name_prefix"},
                                 "libvirt target"));
  LibvirtOptions o;
  KT_TRY_STATUS(parse_vm_keys(node, ctx, o.vm));
  // Snapshots go through QEMU's own monitor, which a libvirt domain keeps to
  // libvirt: a domain is reused (the default) or rebooted.
  if (!node["between_trials"] && !node["reuse_vm"]) o.vm.between_trials = QemuOptions::BetweenTrials::reuse;
  if (o.vm.between_trials == QemuOptions::BetweenTrials::restore)
    return util::fail_at(node["between_trials"], file,
                         "between_trials: restore is the qemu target's (a snapshot through QEMU's monitor); a "
                         "libvirt domain is reused or rebooted (between_trials: reuse or reboot)");
  KT_TRY_STATUS(fields::optional_string(node, file, "uri", o.uri));
  if (!util::starts_with(o.uri, "qemu:///") || has_control(o.uri))
    return util::fail_at(node["uri"], file,
                         fmt::format("uri must be a local QEMU connection such as qemu:///system, not '{}': the "
                                     "kernel, the initramfs and the console socket are files on this machine",
                                     o.uri));
  KT_TRY_STATUS(fields::optional_string(node, file, "virsh", o.virsh));
  KT_TRY_STATUS(fields::optional_string(node, file, "socat", o.socat));
  KT_TRY_STATUS(fields::optional_string(node, file, "emulator", o.emulator));
  if (auto em = node["emulator"]) {
    o.emulator = fields::resolve_path(o.emulator, ctx.recipe_dir);
    if (!fs::is_regular_file(o.emulator) || has_control(o.emulator))
      return util::fail_at(em, file, fmt::format("emulator '{}' is not a file", o.emulator));
    o.vm.qemu_binary = o.emulator;  // the KVM memo's key (qemu_target.hpp)
  }
  KT_TRY_STATUS(fields::optional_string(node, file, "name_prefix", o.name_prefix));
  static const std::regex prefix_re("^[A-Za-z][A-Za-z0-9_]{0,39}$");
  if (!std::regex_match(o.name_prefix, prefix_re))
    return util::fail_at(node["name_prefix"], file,
                         fmt::format("name_prefix must be a letter then up to 39 letters, digits or '_', not '{}'",
                                     o.name_prefix));
  if (has_control(o.vm.cmdline_base))
    return util::fail_at(node["cmdline_base"], file, "cmdline_base must not hold control characters");
  if (!ctx.work_dir.empty()) o.vm.work_dir = fields::work_subdir(ctx.work_dir, "libvirt");
  if (o.vm.work_dir.empty()) o.vm.work_dir = (fs::temp_directory_path() / "kerntune-libvirt").string();
  if (auto why = o.vm.validate(/*need_kernel=*/false); !why.empty()) return util::fail_at(node, file, why);
  return o;
}

std::unique_ptr<VmLauncher> libvirt_launcher(const LibvirtOptions& options) {
  return std::make_unique<LibvirtLauncher>(options);
}

util::Result<TargetSpec> parse_libvirt_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(LibvirtOptions parsed, parse_libvirt_options(node, ctx));
  return TargetSpec("libvirt", [parsed, where = KernelSearch::at(node, ctx)](const TargetContext& worker)
                                   -> util::Result<std::unique_ptr<Target>> {
    LibvirtOptions o = parsed;
    KT_TRY_STATUS(late_default_kernel(o.vm, where));
    if (!worker.work_dir.empty()) o.vm.work_dir = fields::work_subdir(worker.work_dir, "libvirt");
    QemuOptions vm = o.vm;
    return std::unique_ptr<Target>(std::make_unique<QemuTarget>(std::move(vm), libvirt_launcher(o)));
  });
}

}  // namespace kerntune::targets
