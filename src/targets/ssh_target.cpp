// The ssh target's trial: pick a host → kexec (when the boot differs) →
// apply knobs → workload → restore; lost hosts leave the pool and come back
// only through recovery and a health check.
#include "kerntune/targets/ssh_target.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "kerntune/targets/boot_check.hpp"
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

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

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

bool is_sysfs(const std::string& path) { return util::starts_with(path, "/sys/"); }

}  // namespace

struct SshTarget::Host {
  std::unique_ptr<ssh::Connection> conn;
  bool in_pool = true;
  std::string out_reason;       ///< why it left the pool
  std::string default_cmdline;  ///< /proc/cmdline at first contact
  std::string boot_key;         ///< what runs: "" = its own boot, else kernel/initrd/cmdline of the last kexec
  std::map<std::string, std::optional<std::string>> baseline;  ///< knob file → value at this boot
  std::vector<std::string> unknown_params;  ///< command-line words this boot's kernel logged as unknown
  std::set<std::string> setup_done;
  std::set<std::string> remote_files;  ///< uploaded kernels/initrds known present

  const SshHost& cfg() const { return conn->host(); }
  void new_boot() {
    baseline.clear();
    unknown_params.clear();
    setup_done.clear();
    remote_files.clear();  // a host that lives in RAM (an initramfs) lost them
  }
};

struct SshTarget::TrialState {
  TrialOutcome out;
  std::vector<std::string> touched;
  std::string log;  ///< what happened on the host (uploads, kexec, recovery, workload output)

  bool fail(std::string stage, std::string reason) {
    out.ok = false;
    out.failure_stage = std::move(stage);
    out.failure_reason = std::move(reason);
    return false;
  }
};

SshTarget::SshTarget(SshOptions options) : options_(std::move(options)) {
  if (auto why = options_.validate(); !why.empty()) throw std::invalid_argument("SshTarget: " + why);
  // Control sockets need a short path (sun_path is 108 bytes).
  std::string tmpl = (fs::temp_directory_path() / "kt-ssh-XXXXXX").string();
  if (char* d = mkdtemp(tmpl.data())) socket_dir_ = d;
  else throw std::runtime_error("SshTarget: cannot create a folder for control sockets");
  int i = 0;
  for (const auto& h : options_.hosts) {
    auto host = std::make_unique<Host>();
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
  h.boot_key.clear();
  h.new_boot();
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
    if (!h.boot_key.empty())
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
    std::string why = guest::boot_parameters_not_taken(request.boot.cmdline, h.conn->cmdline, h.unknown_params);
    return why.empty() || st.fail("boot", fmt::format("on {}: {}", h.cfg().name, why));
  };
  if (key == h.boot_key) {
    st.out.effective["cmdline"] = h.conn->cmdline;
    st.out.effective["kernel_release"] = h.conn->release;
    st.out.timings["boot"] = 0;
    return taken();
  }
  auto t0 = Clock::now();
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
  ++boots_;
  util::log_info("ssh: {}: kexec boot {}: {}", h.cfg().name, boots_, cmdline);
  auto e = h.conn->agent->run(options_.kexec_exec, 10, milliseconds(5000));
  if (e && e->exit_code != 0) {
    st.log += fmt::format("== `{}`: exit {} ==\n{}\n", join_argv(options_.kexec_exec), e->exit_code, e->output);
    return st.fail("boot", fmt::format("`{}` failed on {}: {}", join_argv(options_.kexec_exec), h.cfg().name,
                                       guest::tail_lines(e->output, 3, "(no output)")));
  }
  h.boot_key = "?";  // unknown until the host answers
  h.new_boot();
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
  auto log = h.conn->agent->run(guest::unknown_parameters_log_argv(), 30, options_.agent_grace);
  if (!log) return host_lost(h, "boot", "reading the kernel log", log.error().message, st);
  if (log->exit_code != 0 || log->timed_out)
    st.log += fmt::format("== cannot read the kernel log on {} ({}): unknown boot parameters go unnoticed ==\n",
                          h.cfg().name, guest::tail_lines(log->output, 1, "no output"));
  h.unknown_params = guest::unknown_cmdline_words(log->output);
  h.boot_key = key;
  return taken();
}

