// The qemu target's trial: boot (or reuse) → apply knobs → workload → restore.
#include "kerntune/targets/qemu_target.hpp"

#include <fmt/format.h>
#include <string.h>
#include <sys/utsname.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "kerntune/targets/boot_check.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKvmProbe{20000};

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Choice lists ("[x]", "(x)") exist in sysfs and debugfs, not in /proc/sys.
bool is_sysfs(const std::string& path) { return util::starts_with(path, "/sys/"); }

}  // namespace

struct QemuTarget::Vm {
  std::string key;
  guest::GuestChannel channel;
  std::string cmdline;  ///< /proc/cmdline as read in the guest
  std::vector<std::string> unknown_params;  ///< what the kernel logged as unknown command-line words
  /// Knob file → its content at boot (nullopt: unreadable, never restored).
  std::map<std::string, std::optional<std::string>> baseline;
  std::set<std::string> setup_done;  ///< workloads whose setup ran in this boot
};

struct QemuTarget::TrialState {
  TrialOutcome out;
  std::size_t log_mark = 0;        ///< console position at the start of this trial
  std::string console;             ///< captured when the VM is killed mid-trial
  bool console_captured = false;
  std::vector<std::string> touched;  ///< knob files written in this trial, in order
  std::string workload_log;

  bool fail(std::string stage, std::string reason) {
    out.ok = false;
    out.failure_stage = std::move(stage);
    out.failure_reason = std::move(reason);
    return false;
  }
};

QemuTarget::QemuTarget(QemuOptions options) : options_(std::move(options)) {
  if (options_.work_dir.empty()) options_.work_dir = (fs::temp_directory_path() / "kerntune-qemu").string();
  accel_ = options_.accel == "auto" ? detect_accel() : options_.accel;
  if (options_.accel == "auto" && accel_ == "kvm") {
    auto memo = util::read_file(kvm_memo_path());
    if (memo && util::trim(*memo) == kvm_memo_key()) accel_ = "tcg";
  }
}

// /dev/kvm can exist and create VMs while QEMU cannot boot Linux on it (nested
// virtualization without the features it needs). A failed KVM boot under
// accel: auto is remembered per host kernel and QEMU binary in the work dir.
std::string QemuTarget::kvm_memo_path() const { return (fs::path(options_.work_dir) / "kvm-broken").string(); }

std::string QemuTarget::kvm_memo_key() const {
  struct utsname u{};
  uname(&u);
  return fmt::format("{} {}", u.release, options_.qemu_binary);
}

void QemuTarget::remember_kvm_broken() {
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  (void)util::write_file(kvm_memo_path(), kvm_memo_key() + "\n");
}

QemuTarget::~QemuTarget() { shutdown(); }

void QemuTarget::shutdown() {
  if (vm_) vm_->channel.power_off(milliseconds(5000));
  vm_.reset();
  if (!swap_disk_path_.empty()) {
    std::error_code ec;
    fs::remove(swap_disk_path_, ec);
  }
}

util::Result<std::vector<std::string>> QemuTarget::fresh_swap_disk() {
  if (options_.swap_disk.empty()) return std::vector<std::string>{};
  if (swap_disk_path_.empty()) {
    static std::atomic<int> serial{0};
    swap_disk_path_ = (fs::path(options_.work_dir) / fmt::format("swap-{}-{}.img", getpid(), serial++)).string();
  }
  // validate() allows only digits and one M/G suffix.
  std::uintmax_t bytes = std::stoull(options_.swap_disk.substr(0, options_.swap_disk.size() - 1)) << 20;
  if (options_.swap_disk.back() == 'G') bytes <<= 10;
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  fs::remove(swap_disk_path_, ec);
  { std::ofstream create(swap_disk_path_); }
  fs::resize_file(swap_disk_path_, bytes, ec);
  if (ec)
    return util::fail(fmt::format("cannot create the swap disk {}: {}", swap_disk_path_, ec.message()),
                      util::Error::Kind::io);
  // QEMU's option syntax doubles a comma inside a value.
  std::string file;
  for (char c : swap_disk_path_) file += c == ',' ? std::string(",,") : std::string(1, c);
  return std::vector<std::string>{"-drive", "file=" + file + ",if=virtio,format=raw,cache=unsafe"};
}

