// Recipe keys of the qemu target, its defaults, and the QEMU command line.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "option_fields.hpp"
#include "qmp.hpp"
#include "vm_launcher.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

using fields::resolve_path;

}  // namespace

std::string QemuOptions::validate(bool need_kernel) const {
  if (need_kernel && kernel.empty()) return "no kernel image";
  if (cpus < 1 || cpus > 64) return fmt::format("cpus must be 1..64, not {}", cpus);
  static const std::regex mem_re("^[0-9]+[MG]?$");
  if (!std::regex_match(memory, mem_re)) return fmt::format("memory must look like 512M or 2G, not '{}'", memory);
  if (accel != "auto" && accel != "kvm" && accel != "tcg")
    return fmt::format("accel must be auto, kvm or tcg, not '{}'", accel);
  if (cmdline_base.find("console=ttyS0") == std::string::npos)
    return "cmdline_base must keep console=ttyS0: the guest agent talks over the first serial port";
  if (boot_timeout.count() <= 0) return "boot_timeout must be positive";
  static const std::regex disk_re("^[0-9]+[MG]$");
  if (!swap_disk.empty() && !std::regex_match(swap_disk, disk_re))
    return fmt::format("swap_disk must look like 256M or 1G, not '{}'", swap_disk);
  return {};
}

std::optional<std::string> default_kernel(const std::vector<std::string>& start_dirs) {
  if (const char* k = std::getenv("KERNTUNE_KERNEL"); k && *k) return std::string(k);
  if (const char* d = std::getenv("KERNTUNE_KERNEL_DIR"); d && *d) {
    auto p = fs::path(d) / "vmlinuz";
    if (fs::exists(p)) return p.string();
  }
  for (const auto& start : start_dirs) {
    if (start.empty()) continue;
    std::error_code ec;
    for (fs::path dir = fs::absolute(start, ec); !ec; dir = dir.parent_path()) {
      auto p = dir / ".cache" / "kernel" / "vmlinuz";
      if (fs::exists(p)) return p.string();
      if (dir == dir.parent_path()) break;
    }
  }
  return std::nullopt;
}

std::optional<std::string> modules_dir_for_kernel(const std::string& kernel) {
  std::error_code ec;
  fs::path real = fs::canonical(kernel, ec);
  if (ec) return std::nullopt;
  std::string base = real.filename().string();
  if (!util::starts_with(base, "vmlinuz-")) return std::nullopt;
  std::string release = base.substr(8);
  fs::path dir = real.parent_path().parent_path() / "lib" / "modules" / release;
  if (fs::is_directory(dir, ec)) return dir.string();
  return std::nullopt;
}

std::string detect_accel() {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "tcg";
  bool ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
  if (ok) {
    int vm = ioctl(fd, KVM_CREATE_VM, 0);
    ok = vm >= 0;
    if (vm >= 0) close(vm);
  }
  close(fd);
  return ok ? "kvm" : "tcg";
}

std::string to_string(QemuOptions::BetweenTrials b) {
  switch (b) {
    case QemuOptions::BetweenTrials::restore: return "restore";
    case QemuOptions::BetweenTrials::reuse: return "reuse";
    case QemuOptions::BetweenTrials::reboot: return "reboot";
  }
  return "?";
}

std::vector<std::string> qemu_argv(const QemuOptions& o, const std::string& accel, const std::string& kernel,
                                   const std::string& initramfs, const std::string& cmdline) {
  std::vector<std::string> argv = {o.qemu_binary, "-nodefaults", "-no-user-config", "-display", "none",
                                   "-monitor", "none", "-serial", "stdio", "-no-reboot"};
  if (accel == "kvm") {
    argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    argv.insert(argv.end(), {"-accel", o.cpus > 1 ? "tcg,thread=multi" : "tcg"});
  }
  argv.insert(argv.end(), {"-m", o.memory, "-smp", std::to_string(o.cpus), "-kernel", kernel, "-initrd",
                           initramfs, "-append", cmdline});
  argv.insert(argv.end(), o.qemu_options.begin(), o.qemu_options.end());
  return argv;
}