util::Result<bool> SshTarget::apply_knobs(Host& h, const TrialRequest& request, TrialState& st) {
  auto knobs = guest::knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return st.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    bool first = !h.baseline.contains(k.path);
    auto w = h.conn->agent->write(k.path, k.value, options_.command_timeout, first);
    if (!w) return host_lost(h, "apply", fmt::format("writing {} '{}'", k.kind, k.name), w.error().message, st);
    if (first && (w->rc == 0 || w->rc == 4 || w->rc == 1)) h.baseline[k.path] = w->old;
    if (guest::record_knob_write(k, *w, st.out)) {
      st.touched.push_back(k.path);
      continue;
    }
    if (w->rc == 2)
      return st.fail("apply", fmt::format("{} '{}' does not exist on {} ({} is missing)", k.kind, k.name,
                                          h.cfg().name, k.path));
    return st.fail("apply", fmt::format("the agent on {} refused {} '{}': {}", h.cfg().name, k.kind, k.name,
                                        w->message));
  }
  return true;
}

// `baseline: target`: the knobs' values on the host as it runs, written by nobody.
util::Result<bool> SshTarget::read_knobs(Host& h, const TrialRequest& request, TrialState& st) {
  auto knobs = guest::knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return st.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    auto r = h.conn->agent->read(k.path, options_.command_timeout);
    if (!r) return host_lost(h, "apply", fmt::format("reading {} '{}'", k.kind, k.name), r.error().message, st);
    if (r->rc != 0)
      return st.fail("apply", fmt::format("cannot read {} '{}' on {} ({}): {}", k.kind, k.name, h.cfg().name, k.path,
                                          util::trim(r->payload)));
    st.out.effective[k.name] = guest::normalize_knob_value(r->payload, is_sysfs(k.path));
  }
  return true;
}