void QemuTarget::kill_vm(TrialState* st) {
  if (!vm_) return;
  vm_->channel.kill();
  if (st) {
    st->console = vm_->channel.console().log_since(st->log_mark);
    st->console_captured = true;
  }
  vm_.reset();
}

util::Result<Initramfs> QemuTarget::initramfs_for(const TrialRequest& request) {
  if (!request.boot.initramfs.empty()) {  // the caller's own (it must start the kerntune agent)
    if (!fs::is_regular_file(request.boot.initramfs))
      return util::fail(fmt::format("initramfs '{}' does not exist", request.boot.initramfs));
    return Initramfs{request.boot.initramfs, {}, true, static_cast<std::size_t>(fs::file_size(request.boot.initramfs))};
  }
  InitramfsSpec spec;
  if (request.workload) {
    spec.binaries = request.workload->binaries;
    spec.modules = request.workload->modules;
  }
  if (!spec.modules.empty()) {
    for (const auto& d : request.boot.modules_dirs) {
      // Either lib/modules/<release> or lib/modules (with one release below it).
      if (fs::exists(fs::path(d) / "modules.builtin") || fs::exists(fs::path(d) / "kernel")) {
        spec.modules_release_dir = d;
        break;
      }
      std::error_code ec;
      for (const auto& sub : fs::directory_iterator(d, ec))
        if (sub.is_directory() && fs::exists(sub.path() / "kernel")) spec.modules_release_dir = sub.path().string();
      if (!spec.modules_release_dir.empty()) break;
    }
    if (spec.modules_release_dir.empty()) spec.modules_release_dir = options_.modules_dir;
    if (spec.modules_release_dir.empty()) {
      std::string kernel = request.boot.kernel.empty() ? options_.kernel : request.boot.kernel;
      spec.modules_release_dir = modules_dir_for_kernel(kernel).value_or("");
    }
  }
  std::string key = join_argv(spec.binaries) + "\n" + join_argv(spec.modules) + "\n" + spec.modules_release_dir;
  if (auto it = initramfs_cache_.find(key); it != initramfs_cache_.end() && fs::exists(it->second.path))
    return it->second;
  KT_TRY(Initramfs built, build_initramfs(spec, (fs::path(options_.work_dir) / "initramfs").string()));
  initramfs_cache_[key] = built;
  return built;
}

util::Result<bool> QemuTarget::channel_failure(const guest::ChannelError& e, const std::string& stage,
                                               const std::string& doing, TrialState& st) {
  using K = guest::ChannelError::Kind;
  kill_vm(&st);
  switch (e.kind) {
    case K::interrupted: return util::fail("interrupted", util::Error::Kind::interrupted);
    case K::panic: return st.fail(stage, fmt::format("kernel panic while {}: {}", doing, e.message));
    case K::timeout:
      return st.fail(stage, fmt::format("{}: {}; the VM was killed", doing, e.message));
    case K::exited: return st.fail(stage, fmt::format("QEMU ended while {}: {}", doing, e.message));
    case K::protocol: return st.fail(stage, fmt::format("guest protocol error while {}: {}", doing, e.message));
  }
  return st.fail(stage, e.message);
}

