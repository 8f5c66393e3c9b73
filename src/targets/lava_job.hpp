#pragma once
// The data side of the lava target (docs/lava-target.md): the LAVA job
// definition, the trial plan the guest runs, and reading a finished job (its
// log and results) back into a TrialOutcome. Pure functions: no processes, no
// network; lava_target.cpp runs the jobs.
//
// A LAVA trial boots the kernel with an initramfs whose /init runs the
// kerntune guest agent (guest_agent.hpp) on a plan file instead of a live
// console: the plan holds the trial's commands in the agent's own wire format
// (every value base64-encoded, so no value is ever shell code). The agent's
// framed replies travel in the console log LAVA keeps; each measured repeat
// also prints `KTLAVA <metric>.r<N> pass <value> <unit>` lines for the
// workload's KERNTUNE_METRIC output, which a `monitors` test turns into LAVA
// results with measurements.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::targets::lava {

inline constexpr std::string_view kStartMarker = "@@KTLAVA:START";
inline constexpr std::string_view kEndMarker = "@@KTLAVA:DONE";
/// The monitors test's pattern (Python regex, LAVA's named groups).
inline constexpr std::string_view kResultPattern =
    R"(KTLAVA (?P<test_case_id>\S+) (?P<result>pass|fail) (?P<measurement>[-+0-9.eE]+) (?P<units>\S+))";
/// The monitors test's name (LAVA's test suite / result definition).
inline constexpr std::string_view kSuiteName = "kerntune";

/// Everything the job definition says. Every string is data: the job is
/// written with yaml-cpp's emitter, so quotes, newlines or `$()` in a value
/// stay inside that value.
struct JobSpec {
  std::string job_name;
  std::string device_type = "qemu";
  std::string kernel_url;   ///< file:///… or http(s)://…
  std::string ramdisk_url;
  std::string cmdline;      ///< the full kernel command line
  std::chrono::seconds boot_timeout{120};
  std::chrono::seconds test_timeout{600};  ///< the monitors test (the whole plan)
  std::chrono::seconds job_timeout{900};
  std::string priority = "medium";
  std::string visibility = "public";
  std::vector<std::string> tags;
  std::map<std::string, std::string> context;  ///< extra job context (e.g. memory)
};

/// The job definition as YAML text.
std::string job_yaml(const JobSpec& spec);

/// The QEMU argument LAVA gets for the kernel: `-kernel {kernel} -append '…'`.
/// LAVA splits image_arg with Python's shlex: the command line is one
/// single-quoted word (a ' inside becomes '"'"').
std::string kernel_image_arg(const std::string& cmdline);

/// One command of the plan and what it stands for.
struct PlanStep {
  enum class Kind { write, setup, warmup, measure };
  int id = 0;
  Kind kind = Kind::write;
  guest::KnobWrite knob;              ///< for write
  std::vector<std::string> argv;      ///< for setup/warmup/measure (as the workload gives it)
  int repeat = 0;                     ///< measure: 1-based repeat number
  int timeout_s = 0;                  ///< run steps: the guest-side timeout
};

struct Plan {
  std::string text;                   ///< the plan file (agent command lines)
  std::vector<PlanStep> steps;
  std::string workload_name;
  int repeats = 0;
  int warmup = 0;
  std::chrono::seconds guest_seconds{0};  ///< the sum of every step's timeout
};

/// The trial's plan: knob writes (sysctls, then sysfs), the workload's setup,
/// warm-up and measured repeats. Error (stage `configure`/`apply` for the
/// caller) for an invalid knob name or a command too long for the agent.
util::Result<Plan> make_plan(const TrialRequest& request);

/// /init of the LAVA initramfs: prints the start marker, then runs the agent
/// (/etc/kerntune/agent) with /etc/kerntune/plan as its input; the agent
/// powers the guest off at the end of the plan.
std::string init_script();
/// /etc/kerntune/measure LABEL ARGV…: runs ARGV, prints its output (for the
/// agent's reply) and writes KTLAVA lines for its KERNTUNE_METRIC lines, and
/// its exit status, to /dev/console.
std::string measure_script();

/// One LAVA result (a test case).
struct LavaResult {
  std::string suite;   ///< definition / suite name
  std::string name;    ///< case name as LAVA stores it (lower case, \W+ → _)
  std::string result;  ///< pass | fail | skip | unknown
  std::optional<double> measurement;
  std::string units;
};

/// What a job log says: the console (the "target" lines, in order), the
/// results it logged, and the job's error, if any.
struct JobLog {
  std::string console;
  std::vector<LavaResult> results;
  std::string error_type;  ///< e.g. "Infrastructure", "Job", "Test" (empty: none)
  std::string error_msg;
  bool finished_ok = false;  ///< the "job" result is pass
};

/// Parses a LAVA log: one YAML mapping per line ({dt, lvl, msg}), as lava-run
/// prints it and as the server's /logs/ endpoint returns it ("- " prefix).
/// Lines that do not parse are skipped.
JobLog parse_job_log(std::string_view text);

/// Parses the server's /api/v0.2/jobs/ID/tests/ page ("results" array, or a bare array).
util::Result<std::vector<LavaResult>> parse_results_json(std::string_view text);

/// LAVA's test case name for a KTLAVA id: lower case, runs of \W → "_".
std::string case_name(std::string_view test_case_id);

/// The trial's outcome from a finished job: replays the plan against the
/// agent's replies in the console log (same rules as the qemu target), takes
/// KERNTUNE_METRIC measurements from LAVA's results (other metrics from the
/// replies' output), and classifies failures: no agent start (a panic, or
/// LAVA gave up before /init) is `boot`; a missing reply while a knob was
/// written is `apply`, while the workload ran `workload` (or `timeout` when
/// LAVA timed the job out or the agent killed it at its timeout); a metric
/// missing is `parse`. `job_failure` describes a job LAVA did not complete.
TrialOutcome assemble_outcome(const Plan& plan, const TrialRequest& request, const JobLog& log,
                              const std::vector<LavaResult>& results, const std::string& job_failure);

}  // namespace kerntune::targets::lava
