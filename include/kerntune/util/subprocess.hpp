#pragma once
// Running other programs without a shell. Every child runs in its own process
// group so that a timeout or a stop kills the whole tree (QEMU, make -j, a
// workload's children). Arguments are passed as argv: no value ever meets a shell.
#include <chrono>
#include <functional>
#include <string_view>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::util {

struct RunOptions {
  std::vector<std::string> argv;                ///< argv[0] is looked up in PATH
  std::map<std::string, std::string> env;       ///< added to (or replacing in) the environment
  bool inherit_env = true;
  std::string cwd;                              ///< empty: current directory
  std::chrono::milliseconds timeout{0};         ///< 0: no timeout
  std::optional<std::string> stdin_data;        ///< nullopt: stdin is /dev/null
  bool merge_stderr = false;                    ///< stderr into the stdout capture
  std::size_t max_capture = 64u << 20;          ///< bytes kept per stream (rest dropped)
  /// Called with each chunk of stdout as it arrives (may be empty function).
  std::function<void(std::string_view)> on_stdout;
};

struct RunResult {
  int exit_code = -1;      ///< valid when term_signal == 0 and !timed_out
  int term_signal = 0;     ///< signal that ended the child, 0 if it exited
  bool timed_out = false;  ///< killed by us at the timeout
  std::string out;
  std::string err;
  double seconds = 0;      ///< wall time
  /// Processes the program left behind and that were killed after it exited:
  /// members of its process group, or holders of its stdout/stderr in another
  /// session (`setsid cmd &`), as "pid N (comm)". They never turn an exit into
  /// a timeout: output is read for at most 2 s after the program exits.
  std::vector<std::string> leftovers;
  bool ok() const { return !timed_out && term_signal == 0 && exit_code == 0; }
  /// "exit code 3", "killed by signal 9 (Killed)", "timed out after 5.0 s".
  std::string describe() const;
};

/// Runs a program to completion. Error only when it could not be started
/// (missing binary, bad cwd); a non-zero exit is a RunResult, not an Error.
/// At the timeout (or a stop) the process group and every process holding
/// the program's output pipes are killed, and output is read for at most
/// 0.5 s more: a descendant that escaped the group cannot hold the run open.
Result<RunResult> run(const RunOptions& options);

/// A long-lived child with pipes (QEMU, a guest console). Destroying it kills
/// its process group.
class Child {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string cwd;
    bool pipe_stdin = true;
    bool merge_stderr = true;  ///< stderr goes to the stdout pipe
  };
  static Result<Child> spawn(const Options& options);

  Child(Child&&) noexcept;
  Child& operator=(Child&&) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  int pid() const { return pid_; }
  int stdin_fd() const { return in_fd_; }
  int stdout_fd() const { return out_fd_; }
  /// Writes all bytes to the child's stdin.
  Status write_all(std::string_view data);
  /// Reads what is available within `timeout` (empty string on timeout;
  /// nullopt at end of file).
  std::optional<std::string> read_some(std::chrono::milliseconds timeout);
  /// Non-blocking check; fills exit status when the child has ended.
  bool running();
  /// Sends `sig` to the whole process group.
  void kill_group(int sig);
  /// SIGTERM, waits up to `grace`, then SIGKILL; reaps the child.
  void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  /// Waits for exit up to `timeout`; true if it ended.
  bool wait(std::chrono::milliseconds timeout);
  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }

 private:
  Child() = default;
  void close_fds();
  int pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
};

/// Full path of an executable found in PATH, or nullopt.
std::optional<std::string> which(const std::string& name);

}  // namespace kerntune::util