util::Status parse_vm_keys(const YAML::Node& node, const TargetContext& ctx, QemuOptions& o) {
  const std::string& file = ctx.recipe_file;
  if (auto k = node["kernel"]) {
    KT_TRY(std::string kernel, util::as_string(k, file, "kernel"));
    o.kernel = resolve_path(kernel, ctx.recipe_dir);
    if (!fs::is_regular_file(o.kernel))
      return util::fail_at(k, file,
                           fmt::format("kernel image '{}' does not exist (run scripts/fetch-kernel, or fix target.kernel)",
                                       o.kernel));
  } else {
    // No kernel here yet (a recipe `kerntune init` wrote before
    // scripts/fetch-kernel ran) is not an error of the recipe: the target
    // looks again when it is made (late_default_kernel).
    auto found = default_kernel({ctx.recipe_dir, fs::current_path().string()});
    if (found) {
      o.kernel = *found;
      if (!fs::is_regular_file(o.kernel))
        return util::fail_at(node, file,
                             fmt::format("kernel image '{}' (from KERNTUNE_KERNEL) does not exist", o.kernel));
    }
  }
  if (auto m = node["modules_dir"]) {
    KT_TRY(std::string dir, util::as_string(m, file, "modules_dir"));
    o.modules_dir = resolve_path(dir, ctx.recipe_dir);
    if (!fs::is_directory(o.modules_dir))
      return util::fail_at(m, file, fmt::format("modules_dir '{}' is not a folder", o.modules_dir));
  }
  if (auto m = node["memory"]) {
    KT_TRY(o.memory, util::as_string(m, file, "memory"));
    if (util::looks_like_int(m)) o.memory += "M";
  }
  if (auto c = node["cpus"]) {
    KT_TRY(long long cpus, util::as_int(c, file, "cpus"));
    if (cpus < 1 || cpus > 64) return util::fail_at(c, file, "cpus must be between 1 and 64");
    o.cpus = static_cast<int>(cpus);
  }
  KT_TRY_STATUS(fields::optional_string(node, file, "accel", o.accel));
  if (auto a = node["accel"]; a && o.accel != "auto" && o.accel != "kvm" && o.accel != "tcg")
    return util::fail_at(a, file, fmt::format("accel must be auto, kvm or tcg, not '{}'", o.accel));
  // A zero boot_timeout is reported by validate(), at the target mapping.
  KT_TRY_STATUS(fields::optional_duration(node, file, "boot_timeout", o.boot_timeout, /*require_positive=*/false));
  KT_TRY_STATUS(fields::optional_string(node, file, "cmdline_base", o.cmdline_base));
  KT_TRY_STATUS(fields::optional_string(node, file, "swap_disk", o.swap_disk));
  auto between = node["between_trials"];
  if (auto r = node["reuse_vm"]) {
    if (between)
      return util::fail_at(r, file, "reuse_vm and between_trials say the same thing: keep between_trials "
                                    "(restore, reuse or reboot)");
    KT_TRY(bool reuse, util::as_bool(r, file, "reuse_vm"));
    o.between_trials = reuse ? QemuOptions::BetweenTrials::reuse : QemuOptions::BetweenTrials::reboot;
  }
  if (between) {
    KT_TRY(std::string b, util::as_string(between, file, "between_trials"));
    if (b == "restore") o.between_trials = QemuOptions::BetweenTrials::restore;
    else if (b == "reuse") o.between_trials = QemuOptions::BetweenTrials::reuse;
    else if (b == "reboot") o.between_trials = QemuOptions::BetweenTrials::reboot;
    else
      return util::fail_at(between, file,
                           fmt::format("between_trials must be restore, reuse or reboot, not '{}'", b));
  }
  return {};
}

util::Result<QemuOptions> parse_qemu_options(const YAML::Node& node, const TargetContext& ctx) {
  const std::string& file = ctx.recipe_file;
  if (!node || !node.IsMap()) return util::fail_at(node, file, "'target' must be a mapping");
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"kind", "kernel", "modules_dir", "memory", "cpus", "accel", "qemu_options",
                                  "boot_timeout", "cmdline_base", "qemu", "swap_disk", "reuse_vm", "between_trials"},
                                 "qemu target"));
  QemuOptions o;
  KT_TRY_STATUS(parse_vm_keys(node, ctx, o));
  if (auto q = node["qemu_options"]) {
    if (!q.IsSequence()) return util::fail_at(q, file, "qemu_options must be a list of arguments");
    for (const auto& item : q) {
      KT_TRY(std::string arg, util::as_string(item, file, "qemu_options"));
      o.qemu_options.push_back(arg);
    }
  }
  KT_TRY_STATUS(fields::optional_string(node, file, "qemu", o.qemu_binary));
  if (!ctx.work_dir.empty()) o.work_dir = fields::work_subdir(ctx.work_dir, "qemu");
  if (auto why = o.validate(/*need_kernel=*/false); !why.empty()) return util::fail_at(node, file, why);
  return o;
}

