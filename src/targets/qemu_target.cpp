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

#include "guest_session.hpp"
#include "vm_launcher.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kKvmProbe{20000};

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

struct QemuTarget::Vm {
  guest::GuestChannel channel;
  std::string cmdline;  ///< /proc/cmdline as read in the guest
};

struct QemuTarget::TrialState : guest::TrialRecord {
  std::size_t log_mark = 0;  ///< console position at the start of this trial
  std::string console;       ///< captured when the VM is killed mid-trial
  bool console_captured = false;
};

// The running VM as the session sees it: a lost channel or a failed workload
// or restore kills the VM (with its console kept for the trial), so the next
// trial boots afresh.
struct QemuTarget::Link final : guest::GuestLink {
  Link(QemuTarget& q, TrialState& st) : q_(q), st_(st) {}
  guest::AgentChannel& channel() override { return q_.vm_->channel; }
  util::Result<bool> lost(const guest::ChannelError& e, const std::string& stage, const std::string& doing,
                          guest::TrialRecord&) override {
    return q_.channel_failure(e, stage, doing, st_);
  }
  void workload_failed(guest::TrialRecord&) override { q_.kill_vm(&st_); }
  void restore_lost(const std::string& path, const guest::ChannelError& e, guest::TrialRecord&) override {
    util::log_warn("{}: restoring {} failed ({}); the next trial reboots", q_.kind(), path, e.message);
    q_.kill_vm(&st_);
  }
  bool restore_mismatch(const std::string& path, const std::string& got, const std::string& want,
                        guest::TrialRecord&) override {
    util::log_warn("{}: {} reads '{}' after restoring '{}'; the next trial reboots", q_.kind(), path, got, want);
    q_.kill_vm(&st_);
    return false;
  }
  QemuTarget& q_;
  TrialState& st_;
};

QemuTarget::QemuTarget(QemuOptions options) : QemuTarget(std::move(options), nullptr) {}

