#pragma once
// A command channel to a kerntune guest agent over a console stream: the stdin
// and stdout of a child process (QEMU with `-serial stdio`, or in tests the
// agent script itself run by a host busybox). Every call is bounded by a
// timeout; a kernel panic seen on the console or the end of the stream ends
// the call at once with a typed error.
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kerntune/targets/guest_protocol.hpp"
#include "kerntune/targets/target.hpp"
#include "kerntune/util/subprocess.hpp"

namespace kerntune::targets::guest {

struct ChannelError {
  enum class Kind {
    timeout,      ///< the agent did not answer in time (it may hang: kill the VM)
    panic,        ///< "Kernel panic - not syncing" on the console
    exited,       ///< the console stream ended (QEMU exited)
    protocol,     ///< a reply could not be decoded, or a command is too long
    interrupted,  ///< SIGINT/SIGTERM asked kerntune to stop
  };
  Kind kind = Kind::timeout;
  std::string message;
};
template <class T>
using ChannelResult = std::expected<T, ChannelError>;

/// One figure the agent measured around a run, as a `sys.*` metric.
struct AgentMetric {
  std::string name;
  double value = 0;
  std::string unit;
};

/// The `sys.*` metrics of one `run` reply: the guest-wide ones (MemAvailable
/// minimum, slab, page cache, faults, context switches, elapsed time) and,
/// when the agent ran the workload in its cgroup, what the workload held and
/// cost (docs/objectives.md): memory.current mean and sampled peak, the zswap
/// and swap it owns, swap-device and zswap page I/O, CPU time.
std::vector<AgentMetric> agent_metrics(const Reply& reply);

/// What the agent reports for one `run` (fields of the END line, parsed).
struct RunReply {
  int exit_code = -1;      ///< the workload's status as the guest shell saw it (128+N: signal N)
  bool timed_out = false;  ///< killed by the agent at its timeout
  double seconds = 0;      ///< guest wall time of the run (uptime, 10 ms steps)
  std::string output;      ///< stdout+stderr (the last 4 MiB)
  long long mem_available_min_kb = 0;
  long long slab_kb = 0;
  long long cached_kb = 0;
  long long pgfault = 0;
  long long pgmajfault = 0;
  long long ctxt = 0;
  std::vector<AgentMetric> metrics;  ///< agent_metrics() of the reply
};

/// Outcome of a write: rc 0 = written (readback holds the file's content
/// afterwards), 1 = the kernel refused the value (message holds why),
/// 2 = no such file, 3 = path refused by the agent, 4 = written but unreadable.
struct WriteReply {
  int rc = 0;
  /// RC 0/4: the file read back after the write. RC 1 (refused): its content,
  /// the value that stayed in force (empty when unreadable).
  std::string readback;
  std::string message;
  /// With keep_old: the file's content before the write (nullopt: unreadable
  /// or not asked for).
  std::optional<std::string> old;
};

/// The last `n` non-empty lines of `text` (trimmed), joined with " | ", for a
/// failure reason a person can act on; `empty` when there are none.
std::string tail_lines(const std::string& text, std::size_t n, std::string_view empty = "(empty)");

/// "vm.swappiness" → "/proc/sys/vm/swappiness" (sysctl(8): '/' in a name stands
/// for '.'); nullopt for names with other characters or empty components.
std::optional<std::string> sysctl_path(const std::string& name);
/// "kernel/mm/transparent_hugepage/enabled" or "/sys/kernel/…" → "/sys/kernel/…";
/// nullopt for "..", empty components or control characters.
std::optional<std::string> sysfs_path(std::string rel);
/// One knob a trial writes: its name as the recipe gives it, its guest path,
/// the value, and "sysctl" or "sysfs knob" for messages.
struct KnobWrite {
  std::string name, path, value, kind;
};
/// The trial's sysctls then its sysfs knobs with their guest paths, in order;
/// the error names the first invalid name or path.
std::expected<std::vector<KnobWrite>, std::string> knob_writes(
    const std::vector<std::pair<std::string, std::string>>& sysctls,
    const std::vector<std::pair<std::string, std::string>>& sysfs);
/// Records the kernel's answer to a knob write in `out`: RC 0 the value read
/// back, RC 4 (write-only) the value as written, RC 1 (refused) the refusal
/// and the value that stayed in force — the trial goes on with it. False for
/// any other RC: the caller fails the trial in its own words.
bool record_knob_write(const KnobWrite& k, const WriteReply& w, TrialOutcome& out);
/// "failed with exit code 3" / "was killed by signal 9 (Killed)" for a shell status.
std::string exit_description(int rc);

/// The agent's three calls as the trial stages use them (guest_session.hpp).
/// GuestChannel speaks them over a console stream; tests put an in-process
/// fake behind the same interface.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  /// With `keep_old`, the reply also carries the content before the write.
  virtual ChannelResult<WriteReply> write(const std::string& path, const std::string& value,
                                          std::chrono::milliseconds timeout, bool keep_old) = 0;
  /// Reads a file: rc 0 with its content, else rc != 0 with the error text.
  virtual ChannelResult<Reply> read(const std::string& path, std::chrono::milliseconds timeout) = 0;
  /// Runs argv in the guest, killed there after `guest_timeout_s`; the host
  /// waits `guest_timeout_s + grace` before giving up on the agent.
  virtual ChannelResult<RunReply> run(const std::vector<std::string>& argv, int guest_timeout_s,
                                      std::chrono::milliseconds grace) = 0;
};

class GuestChannel final : public AgentChannel {
 public:
  /// Takes ownership of the child; destroying the channel kills its process group.
  explicit GuestChannel(util::Child child) : child_(std::move(child)) {}

  /// Waits for the agent's READY line.
  ChannelResult<void> wait_ready(std::chrono::milliseconds timeout);
  /// Sends one command and waits for its reply.
  ChannelResult<Reply> call(std::string_view verb, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout);

  ChannelResult<WriteReply> write(const std::string& path, const std::string& value,
                                  std::chrono::milliseconds timeout, bool keep_old) override;
  ChannelResult<WriteReply> write(const std::string& path, const std::string& value,
                                  std::chrono::milliseconds timeout) {
    return write(path, value, timeout, false);
  }
  ChannelResult<Reply> read(const std::string& path, std::chrono::milliseconds timeout) override;
  ChannelResult<RunReply> run(const std::vector<std::string>& argv, int guest_timeout_s,
                              std::chrono::milliseconds grace) override;

  /// Asks the agent to power off, waits up to `grace` for the child to end,
  /// then kills its whole process group either way.
  void power_off(std::chrono::milliseconds grace);
  /// Kills the child's process group now and drains what it printed.
  void kill();
  bool alive() { return child_.running(); }

  const ConsoleParser& console() const { return parser_; }
  int pid() const { return child_.pid(); }

 private:
  /// Reads what arrives within `wait` into the parser; error on panic/EOF/stop.
  ChannelResult<void> pump(std::chrono::milliseconds wait);
  /// After a panic or EOF: keep reading briefly so the log holds the whole story.
  void drain(std::chrono::milliseconds wait);

  util::Child child_;
  ConsoleParser parser_;
  int next_id_ = 1;
};

}  // namespace kerntune::targets::guest