util::Status late_default_kernel(QemuOptions& o, const KernelSearch& where) {
  if (!o.kernel.empty()) return {};
  auto found = default_kernel({where.recipe_dir, fs::current_path().string()});
  if (!found)
    return where.target.fail("no kernel image: set target.kernel, set KERNTUNE_KERNEL, or run scripts/fetch-kernel "
                         "(which fills .cache/kernel/)");
  if (!fs::is_regular_file(*found))
    return where.target.fail(fmt::format("kernel image '{}' (from KERNTUNE_KERNEL) does not exist", *found));
  o.kernel = *found;
  return {};
}

namespace {

// QEMU's option syntax doubles a comma inside a value.
std::string option_value(const std::string& v) {
  std::string out;
  for (char c : v) out += c == ',' ? std::string(",,") : std::string(1, c);
  return out;
}

constexpr std::chrono::milliseconds kMonitorConnect{10000};
// A snapshot of a 1–2 GiB guest writes its RAM: allow for a slow disk.
constexpr std::chrono::milliseconds kSnapshotTimeout{300000};

class QemuLauncher final : public VmLauncher {
 public:
  explicit QemuLauncher(QemuOptions o) : o_(std::move(o)) {}
  ~QemuLauncher() override { stop(); }
  std::string kind() const override { return "qemu"; }
  util::Result<guest::GuestChannel> start(const VmBoot& b) override {
    stop();
    util::Child::Options co;
    co.argv = qemu_argv(o_, b.accel, b.kernel, b.initramfs, b.cmdline);
    if (!b.swap_disk.empty())
      co.argv.insert(co.argv.end(), {"-drive", "file=" + option_value(b.swap_disk) + ",if=virtio,format=" +
                                                   (b.snapshots ? "qcow2" : "raw") + ",cache=unsafe"});
    if (b.snapshots) {
      // The monitor socket lives in the temp folder: a unix socket's path
      // has at most 107 bytes, a work folder's may be longer.
      static std::atomic<int> serial{0};
      qmp_path_ = (fs::temp_directory_path() / fmt::format("kerntune-qmp-{}-{}.sock", getpid(), serial++)).string();
      std::error_code ec;
      fs::remove(qmp_path_, ec);
      co.argv.insert(co.argv.end(), {"-qmp", "unix:" + option_value(qmp_path_) + ",server=on,wait=off"});
      if (b.swap_disk.empty() && !b.state_disk.empty())
        co.argv.insert(co.argv.end(),
                       {"-drive", "file=" + option_value(b.state_disk) + ",if=none,id=kt-state,format=qcow2"});
    }
    co.merge_stderr = true;
    KT_TRY(util::Child child, util::Child::spawn(co));
    return guest::GuestChannel(std::move(child));
  }
  void stop() override {
    qmp_ = Qmp();
    if (!qmp_path_.empty()) {
      std::error_code ec;
      fs::remove(qmp_path_, ec);
      qmp_path_.clear();
    }
  }
  bool can_snapshot() const override { return true; }
  util::Status save_snapshot() override { return monitor("savevm kerntune"); }
  util::Status load_snapshot() override { return monitor("loadvm kerntune"); }

 private:
  util::Status monitor(const std::string& command) {
    if (qmp_path_.empty()) return util::io_error("this VM was started without its monitor (no snapshots)");
    if (!qmp_.connected()) {
      KT_TRY(Qmp q, Qmp::connect(qmp_path_, kMonitorConnect));
      qmp_ = std::move(q);
    }
    KT_TRY(std::string said, qmp_.human(command, kSnapshotTimeout));
    said = util::trim(said);
    if (!said.empty()) return util::io_error(fmt::format("QEMU's '{}' said: {}", command, said));
    return {};
  }
  QemuOptions o_;
  std::string qmp_path_;
  Qmp qmp_;
};

}  // namespace

std::unique_ptr<VmLauncher> qemu_launcher(const QemuOptions& options) { return std::make_unique<QemuLauncher>(options); }

util::Result<TargetSpec> parse_qemu_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(QemuOptions parsed, parse_qemu_options(node, ctx));
  YAML::Node portable = YAML::Clone(node);  // the kernel found here (default_kernel) travels by path
  if (!parsed.kernel.empty()) portable["kernel"] = parsed.kernel;
  if (!parsed.modules_dir.empty()) portable["modules_dir"] = parsed.modules_dir;
  auto make = [parsed, where = KernelSearch::at(node, ctx)](const TargetContext& worker)
      -> util::Result<std::unique_ptr<Target>> {
    QemuOptions o = parsed;
    KT_TRY_STATUS(late_default_kernel(o, where));
    if (!worker.work_dir.empty()) o.work_dir = fields::work_subdir(worker.work_dir, "qemu");
    return std::unique_ptr<Target>(std::make_unique<QemuTarget>(std::move(o)));
  };
  return TargetSpec("qemu", make, portable);
}

}  // namespace kerntune::targets