util::Result<bool> QemuTarget::ensure_vm(const TrialRequest& request, const std::string& initramfs,
                                         TrialState& st) {
  std::string kernel = request.boot.kernel.empty() ? options_.kernel : request.boot.kernel;
  if (!fs::is_regular_file(kernel)) return st.fail("boot", fmt::format("kernel image '{}' does not exist", kernel));
  std::string cmdline = util::trim(options_.cmdline_base + " " + request.boot.cmdline);
  std::string key = kernel + "\n" + initramfs + "\n" + cmdline;
  if (options_.reuse_vm && vm_ && vm_->key == key && vm_->channel.alive()) {
    st.log_mark = vm_->channel.console().log_total();
    st.out.timings["boot"] = 0;
    st.out.effective["cmdline"] = vm_->cmdline;
    return true;
  }
  kill_vm();
  auto t0 = Clock::now();
  while (true) {
    util::Child::Options co;
    co.argv = qemu_argv(options_, accel_, kernel, initramfs, cmdline);
    auto disk = fresh_swap_disk();
    if (!disk) return st.fail("boot", disk.error().message);
    co.argv.insert(co.argv.end(), disk->begin(), disk->end());
    co.merge_stderr = true;
    KT_TRY(util::Child child, util::Child::spawn(co));
    ++boots_;
    util::log_info("qemu: boot {} ({}, {} vCPU, {}): {}", boots_, accel_, options_.cpus, options_.memory, cmdline);
    vm_ = std::make_unique<Vm>(Vm{key, guest::GuestChannel(std::move(child)), {}, {}, {}});
    st.log_mark = 0;
    // accel: auto picked KVM but no KVM boot has worked yet: a short first try, then TCG.
    bool probing = options_.accel == "auto" && accel_ == "kvm" && !kvm_verified_;
    auto limit = probing ? std::min(options_.boot_timeout, kKvmProbe) : options_.boot_timeout;
    auto r = vm_->channel.wait_ready(limit);
    if (r) {
      kvm_verified_ = kvm_verified_ || accel_ == "kvm";
      break;
    }
    if (probing && r.error().kind != guest::ChannelError::Kind::panic &&
        r.error().kind != guest::ChannelError::Kind::interrupted) {
      util::log_warn("qemu: KVM did not boot the guest ({}); using TCG from now on", r.error().message);
      kill_vm();
      --boots_;
      accel_ = "tcg";
      remember_kvm_broken();
      continue;
    }
    return channel_failure(r.error(), "boot", "booting", st);
  }
  auto cl = vm_->channel.read("/proc/cmdline", options_.command_timeout);
  if (!cl) return channel_failure(cl.error(), "boot", "reading /proc/cmdline", st);
  vm_->cmdline = util::trim(cl->payload);
  // Boot parameters the kernel did not know: its log says so (at KERN_NOTICE, so not on a `quiet` console).
  auto log = vm_->channel.run(guest::unknown_parameters_log_argv(), 30, options_.agent_grace);
  if (!log) return channel_failure(log.error(), "boot", "reading the kernel log", st);
  if (log->exit_code != 0 || log->timed_out)
    util::log_warn("qemu: cannot read the guest's kernel log ({}): unknown boot parameters go unnoticed",
                   guest::tail_lines(log->output, 1, "no output"));
  vm_->unknown_params = guest::unknown_cmdline_words(vm_->channel.console().log() + "\n" + log->output);
  st.out.timings["boot"] = since(t0);
  st.out.effective["cmdline"] = vm_->cmdline;
  return true;
}

bool QemuTarget::boot_parameters_taken(const TrialRequest& request, TrialState& st) {
  std::string why = guest::boot_parameters_not_taken(request.boot.cmdline, vm_->cmdline, vm_->unknown_params);
  return why.empty() || st.fail("boot", why);
}

util::Result<bool> QemuTarget::apply_knobs(const TrialRequest& request, TrialState& st) {
  auto knobs = guest::knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return st.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    // The first write of a file in this boot also returns its boot value (the baseline).
    bool first = !vm_->baseline.contains(k.path);
    auto w = vm_->channel.write(k.path, k.value, options_.command_timeout, first);
    if (!w) return channel_failure(w.error(), "apply", fmt::format("writing {} '{}'", k.kind, k.name), st);
    if (first && (w->rc == 0 || w->rc == 4 || w->rc == 1)) vm_->baseline[k.path] = w->old;
    if (guest::record_knob_write(k, *w, st.out)) {
      st.touched.push_back(k.path);
      continue;
    }
    if (w->rc == 2)
      return st.fail("apply", fmt::format("{} '{}' does not exist in this kernel ({} is missing)", k.kind, k.name,
                                          k.path));
    return st.fail("apply", fmt::format("the guest agent refused {} '{}': {}", k.kind, k.name, w->message));
  }
  return true;
}

