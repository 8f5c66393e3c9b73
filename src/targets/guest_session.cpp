// The guest-agent trial's stages over a GuestLink (guest_session.hpp).
#include "guest_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "boot_check.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets::guest {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Choice lists ("[x]", "(x)") exist in sysfs and debugfs, not in /proc/sys.
bool is_sysfs(const std::string& path) { return util::starts_with(path, "/sys/"); }

util::Result<bool> interrupted() { return util::fail("interrupted", util::Error::Kind::interrupted); }

}  // namespace

bool TrialRecord::fail(std::string stage, std::string reason) {
  out.ok = false;
  out.failure_stage = std::move(stage);
  out.failure_reason = std::move(reason);
  return false;
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string workload_name(const workloads::Workload& w) { return w.name.empty() ? w.file : w.name; }

std::string repeat_label(int i, int warmup, int repeats) {
  return i >= warmup ? fmt::format("repeat {}/{}", i - warmup + 1, repeats) : fmt::format("warm-up {}/{}", i + 1, warmup);
}

std::optional<std::pair<std::string, std::string>> run_failure(const std::string& workload, const std::string& label,
                                                               int timeout_s, bool timed_out, int exit_code,
                                                               const std::string& output) {
  if (timed_out)
    return std::pair{std::string("timeout"),
                     fmt::format("workload '{}' ({}) exceeded its timeout of {} s and was killed", workload, label,
                                 timeout_s)};
  if (exit_code != 0)
    return std::pair{std::string("workload"), fmt::format("workload '{}' ({}) {}: {}", workload, label,
                                                          exit_description(exit_code),
                                                          tail_lines(output, 3, "(no output)"))};
  return std::nullopt;
}

void record_samples(const std::map<std::string, double>& metrics, const std::vector<AgentMetric>& agent,
                    TrialOutcome& out) {
  for (const auto& [name, value] : metrics) out.samples[name].push_back(value);
  for (const auto& m : agent) {
    out.samples[m.name].push_back(m.value);
    out.units[m.name] = m.unit;
  }
}

void record_units(const workloads::Workload& w, TrialOutcome& out) {
  for (const auto& m : w.metrics)
    if (!m.unit.empty()) out.units[m.name] = m.unit;
}

void PooledMetrics::add(const workloads::Workload& w, std::string_view output) {
  for (const auto& m : w.metrics) {
    if (m.source != workloads::MetricSpec::Source::distribution) continue;
    if (auto d = workloads::extract_distribution(m, output, w.name)) parts_[m.name].push_back(std::move(*d));
  }
}

void PooledMetrics::record(const workloads::Workload& w, TrialOutcome& out) const {
  for (const auto& m : w.metrics) {
    auto it = parts_.find(m.name);
    if (it == parts_.end()) continue;
    if (auto q = workloads::pooled_percentile(it->second, m.percentile)) out.pooled[m.name] = *q;
  }
}

void GuestSession::reset(std::string key) {
  key_ = std::move(key);
  baseline_.clear();
  setup_done_.clear();
  unknown_params_.clear();
}

util::Result<bool> GuestSession::read_unknown_parameters(GuestLink& g, TrialRecord& t, const std::string& console) {
  // The kernel logs unknown boot parameters at KERN_NOTICE, so not on a `quiet` console.
  auto log = g.channel().run(unknown_parameters_log_argv(), 30, options_.agent_grace);
  if (!log) return g.lost(log.error(), "boot", "reading the kernel log", t);
  if (log->exit_code != 0 || log->timed_out) {
    std::string on = g.host().empty() ? "" : " on " + g.host();
    std::string why = tail_lines(log->output, 1, "no output");
    util::log_warn("{}: cannot read the kernel log{} ({}): unknown boot parameters go unnoticed", options_.log_name,
                   on, why);
    t.log += fmt::format("== cannot read the kernel log{} ({}): unknown boot parameters go unnoticed ==\n", on, why);
  }
  unknown_params_ = unknown_cmdline_words(console.empty() ? log->output : console + "\n" + log->output);
  return true;
}

bool GuestSession::boot_parameters_taken(const TrialRequest& request, const std::string& proc_cmdline,
                                         TrialRecord& t, const std::string& prefix) const {
  std::string why = boot_parameters_not_taken(request.boot.cmdline, proc_cmdline, unknown_params_);
  return why.empty() || t.fail("boot", prefix + why);
}

util::Result<bool> GuestSession::apply(GuestLink& g, const TrialRequest& request, TrialRecord& t) {
  auto t0 = Clock::now();
  request.stage(request.read_current ? "reading knobs" : "applying");
  auto r = request.read_current ? read_knobs(g, request, t) : write_knobs(g, request, t);
  t.out.timings["apply"] = since(t0);
  return r;
}

util::Result<bool> GuestSession::write_knobs(GuestLink& g, const TrialRequest& request, TrialRecord& t) {
  auto knobs = knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return t.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    // The first write of a file in this boot also returns its boot value (the baseline).
    bool first = !baseline_.contains(k.path);
    auto w = g.channel().write(k.path, k.value, options_.command_timeout, first);
    if (!w) return g.lost(w.error(), "apply", fmt::format("writing {} '{}'", k.kind, k.name), t);
    if (first && (w->rc == 0 || w->rc == 4 || w->rc == 1)) baseline_[k.path] = w->old;
    if (record_knob_write(k, *w, t.out)) {
      t.touched.push_back(k.path);
      continue;
    }
    if (w->rc == 2)
      return t.fail("apply", fmt::format("{} '{}' does not exist {} ({} is missing)", k.kind, k.name,
                                         g.host().empty() ? "in this kernel" : "on " + g.host(), k.path));
    return t.fail("apply", fmt::format("{} refused {} '{}': {}",
                                       g.host().empty() ? "the guest agent" : "the agent on " + g.host(), k.kind,
                                       k.name, w->message));
  }
  return true;
}

