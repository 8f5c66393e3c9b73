#pragma once
// Internal to the targets module: the guest-agent trial, written once for
// every backend that reaches a kerntune agent (qemu, ssh; lava uses its rules).
//
// A backend's part is "give me a booted guest": it boots (or reuses, when the
// trial's boot key — kernel, initramfs, command line — matches the running
// boot) and hands the session a GuestLink: the agent's channel and what a lost
// channel or a failed restore costs on that backend (qemu kills its VM; ssh
// takes the host out of the pool and recovers it). The session holds what one
// boot knows — the knobs' boot values, the workloads whose setup ran, the boot
// parameters the kernel did not take — and runs the stages over the link:
//
//   apply (write every knob, read back; `baseline: target` reads instead)
//   → workload (setup once per boot, warm-up, measured repeats, regex and
//     `sys.*` metrics) → restore (every knob written, in reverse, verified).
//
// A trial's failure is an outcome in TrialRecord (stage + reason); a stage
// returns false then. Error only when the campaign must stop (interrupted).
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::workloads {
struct Workload;
}

namespace kerntune::targets::guest {

/// One trial as the stages write it: the outcome (ok until a stage fails),
/// the knob files written (restore's list) and a log for the trial's artifact.
struct TrialRecord {
  TrialRecord() { out.ok = true; }
  TrialOutcome out;
  std::vector<std::string> touched;
  std::string log;

  /// Fails the trial at `stage`; returns false for `return t.fail(…)`.
  bool fail(std::string stage, std::string reason);
};

/// A booted guest as a backend hands it to the session.
class GuestLink {
 public:
  virtual ~GuestLink() = default;
  /// The guest agent's channel; valid while the boot runs.
  virtual AgentChannel& channel() = 0;
  /// The machine's name in messages ("on lab-3"); "" for a VM of the target's own.
  virtual std::string host() const { return {}; }
  /// The channel failed while `doing` at `stage`: fail the trial in `t` (and
  /// drop the boot). Error only when the campaign must stop.
  virtual util::Result<bool> lost(const ChannelError& e, const std::string& stage, const std::string& doing,
                                  TrialRecord& t) = 0;
  /// A setup command or the workload failed or timed out: the guest's state
  /// is unknown (qemu kills the VM so the next trial boots afresh).
  virtual void workload_failed(TrialRecord&) {}
  /// Restoring `path` failed on the channel (not an interrupt); restore stops.
  virtual void restore_lost(const std::string& path, const ChannelError& e, TrialRecord& t) = 0;
  /// `path` reads `got` after restoring `want`; true: restore goes on with the
  /// other knobs.
  virtual bool restore_mismatch(const std::string& path, const std::string& got, const std::string& want,
                                TrialRecord& t) = 0;
};

struct SessionOptions {
  std::chrono::milliseconds command_timeout{30000};  ///< one knob write or read
  std::chrono::milliseconds agent_grace{30000};      ///< past a run's own timeout
  std::string log_name = "guest";                    ///< prefix of log lines ("qemu", "ssh")
};

/// The per-boot state and the trial stages. One session lives as long as one
/// boot: reset() when the backend boots again.
class GuestSession {
 public:
  explicit GuestSession(SessionOptions options = {}) : options_(std::move(options)) {}

  /// The boot key of the running boot ("" before the first).
  const std::string& key() const { return key_; }
  /// True when a trial whose boot key is `key` can reuse this boot.
  bool serves(const std::string& key) const { return key_ == key; }
  /// A new boot (or the backend no longer knows what runs): forgets the
  /// knobs' boot values, the setups run and the unknown boot parameters.
  void reset(std::string key);
  /// The backend loaded the snapshot it took right after this boot, before
  /// any trial: the guest is as it booted (knobs at their boot values, no
  /// setup run yet); the boot's unknown parameters stay what they were.
  void snapshot_loaded() { setup_done_.clear(); }
  /// Names the running boot once the backend has verified it.
  void set_key(std::string key) { key_ = std::move(key); }

  /// After a fresh boot: reads the guest's kernel log for command-line words
  /// the kernel did not know (`console`: what the console showed, if any).
  util::Result<bool> read_unknown_parameters(GuestLink& g, TrialRecord& t, const std::string& console = {});
  /// False (the trial fails at boot) when the kernel did not take a boot
  /// parameter the trial set, on this boot or any reuse of it (boot_check.hpp).
  bool boot_parameters_taken(const TrialRequest& request, const std::string& proc_cmdline, TrialRecord& t,
                             const std::string& prefix = {}) const;

  /// Applies the trial's knobs (or, with read_current, reads them) and times it.
  util::Result<bool> apply(GuestLink& g, const TrialRequest& request, TrialRecord& t);
  /// Setup (once per boot, on `g`), warm-up and measured repeats on `runner`
  /// (usually `g`; ssh's workload_on: loadgen runs them elsewhere), each argv
  /// after `prefix`.
  util::Result<bool> run_workload(GuestLink& g, GuestLink& runner, const std::vector<std::string>& prefix,
                                  const TrialRequest& request, TrialRecord& t);
  /// apply, then the workload if the request has one.
  util::Result<bool> run_stages(GuestLink& g, const TrialRequest& request, TrialRecord& t);
  /// Writes every knob this trial touched back to its boot value, newest
  /// first, and verifies it. False when one could not be restored.
  util::Result<bool> restore(GuestLink& g, TrialRecord& t);

  const SessionOptions& options() const { return options_; }

 private:
  util::Result<bool> write_knobs(GuestLink& g, const TrialRequest& request, TrialRecord& t);
  util::Result<bool> read_knobs(GuestLink& g, const TrialRequest& request, TrialRecord& t);

  SessionOptions options_;
  std::string key_;
  /// Knob file → its content at boot (nullopt: unreadable, never restored).
  std::map<std::string, std::optional<std::string>> baseline_;
  std::set<std::string> setup_done_;  ///< workloads whose setup ran in this boot
  std::vector<std::string> unknown_params_;
};

// The rules of a workload run, shared with lava (which reads the same agent
// replies back from a job log).

/// "repeat 2/5" / "warm-up 1/2".
std::string repeat_label(int i, int warmup, int repeats);
/// The trial's failure for a run that timed out or exited non-zero (stage,
/// reason); nullopt for a run that succeeded.
std::optional<std::pair<std::string, std::string>> run_failure(const std::string& workload, const std::string& label,
                                                               int timeout_s, bool timed_out, int exit_code,
                                                               const std::string& output);
/// One measured repeat's samples: `metrics` (the workload's own) then the
/// agent's `sys.*` figures with their units.
void record_samples(const std::map<std::string, double>& metrics, const std::vector<AgentMetric>& agent,
                    TrialOutcome& out);
/// The units the workload declares for its metrics.
void record_units(const workloads::Workload& w, TrialOutcome& out);
/// The measured repeats' distributions of the workload's distribution metrics
/// (metric → one per repeat), pooled into TrialOutcome::pooled at the end.
class PooledMetrics {
 public:
  /// Reads one measured repeat's output (extract_metrics has accepted it).
  void add(const workloads::Workload& w, std::string_view output);
  /// Each distribution metric's percentile over all repeats added.
  void record(const workloads::Workload& w, TrialOutcome& out) const;

 private:
  std::map<std::string, std::vector<workloads::Distribution>> parts_;
};
/// The workload's name in messages (its file when it has none).
std::string workload_name(const workloads::Workload& w);
/// " " -joined argv, for logs and messages.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace kerntune::targets::guest
