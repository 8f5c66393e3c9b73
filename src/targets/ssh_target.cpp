// The ssh target's trial: pick a host → kexec (when the boot differs) →
// apply knobs → workload → restore; lost hosts leave the pool and come back
// only through recovery and a health check.
#include "ssh_target.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "guest_session.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"
#include "ssh_host.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

using guest::join_argv;

// Words separated by single spaces.
std::string squeeze(const std::string& s) {
  std::string out;
  for (auto& w : util::split(s, ' '))
    for (auto& t : util::split(w, '\t'))
      if (!util::trim(t).empty()) out += (out.empty() ? "" : " ") + util::trim(t);
  return out;
}

// A host's own command line as a base for kexec: without what the boot loader added.
std::string base_from_cmdline(const std::string& cmdline) {
  std::string out;
  for (auto& w : util::split(squeeze(cmdline), ' '))
    if (!util::starts_with(w, "BOOT_IMAGE=") && !util::starts_with(w, "initrd="))
      out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

struct SshTarget::Host {
  std::unique_ptr<ssh::Connection> conn;
  bool in_pool = true;
  std::string out_reason;       ///< why it left the pool
  std::string default_cmdline;  ///< /proc/cmdline at first contact
  /// This boot's state. Its key: "" = the host's own boot, "?" = a kexec not
  /// yet verified, else kernel/initrd/cmdline of the last kexec.
  guest::GuestSession session;
  std::set<std::string> remote_files;  ///< uploaded kernels/initrds known present

  explicit Host(const SshOptions& o) : session({o.command_timeout, o.agent_grace, "ssh"}) {}
  const SshHost& cfg() const { return conn->host(); }
  void new_boot(std::string key) {
    session.reset(std::move(key));
    remote_files.clear();  // a host that lives in RAM (an initramfs) lost them
  }
};

struct SshTarget::TrialState : guest::TrialRecord {};

// A host as the session sees it: a lost channel takes it out of the pool
// (recovered when it can be); a knob that does not read back its boot value
// after a restore is logged and the restore goes on.
struct SshTarget::Link final : guest::GuestLink {
  Link(SshTarget& s, Host& h, TrialState& st) : s_(s), h_(h), st_(st) {}
  guest::AgentChannel& channel() override { return *h_.conn->agent; }
  std::string host() const override { return h_.cfg().name; }
  util::Result<bool> lost(const guest::ChannelError& e, const std::string& stage, const std::string& doing,
                          guest::TrialRecord&) override {
    return s_.host_lost(h_, stage, doing, e.message, st_);
  }
  void restore_lost(const std::string& path, const guest::ChannelError& e, guest::TrialRecord&) override {
    util::log_warn("ssh: {}: restoring {} failed ({})", h_.cfg().name, path, e.message);
    st_.log += fmt::format("== restoring {} failed: {} ==\n", path, e.message);
    TrialState scratch;  // the trial keeps its outcome; the host leaves the pool
    (void)s_.host_lost(h_, "restore", "restoring " + path, e.message, scratch);
    st_.log += scratch.log;
  }
  bool restore_mismatch(const std::string& path, const std::string& got, const std::string& want,
                        guest::TrialRecord&) override {
    util::log_warn("ssh: {}: {} reads '{}' after restoring '{}'", h_.cfg().name, path, got, want);
    st_.log += fmt::format("== {} reads '{}' after restoring '{}' ==\n", path, got, want);
    return true;
  }
  SshTarget& s_;
  Host& h_;
  TrialState& st_;
};

SshTarget::SshTarget(SshOptions options) : options_(std::move(options)) {
  if (auto why = options_.validate(); !why.empty()) throw std::invalid_argument("SshTarget: " + why);
  // Control sockets need a short path (sun_path is 108 bytes).
  std::string tmpl = (fs::temp_directory_path() / "kt-ssh-XXXXXX").string();
  if (char* d = mkdtemp(tmpl.data())) socket_dir_ = d;
  else throw std::runtime_error("SshTarget: cannot create a folder for control sockets");
  int i = 0;
  for (const auto& h : options_.hosts) {
    auto host = std::make_unique<Host>(options_);
    host->conn = std::make_unique<ssh::Connection>(options_, h, fmt::format("{}/{}.sock", socket_dir_, i++));
    hosts_.push_back(std::move(host));
  }
}

SshTarget::~SshTarget() {
  shutdown();
  std::error_code ec;
  if (!socket_dir_.empty()) fs::remove_all(socket_dir_, ec);
}

void SshTarget::shutdown() {
  for (auto& h : hosts_) h->conn->disconnect();
}

std::vector<std::string> SshTarget::pool() const {
  std::vector<std::string> out;
  for (const auto& h : hosts_)
    if (h->in_pool && h->cfg().role == "target") out.push_back(h->cfg().name);
  return out;
}

bool SshTarget::recover(Host& h, TrialState& st) {
  h.in_pool = false;
  h.conn->disconnect();
  const auto& argv = h.cfg().recovery;
  if (argv.empty()) {
    st.log += fmt::format("== {}: no recovery command; the host stays out of the pool ==\n", h.cfg().name);
    return false;
  }
  util::log_warn("ssh: recovering {} with `{}`", h.cfg().name, join_argv(argv));
  util::RunOptions ro;
  ro.argv = argv;
  ro.timeout = options_.recovery_timeout;
  ro.merge_stderr = true;
  auto r = util::run(ro);
  st.log += fmt::format("== recovery `{}`: {} ==\n{}\n", join_argv(argv), r ? r->describe() : r.error().message,
                        r ? r->out : "");
  if (!r || !r->ok()) {
    h.out_reason = fmt::format("recovery `{}` failed: {}", join_argv(argv), r ? r->describe() : r.error().message);
    return false;
  }
  auto back = h.conn->wait_for_return("", options_.boot_timeout);
  if (!back) {
    h.out_reason = "no health after recovery: " + back.error().message;
    st.log += "== health check failed: " + back.error().message + " ==\n";
    return false;
  }
  h.in_pool = true;
  h.out_reason.clear();
  h.new_boot("");
  st.log += fmt::format("== {} is back after recovery (health check passed: {}, {}) ==\n", h.cfg().name,
                        h.conn->release, h.conn->cmdline);
  util::log_info("ssh: {} recovered and back in the pool", h.cfg().name);
  return true;
}

util::Result<bool> SshTarget::host_lost(Host& h, const std::string& stage, const std::string& doing,
                                        const std::string& why, TrialState& st) {
  if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
  util::log_warn("ssh: {} stopped answering while {}: {}", h.cfg().name, doing, why);
  h.out_reason = fmt::format("stopped answering while {}", doing);
  st.touched.clear();  // those writes died with the connection (or the boot)
  bool back = recover(h, st);
  return st.fail(stage, fmt::format("host {} stopped answering while {} ({}); it left the pool{}", h.cfg().name, doing,
                                    why,
                                    back ? " and rejoined it after recovery and a health check"
                                         : h.cfg().recovery.empty() ? "" : " (recovery failed: " + h.out_reason + ")"));
}

util::Result<bool> SshTarget::ensure_boot(Host& h, const TrialRequest& request, TrialState& st) {
  std::string kernel = request.boot.kernel.empty() ? options_.kernel : request.boot.kernel;
  std::string initrd = request.boot.initramfs.empty() ? options_.initramfs : request.boot.initramfs;
  std::string base = options_.cmdline_base ? *options_.cmdline_base : base_from_cmdline(h.default_cmdline);
  std::string cmdline = squeeze(base + " " + request.boot.cmdline);
  if (kernel.empty()) {
    if (!util::trim(request.boot.cmdline).empty())
      return st.fail("configure", "the trial has boot parameters but the ssh target has no kernel to kexec "
                                  "(set target.kernel)");
    if (!h.session.key().empty())
      return st.fail("configure", "the host runs a kexec'd kernel and the trial wants its own: set target.kernel");
    st.out.effective["cmdline"] = h.conn->cmdline;
    st.out.timings["boot"] = 0;
    return true;
  }
  for (const auto& f : {kernel, initrd})
    if (!f.empty() && !fs::is_regular_file(f)) return st.fail("boot", fmt::format("'{}' does not exist", f));
  KT_TRY(std::string kernel_bytes, util::read_file(kernel));
  std::string initrd_bytes;
  if (!initrd.empty()) {
    KT_TRY(initrd_bytes, util::read_file(initrd));
  }
  std::string rk = fmt::format("{}/kernel-{}", options_.remote_dir, util::sha256_hex(kernel_bytes).substr(0, 16));
  std::string ri = initrd.empty() ? std::string()
                                  : fmt::format("{}/initrd-{}", options_.remote_dir,
                                                util::sha256_hex(initrd_bytes).substr(0, 16));
  std::string key = rk + "\n" + ri + "\n" + cmdline;
  // Boot parameters the kernel did not take fail the trial, on this boot and every reuse of it.
  auto taken = [&] {
    return h.session.boot_parameters_taken(request, h.conn->cmdline, st, fmt::format("on {}: ", h.cfg().name));
  };
  if (h.session.serves(key)) {
    st.out.effective["cmdline"] = h.conn->cmdline;
    st.out.effective["kernel_release"] = h.conn->release;
    st.out.timings["boot"] = 0;
    return taken();
  }
  auto t0 = Clock::now();
  request.stage("deploying kernel");
  // Upload what the host does not have (files are named by content).
  for (auto [bytes, remote] : {std::pair{&kernel_bytes, rk}, std::pair{&initrd_bytes, ri}}) {
    if (remote.empty() || h.remote_files.contains(remote)) continue;
    auto have = h.conn->remote_file_exists(remote);
    if (!have) return host_lost(h, "boot", "checking for " + remote, have.error().message, st);
    if (!*have) {
      auto up = h.conn->upload(*bytes, remote, options_.command_timeout + milliseconds(bytes->size() / 50));
      if (!up) return host_lost(h, "boot", "uploading " + remote, up.error().message, st);
      st.log += fmt::format("== uploaded {} ({} bytes) ==\n", remote, bytes->size());
    }
    h.remote_files.insert(remote);
  }
  st.out.timings["deploy"] = since(t0);
  std::vector<std::string> load = {"kexec", "-l", rk};
  if (!ri.empty()) load.push_back("--initrd=" + ri);
  load.push_back("--command-line=" + cmdline);
  auto l = h.conn->agent->run(load, 120, options_.agent_grace);
  if (!l) return host_lost(h, "boot", "loading the kernel with kexec -l", l.error().message, st);
  st.log += fmt::format("== `{}`: exit {} ==\n{}\n", join_argv(load), l->exit_code, l->output);
  if (l->exit_code != 0)
    return st.fail("boot", fmt::format("kexec -l refused the kernel on {}: {}", h.cfg().name,
                                       guest::tail_lines(l->output, 3, "(no output)")));
  std::string old_boot = h.conn->boot_id;
  auto t_exec = Clock::now();
  request.stage("booting (kexec)");
  ++boots_;
  util::log_info("ssh: {}: kexec boot {}: {}", h.cfg().name, boots_, cmdline);
  auto e = h.conn->agent->run(options_.kexec_exec, 10, milliseconds(5000));
  if (e && e->exit_code != 0) {
    st.log += fmt::format("== `{}`: exit {} ==\n{}\n", join_argv(options_.kexec_exec), e->exit_code, e->output);
    return st.fail("boot", fmt::format("`{}` failed on {}: {}", join_argv(options_.kexec_exec), h.cfg().name,
                                       guest::tail_lines(e->output, 3, "(no output)")));
  }
  h.new_boot("?");  // unknown until the host answers
  h.conn->disconnect();
  auto back = h.conn->wait_for_return(old_boot, options_.boot_timeout);
  if (!back) {
    if (back.error().kind == util::Error::Kind::interrupted) return std::unexpected(back.error());
    std::string reason = fmt::format("{} did not come back within {} s after kexec with '{}'", h.cfg().name,
                                     options_.boot_timeout.count() / 1000, cmdline);
    h.out_reason = "did not come back after kexec";
    bool recovered = recover(h, st);
    return st.fail("boot", reason + (recovered ? "; recovered by its recovery command, back in the pool"
                                               : "; it left the pool (" + h.out_reason + ")"));
  }
  st.out.timings["boot"] = since(t_exec);
  st.out.effective["cmdline"] = h.conn->cmdline;
  st.out.effective["kernel_release"] = h.conn->release;
  if (squeeze(h.conn->cmdline) != cmdline)
    return st.fail("boot", fmt::format("{} came back with /proc/cmdline '{}', not the requested '{}'", h.cfg().name,
                                       h.conn->cmdline, cmdline));
  if (auto want = bzimage_release(kernel); want && *want != h.conn->release)
    return st.fail("boot", fmt::format("{} came back running {}, not the kexec'd kernel {}", h.cfg().name,
                                       h.conn->release, *want));
  Link link(*this, h, st);
  KT_TRY(bool probed, h.session.read_unknown_parameters(link, st));
  if (!probed) return false;
  h.session.set_key(key);
  return taken();
}

util::Result<bool> SshTarget::run_workload(Host& h, const TrialRequest& request, TrialState& st) {
  // With workload_on: loadgen, setup runs on the target and the command on the loadgen host.
  Host* runner = &h;
  std::vector<std::string> prefix;
  if (options_.workload_on == "loadgen") {
    runner = nullptr;
    for (auto& g : hosts_)
      if (g->cfg().role == "loadgen" && g->in_pool) runner = g.get();
    if (!runner) return util::fail("no loadgen host is in the pool", util::Error::Kind::io);
    if (!runner->conn->agent || !runner->conn->agent->alive()) {
      auto hc = runner->conn->health_check();
      if (!hc) return host_lost(*runner, "workload", "connecting to the load generator", hc.error().message, st);
    }
    prefix = {"env", "KERNTUNE_TARGET_HOST=" + h.cfg().address};
  }

  Link target(*this, h, st), load(*this, *runner, st);
  return h.session.run_workload(target, load, prefix, request, st);
}

util::Result<TrialOutcome> SshTarget::run_trial(const TrialRequest& request) {
  if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
  auto t0 = Clock::now();
  TrialState st;
  st.out.ok = true;

  // The first target host of the pool that answers.
  Host* host = nullptr;
  for (auto& h : hosts_) {
    if (h->cfg().role != "target" || !h->in_pool) continue;
    if (!h->conn->agent || !h->conn->agent->alive()) {
      auto hc = h->conn->health_check();
      if (!hc) {
        if (hc.error().kind == util::Error::Kind::interrupted) return std::unexpected(hc.error());
        util::log_warn("ssh: {} does not answer ({}); it leaves the pool", h->cfg().name, hc.error().message);
        st.log += fmt::format("== {} does not answer: {} ==\n", h->cfg().name, hc.error().message);
        h->out_reason = hc.error().message;
        if (!recover(*h, st)) continue;
      }
      if (h->default_cmdline.empty()) h->default_cmdline = h->conn->cmdline;
    }
    host = h.get();
    break;
  }
  if (!host) {
    std::string why;
    for (auto& h : hosts_)
      if (h->cfg().role == "target") why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", h->cfg().name, h->out_reason);
    // Infrastructure, not bad input: the hosts were fine when the campaign started.
    return util::fail("no ssh target host is left in the pool (" + why + ")", util::Error::Kind::io);
  }
  Host& h = *host;
  st.out.worker = "ssh-" + h.cfg().name;

  bool going = true;
  KT_TRY(going, ensure_boot(h, request, st));
  if (going) {
    Link link(*this, h, st);
    KT_TRY(going, h.session.apply(link, request, st));
  }
  if (going && request.workload) {
    KT_TRY(going, run_workload(h, request, st));
  }
  if (h.in_pool && h.conn->agent && h.conn->agent->alive() && !st.touched.empty()) {
    auto t = Clock::now();
    request.stage("restoring");
    Link link(*this, h, st);
    KT_TRY(bool restored, h.session.restore(link, st));
    (void)restored;
    st.out.timings["restore"] = since(t);
  }
  if (!st.log.empty()) st.out.artifacts.push_back({"ssh.log", std::move(st.log)});
  st.out.timings["total"] = since(t0);
  auto tm = [&](const char* k) { return st.out.timings.contains(k) ? st.out.timings[k] : 0.0; };
  util::log_info("ssh: trial {} on {} {}: total {:.1f} s (boot {:.1f}, apply {:.2f}, workload {:.1f}, restore {:.2f})",
                 request.seq, h.cfg().name, st.out.ok ? "ok" : "failed at " + st.out.failure_stage, tm("total"),
                 tm("boot"), tm("apply"), tm("workload"), tm("restore"));
  return std::move(st.out);
}

}  // namespace kerntune::targets