QemuTarget::QemuTarget(QemuOptions options, std::unique_ptr<VmLauncher> launcher)
    : options_(std::move(options)), launcher_(std::move(launcher)) {
  if (!launcher_) launcher_ = qemu_launcher(options_);
  // The session outlives each VM: a lost channel kills the VM while a stage runs.
  session_ = std::make_unique<guest::GuestSession>(
      guest::SessionOptions{options_.command_timeout, options_.agent_grace, launcher_->kind()});
  if (options_.work_dir.empty()) options_.work_dir = (fs::temp_directory_path() / "kerntune-qemu").string();
  accel_ = options_.accel == "auto" ? detect_accel() : options_.accel;
  if (options_.between_trials == QemuOptions::BetweenTrials::restore && launcher_->can_snapshot() &&
      !util::which("qemu-img")) {
    util::log_warn("{}: between_trials: restore needs qemu-img (Debian package qemu-utils) for the snapshot's "
                   "image; reusing the VM between trials instead",
                   launcher_->kind());
    snapshots_broken_ = true;
  }
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

std::string QemuTarget::kind() const { return launcher_->kind(); }

void QemuTarget::shutdown() {
  if (vm_) {
    vm_->channel.power_off(milliseconds(5000));
    launcher_->stop();
  }
  vm_.reset();
  snapshot_taken_ = false;
  std::error_code ec;
  if (!swap_disk_path_.empty()) fs::remove(swap_disk_path_, ec);
  if (!state_disk_path_.empty()) fs::remove(state_disk_path_, ec);
}

namespace {

// An empty qcow2 image of `size` ("256M", "16M") at `path`, by qemu-img.
util::Status create_qcow2(const std::string& path, const std::string& size) {
  util::RunOptions ro;
  ro.argv = {"qemu-img", "create", "-q", "-f", "qcow2", path, size};
  ro.timeout = std::chrono::seconds(60);
  ro.merge_stderr = true;
  auto r = util::run(ro);
  if (!r)
    return util::io_error(fmt::format("cannot run qemu-img (Debian package qemu-utils) to create {}: {}", path,
                                      r.error().message));
  if (!r->ok())
    return util::io_error(fmt::format("qemu-img could not create {}: {}: {}", path, r->describe(), util::trim(r->out)));
  return {};
}

}  // namespace

util::Result<std::string> QemuTarget::fresh_state_disk() {
  if (state_disk_path_.empty()) {
    static std::atomic<int> serial{0};
    state_disk_path_ = (fs::path(options_.work_dir) / fmt::format("state-{}-{}.qcow2", getpid(), serial++)).string();
  }
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  fs::remove(state_disk_path_, ec);
  KT_TRY_STATUS(create_qcow2(state_disk_path_, "16M"));
  return state_disk_path_;
}

util::Result<std::string> QemuTarget::fresh_swap_disk(bool qcow2) {
  if (options_.swap_disk.empty()) return std::string();
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
  if (qcow2) {  // the snapshot holds the disk's blocks with the RAM that refers to them
    KT_TRY_STATUS(create_qcow2(swap_disk_path_, options_.swap_disk));
    return swap_disk_path_;
  }
  { std::ofstream create(swap_disk_path_); }
  fs::resize_file(swap_disk_path_, bytes, ec);
  if (ec)
    return util::fail(fmt::format("cannot create the swap disk {}: {}", swap_disk_path_, ec.message()),
                      util::Error::Kind::io);
  return swap_disk_path_;
}

void QemuTarget::kill_vm(TrialState* st) {
  if (!vm_) return;
  vm_->channel.kill();
  launcher_->stop();
  snapshot_taken_ = false;
  if (st) {
    st->console = vm_->channel.console().log_since(st->log_mark);
    st->console_captured = true;
  }
  vm_.reset();
}

util::Result<Initramfs> QemuTarget::initramfs_for(const TrialRequest& request) {
  if (!request.boot.initramfs.empty()) {  // the caller's own (it must start the kerntune agent)
    if (!fs::is_regular_file(request.boot.initramfs))
      return util::invalid_input(fmt::format("initramfs '{}' does not exist", request.boot.initramfs));
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
  std::string key = guest::join_argv(spec.binaries) + "\n" + guest::join_argv(spec.modules) + "\n" + spec.modules_release_dir;
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
  if (options_.reuses() && !request.independent && vm_ && session_->serves(key) && vm_->channel.alive()) {
    st.log_mark = vm_->channel.console().log_total();
    bool reused = true;
    if (snapshots() && snapshot_taken_) {
      request.stage("loading snapshot");
      auto t = Clock::now();
      auto loaded = launcher_->load_snapshot();
      if (loaded) {
        session_->snapshot_loaded();
        st.out.timings["snapshot_load"] = since(t);
      } else {
        util::log_warn("{}: loading the booted VM's snapshot failed ({}); booting afresh, and reusing the VM "
                       "between trials from now on",
                       kind(), loaded.error().message);
        snapshots_broken_ = true;
        reused = false;
      }
    }
    if (reused) {
      st.out.timings["boot"] = 0;
      st.out.effective["cmdline"] = vm_->cmdline;
      return true;
    }
  }
  kill_vm();
  request.stage("booting");
  auto t0 = Clock::now();
  while (true) {
    const bool snap = snapshots();
    auto disk = fresh_swap_disk(snap);
    if (!disk) return st.fail("boot", disk.error().message);
    std::string state_disk;
    if (snap && disk->empty()) {
      auto sd = fresh_state_disk();
      if (!sd) return st.fail("boot", sd.error().message);
      state_disk = *sd;
    }
    // accel: auto picked KVM but no KVM boot has worked yet: a short first try, then TCG.
    bool probing = options_.accel == "auto" && accel_ == "kvm" && !kvm_verified_;
    auto started = launcher_->start(VmBoot{accel_, kernel, initramfs, cmdline, *disk, snap, state_disk});
    if (!started) {
      // A launcher that waits for QEMU (libvirt's `virsh create` waits for
      // its monitor) sees a KVM abort as a failed start, not as a boot that
      // never answers; which one it sees depends on how fast QEMU aborts.
      if (probing && started.error().kind == util::Error::Kind::io) {
        util::log_warn("{}: KVM did not start the guest ({}); using TCG from now on", kind(), started.error().message);
        accel_ = "tcg";
        remember_kvm_broken();
        continue;
      }
      return std::unexpected(started.error());
    }
    guest::GuestChannel channel = std::move(*started);
    ++boots_;
    util::log_info("{}: boot {} ({}, {} vCPU, {}): {}", kind(), boots_, accel_, options_.cpus, options_.memory,
                   cmdline);
    vm_ = std::make_unique<Vm>(Vm{std::move(channel), {}});
    session_->reset(key);
    st.log_mark = 0;
    auto limit = probing ? std::min(options_.boot_timeout, kKvmProbe) : options_.boot_timeout;
    auto r = vm_->channel.wait_ready(limit);
    if (r) {
      kvm_verified_ = kvm_verified_ || accel_ == "kvm";
      break;
    }
    if (probing && r.error().kind != guest::ChannelError::Kind::panic &&
        r.error().kind != guest::ChannelError::Kind::interrupted) {
      util::log_warn("{}: KVM did not boot the guest ({}); using TCG from now on", kind(), r.error().message);
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
  Link link(*this, st);
  KT_TRY(bool probed, session_->read_unknown_parameters(link, st, vm_->channel.console().log()));
  if (!probed) return false;
  st.out.timings["boot"] = since(t0);
  st.out.effective["cmdline"] = vm_->cmdline;
  if (snapshots()) take_snapshot(st);
  return true;
}

bool QemuTarget::snapshots() const {
  return options_.between_trials == QemuOptions::BetweenTrials::restore && launcher_->can_snapshot() &&
         !snapshots_broken_;
}

void QemuTarget::take_snapshot(TrialState& st) {
  auto t = Clock::now();
  auto saved = launcher_->save_snapshot();
  if (!saved) {
    util::log_warn("{}: saving the booted VM's snapshot failed ({}); reusing the VM between trials instead",
                   kind(), saved.error().message);
    snapshots_broken_ = true;
    return;
  }
  snapshot_taken_ = true;
  st.out.timings["snapshot_save"] = since(t);
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
    going = going && session_->boot_parameters_taken(request, vm_->cmdline, st);
  }
  if (going) {
    Link link(*this, st);
    KT_TRY(going, session_->run_stages(link, request, st));
  }
  // Restore after success and after apply/parse failures (the VM is sound);
  // the other failures have killed it already.
  // With a snapshot the next trial of this boot loads it: nothing to write back.
  if (vm_ && !(snapshot_taken_ && snapshots())) {
    auto t = Clock::now();
    if (!st.touched.empty()) request.stage("restoring");
    Link link(*this, st);
    KT_TRY(bool restored, session_->restore(link, st));
    (void)restored;
    st.out.timings["restore"] = since(t);
  }
  if (!st.console_captured && vm_) st.console = vm_->channel.console().log_since(st.log_mark);
  st.out.artifacts.push_back({"console.log", std::move(st.console)});
  if (!st.log.empty()) st.out.artifacts.push_back({"workload.log", std::move(st.log)});
  st.out.worker = fmt::format("{}-{}-boot{}", kind(), accel_, boots_);
  st.out.timings["total"] = since(t0);
  auto tm = [&](const char* k) { return st.out.timings.contains(k) ? st.out.timings[k] : 0.0; };
  util::log_info("{}: trial {} {}: total {:.1f} s (boot {:.1f}, snapshot load {:.2f}, apply {:.2f}, setup {:.1f}, workload {:.1f}, restore {:.2f})",
                 kind(), request.seq, st.out.ok ? "ok" : "failed at " + st.out.failure_stage, tm("total"), tm("boot"),
                 tm("snapshot_load"), tm("apply"), tm("setup"), tm("workload"), tm("restore"));
  return std::move(st.out);
}

}  // namespace kerntune::targets