// `baseline: target`: the knobs' values in this boot, written by nobody.
util::Result<bool> GuestSession::read_knobs(GuestLink& g, const TrialRequest& request, TrialRecord& t) {
  auto knobs = knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return t.fail("apply", knobs.error());
  for (const auto& k : *knobs) {
    auto r = g.channel().read(k.path, options_.command_timeout);
    if (!r) return g.lost(r.error(), "apply", fmt::format("reading {} '{}'", k.kind, k.name), t);
    if (r->rc != 0)
      return t.fail("apply", fmt::format("cannot read {} '{}'{} ({}): {}", k.kind, k.name,
                                         g.host().empty() ? "" : " on " + g.host(), k.path, util::trim(r->payload)));
    t.out.effective[k.name] = normalize_knob_value(r->payload, is_sysfs(k.path));
  }
  return true;
}

util::Result<bool> GuestSession::run_workload(GuestLink& g, GuestLink& runner, const std::vector<std::string>& prefix,
                                              const TrialRequest& request, TrialRecord& t) {
  const workloads::Workload& w = *request.workload;
  int repeats = request.repeats > 0 ? request.repeats : w.repeats;
  int warmup = request.warmup >= 0 ? request.warmup : w.warmup;
  int timeout_s = std::max(1, static_cast<int>(std::ceil(static_cast<double>(w.timeout.count()) / 1000.0)));
  std::string wname = workload_name(w);

  auto t_setup = Clock::now();
  if (!setup_done_.contains(wname + "\n" + w.file)) {
    if (!w.setup.empty()) request.stage("setup");
    for (const auto& argv : w.setup) {
      auto r = g.channel().run(argv, timeout_s, options_.agent_grace);
      std::string doing = fmt::format("running setup `{}` of workload '{}'", join_argv(argv), wname);
      if (!r) return g.lost(r.error(), "workload", doing, t);
      t.log += fmt::format("== setup `{}`: exit {} ==\n{}\n", join_argv(argv), r->exit_code, r->output);
      if (r->timed_out || r->exit_code != 0) {
        g.workload_failed(t);
        if (r->timed_out)
          return t.fail("timeout", fmt::format("setup `{}` of workload '{}' did not finish within {} s (killed)",
                                               join_argv(argv), wname, timeout_s));
        return t.fail("workload", fmt::format("setup `{}` of workload '{}' {}: {}", join_argv(argv), wname,
                                              exit_description(r->exit_code), tail_lines(r->output, 3, "(no output)")));
      }
    }
    setup_done_.insert(wname + "\n" + w.file);
  }
  t.out.timings["setup"] = since(t_setup);

  auto t_work = Clock::now();
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), w.command.begin(), w.command.end());
  std::string on = runner.host().empty() ? "" : " on " + runner.host();
  PooledMetrics pooled;
  for (int i = 0; i < warmup + repeats; ++i) {
    std::string label = repeat_label(i, warmup, repeats);
    request.stage(label);
    auto r = runner.channel().run(argv, timeout_s, options_.agent_grace);
    if (!r) return runner.lost(r.error(), "workload", fmt::format("running workload '{}' ({})", wname, label), t);
    t.log += fmt::format("== {} `{}`{}: exit {}, {:.2f} s ==\n{}\n", label, join_argv(argv), on, r->exit_code,
                         r->seconds, r->output);
    if (auto failed = run_failure(wname, label, timeout_s, r->timed_out, r->exit_code, r->output)) {
      runner.workload_failed(t);
      return t.fail(failed->first, failed->second);
    }
    if (i < warmup) continue;
    auto metrics = workloads::extract_metrics(w, r->output);
    if (!metrics) return t.fail("parse", fmt::format("workload '{}' ({}): {}", wname, label, metrics.error().message));
    record_samples(*metrics, r->metrics, t.out);
    pooled.add(w, r->output);
    if (i + 1 < warmup + repeats) {
      if (std::string why = request.should_stop(t.out.samples); !why.empty()) {
        t.log += fmt::format("== stopped early after {} of {} repeats ==\n", i - warmup + 1, repeats);
        t.out.stopped_early = std::move(why);
        break;
      }
    }
  }
  record_units(w, t.out);
  pooled.record(w, t.out);
  t.out.timings["workload"] = since(t_work);
  return true;
}

util::Result<bool> GuestSession::run_stages(GuestLink& g, const TrialRequest& request, TrialRecord& t) {
  KT_TRY(bool going, apply(g, request, t));
  if (going && request.workload) return run_workload(g, g, {}, request, t);
  return going;
}

util::Result<bool> GuestSession::restore(GuestLink& g, TrialRecord& t) {
  std::vector<std::string> order;
  for (auto it = t.touched.rbegin(); it != t.touched.rend(); ++it)
    if (std::find(order.begin(), order.end(), *it) == order.end()) order.push_back(*it);
  t.touched.clear();
  for (const auto& path : order) {
    const auto& base = baseline_[path];
    if (!base) continue;  // unreadable at boot: nothing to restore to
    std::string want = normalize_knob_value(*base, is_sysfs(path));
    auto w = g.channel().write(path, want, options_.command_timeout, false);
    if (!w) {
      if (w.error().kind == ChannelError::Kind::interrupted) return interrupted();
      g.restore_lost(path, w.error(), t);
      return false;
    }
    std::string got = normalize_knob_value(w->readback, is_sysfs(path));
    if ((w->rc != 0 || got != want) && !g.restore_mismatch(path, got, want, t)) return false;
  }
  return true;
}

}  // namespace kerntune::targets::guest