// `baseline: target`: the knobs' values in this boot, written by nobody.
util::Result<bool> QemuTarget::read_knobs(const TrialRequest& request, TrialState& st) {
  auto knobs = guest::knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return st.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    auto r = vm_->channel.read(k.path, options_.command_timeout);
    if (!r) return channel_failure(r.error(), "apply", fmt::format("reading {} '{}'", k.kind, k.name), st);
    if (r->rc != 0)
      return st.fail("apply", fmt::format("cannot read {} '{}' ({}): {}", k.kind, k.name, k.path, util::trim(r->payload)));
    st.out.effective[k.name] = guest::normalize_knob_value(r->payload, is_sysfs(k.path));
  }
  return true;
}

util::Result<bool> QemuTarget::run_workload(const TrialRequest& request, TrialState& st) {
  const workloads::Workload& w = *request.workload;
  int repeats = request.repeats > 0 ? request.repeats : w.repeats;
  int warmup = request.warmup >= 0 ? request.warmup : w.warmup;
  int timeout_s = std::max(1, static_cast<int>(std::ceil(static_cast<double>(w.timeout.count()) / 1000.0)));
  std::string wname = w.name.empty() ? w.file : w.name;

  auto t_setup = Clock::now();
  if (!vm_->setup_done.contains(wname + "\n" + w.file)) {
    for (const auto& argv : w.setup) {
      auto r = vm_->channel.run(argv, timeout_s, options_.agent_grace);
      std::string doing = fmt::format("running setup `{}` of workload '{}'", join_argv(argv), wname);
      if (!r) return channel_failure(r.error(), "workload", doing, st);
      st.workload_log += fmt::format("== setup `{}`: exit {} ==\n{}\n", join_argv(argv), r->exit_code, r->output);
      if (r->timed_out || r->exit_code != 0) {
        kill_vm(&st);
        if (r->timed_out)
          return st.fail("timeout", fmt::format("setup `{}` of workload '{}' did not finish within {} s (killed)",
                                                join_argv(argv), wname, timeout_s));
        return st.fail("workload", fmt::format("setup `{}` of workload '{}' {}: {}", join_argv(argv), wname,
                                               guest::exit_description(r->exit_code), guest::tail_lines(r->output, 3, "(no output)")));
      }
    }
    vm_->setup_done.insert(wname + "\n" + w.file);
  }
  st.out.timings["setup"] = since(t_setup);

  auto t_work = Clock::now();
  for (int i = 0; i < warmup + repeats; ++i) {
    bool measured = i >= warmup;
    std::string label = measured ? fmt::format("repeat {}/{}", i - warmup + 1, repeats)
                                 : fmt::format("warm-up {}/{}", i + 1, warmup);
    auto r = vm_->channel.run(w.command, timeout_s, options_.agent_grace);
    if (!r) return channel_failure(r.error(), "workload", fmt::format("running workload '{}' ({})", wname, label), st);
    st.workload_log += fmt::format("== {} `{}`: exit {}, {:.2f} s ==\n{}\n", label, join_argv(w.command),
                                   r->exit_code, r->seconds, r->output);
    if (r->timed_out) {
      kill_vm(&st);
      return st.fail("timeout", fmt::format("workload '{}' ({}) exceeded its timeout of {} s and was killed",
                                            wname, label, timeout_s));
    }
    if (r->exit_code != 0) {
      kill_vm(&st);
      return st.fail("workload", fmt::format("workload '{}' ({}) {}: {}", wname, label,
                                             guest::exit_description(r->exit_code), guest::tail_lines(r->output, 3, "(no output)")));
    }
    if (!measured) continue;
    auto metrics = workloads::extract_metrics(w, r->output);
    if (!metrics)
      return st.fail("parse", fmt::format("workload '{}' ({}): {}", wname, label, metrics.error().message));
    for (const auto& [name, value] : *metrics) st.out.samples[name].push_back(value);
    for (const auto& m : r->metrics) {
      st.out.samples[m.name].push_back(m.value);
      st.out.units[m.name] = m.unit;
    }
  }
  for (const auto& m : w.metrics)
    if (!m.unit.empty()) st.out.units[m.name] = m.unit;
  st.out.timings["workload"] = since(t_work);
  return true;
}