util::Result<bool> SshTarget::run_workload(Host& h, const TrialRequest& request, TrialState& st) {
  const workloads::Workload& w = *request.workload;
  int repeats = request.repeats > 0 ? request.repeats : w.repeats;
  int warmup = request.warmup >= 0 ? request.warmup : w.warmup;
  int timeout_s = std::max(1, static_cast<int>(std::ceil(static_cast<double>(w.timeout.count()) / 1000.0)));
  std::string wname = w.name.empty() ? w.file : w.name;

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

  auto t_setup = Clock::now();
  if (!h.setup_done.contains(wname + "\n" + w.file)) {
    for (const auto& argv : w.setup) {
      auto r = h.conn->agent->run(argv, timeout_s, options_.agent_grace);
      std::string doing = fmt::format("running setup `{}` of workload '{}'", join_argv(argv), wname);
      if (!r) return host_lost(h, "workload", doing, r.error().message, st);
      st.log += fmt::format("== setup `{}`: exit {} ==\n{}\n", join_argv(argv), r->exit_code, r->output);
      if (r->timed_out)
        return st.fail("timeout", fmt::format("setup `{}` of workload '{}' did not finish within {} s (killed)",
                                              join_argv(argv), wname, timeout_s));
      if (r->exit_code != 0)
        return st.fail("workload", fmt::format("setup `{}` of workload '{}' {}: {}", join_argv(argv), wname,
                                               guest::exit_description(r->exit_code),
                                               guest::tail_lines(r->output, 3, "(no output)")));
    }
    h.setup_done.insert(wname + "\n" + w.file);
  }
  st.out.timings["setup"] = since(t_setup);

  auto t_work = Clock::now();
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), w.command.begin(), w.command.end());
  for (int i = 0; i < warmup + repeats; ++i) {
    bool measured = i >= warmup;
    std::string label = measured ? fmt::format("repeat {}/{}", i - warmup + 1, repeats)
                                 : fmt::format("warm-up {}/{}", i + 1, warmup);
    auto r = runner->conn->agent->run(argv, timeout_s, options_.agent_grace);
    if (!r)
      return host_lost(*runner, "workload", fmt::format("running workload '{}' ({})", wname, label),
                       r.error().message, st);
    st.log += fmt::format("== {} `{}` on {}: exit {}, {:.2f} s ==\n{}\n", label, join_argv(argv),
                          runner->cfg().name, r->exit_code, r->seconds, r->output);
    if (r->timed_out)
      return st.fail("timeout", fmt::format("workload '{}' ({}) exceeded its timeout of {} s and was killed", wname,
                                            label, timeout_s));
    if (r->exit_code != 0)
      return st.fail("workload", fmt::format("workload '{}' ({}) {}: {}", wname, label,
                                             guest::exit_description(r->exit_code),
                                             guest::tail_lines(r->output, 3, "(no output)")));
    if (!measured) continue;
    auto metrics = workloads::extract_metrics(w, r->output);
    if (!metrics) return st.fail("parse", fmt::format("workload '{}' ({}): {}", wname, label, metrics.error().message));
    for (const auto& [name, value] : *metrics) st.out.samples[name].push_back(value);
    auto sys = [&](const char* name, double value, const char* unit) {
      st.out.samples[name].push_back(value);
      st.out.units[name] = unit;
    };
    sys("sys.mem_available_min_kb", static_cast<double>(r->mem_available_min_kb), "kB");
    sys("sys.pgfault", static_cast<double>(r->pgfault), "count");
    sys("sys.pgmajfault", static_cast<double>(r->pgmajfault), "count");
    sys("sys.ctxt", static_cast<double>(r->ctxt), "count");
    sys("sys.elapsed_s", r->seconds, "s");
  }
  for (const auto& m : w.metrics)
    if (!m.unit.empty()) st.out.units[m.name] = m.unit;
  st.out.timings["workload"] = since(t_work);
  return true;
}

util::Result<bool> SshTarget::restore(Host& h, TrialState& st) {
  std::vector<std::string> order;
  for (auto it = st.touched.rbegin(); it != st.touched.rend(); ++it)
    if (std::find(order.begin(), order.end(), *it) == order.end()) order.push_back(*it);
  st.touched.clear();
  for (const auto& path : order) {
    const auto& base = h.baseline[path];
    if (!base) continue;
    std::string want = guest::normalize_knob_value(*base, is_sysfs(path));
    auto w = h.conn->agent->write(path, want, options_.command_timeout);
    if (!w) {
      if (w.error().kind == guest::ChannelError::Kind::interrupted)
        return util::fail("interrupted", util::Error::Kind::interrupted);
      util::log_warn("ssh: {}: restoring {} failed ({})", h.cfg().name, path, w.error().message);
      st.log += fmt::format("== restoring {} failed: {} ==\n", path, w.error().message);
      TrialState scratch;
      (void)host_lost(h, "restore", "restoring " + path, w.error().message, scratch);
      st.log += scratch.log;
      return false;
    }
    if (w->rc != 0 || guest::normalize_knob_value(w->readback, is_sysfs(path)) != want) {
      std::string got = guest::normalize_knob_value(w->readback, is_sysfs(path));
      util::log_warn("ssh: {}: {} reads '{}' after restoring '{}'", h.cfg().name, path, got, want);
      st.log += fmt::format("== {} reads '{}' after restoring '{}' ==\n", path, got, want);
    }
  }
  return true;
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
    auto t = Clock::now();
    KT_TRY(going, request.read_current ? read_knobs(h, request, st) : apply_knobs(h, request, st));
    st.out.timings["apply"] = since(t);
  }
  if (going && request.workload) {
    KT_TRY(going, run_workload(h, request, st));
  }
  if (h.in_pool && h.conn->agent && h.conn->agent->alive() && !st.touched.empty()) {
    auto t = Clock::now();
    KT_TRY(bool restored, restore(h, st));
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