util::Result<bool> QemuTarget::restore(TrialState& st) {
  if (!vm_) return true;
  std::vector<std::string> order;
  for (auto it = st.touched.rbegin(); it != st.touched.rend(); ++it)
    if (std::find(order.begin(), order.end(), *it) == order.end()) order.push_back(*it);
  st.touched.clear();
  for (const auto& path : order) {
    const auto& base = vm_->baseline[path];
    if (!base) continue;  // unreadable at boot: nothing to restore to
    std::string want = guest::normalize_knob_value(*base, is_sysfs(path));
    auto w = vm_->channel.write(path, want, options_.command_timeout);
    if (!w) {
      if (w.error().kind == guest::ChannelError::Kind::interrupted)
        return util::fail("interrupted", util::Error::Kind::interrupted);
      util::log_warn("qemu: restoring {} failed ({}); the next trial reboots", path, w.error().message);
      kill_vm(&st);
      return false;
    }
    if (w->rc != 0 || guest::normalize_knob_value(w->readback, is_sysfs(path)) != want) {
      util::log_warn("qemu: {} reads '{}' after restoring '{}'; the next trial reboots", path,
                     guest::normalize_knob_value(w->readback, is_sysfs(path)), want);
      kill_vm(&st);
      return false;
    }
  }
  return true;
}

util::Result<TrialOutcome> QemuTarget::run_trial(const TrialRequest& request) {
  if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
  auto t0 = Clock::now();
  TrialState st;
  st.out.ok = true;

  auto t_ir = Clock::now();
  auto ir = initramfs_for(request);
  st.out.timings["initramfs"] = since(t_ir);
  bool going = true;
  if (!ir) {
    if (ir.error().kind == util::Error::Kind::interrupted) return std::unexpected(ir.error());
    going = st.fail("configure", "cannot build the initramfs: " + ir.error().message);
  }
  if (going) {
    KT_TRY(going, ensure_vm(request, ir->path, st));
    going = going && boot_parameters_taken(request, st);
  }
  if (going) {
    auto t = Clock::now();
    KT_TRY(going, request.read_current ? read_knobs(request, st) : apply_knobs(request, st));
    st.out.timings["apply"] = since(t);
  }
  if (going && request.workload) {
    KT_TRY(going, run_workload(request, st));
  }
  // Restore after success and after apply/parse failures (the VM is sound);
  // the other failures have killed it already.
  if (vm_) {
    auto t = Clock::now();
    KT_TRY(bool restored, restore(st));
    (void)restored;
    st.out.timings["restore"] = since(t);
  }
  if (!st.console_captured && vm_) st.console = vm_->channel.console().log_since(st.log_mark);
  st.out.artifacts.push_back({"console.log", std::move(st.console)});
  if (!st.workload_log.empty()) st.out.artifacts.push_back({"workload.log", std::move(st.workload_log)});
  st.out.worker = fmt::format("qemu-{}-boot{}", accel_, boots_);
  st.out.timings["total"] = since(t0);
  auto tm = [&](const char* k) { return st.out.timings.contains(k) ? st.out.timings[k] : 0.0; };
  util::log_info("qemu: trial {} {}: total {:.1f} s (boot {:.1f}, apply {:.2f}, setup {:.1f}, workload {:.1f}, restore {:.2f})",
                 request.seq, st.out.ok ? "ok" : "failed at " + st.out.failure_stage, tm("total"), tm("boot"),
                 tm("apply"), tm("setup"), tm("workload"), tm("restore"));
  return std::move(st.out);
}

}  // namespace kerntune::targets
