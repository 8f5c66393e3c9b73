#include "kerntune/util/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "kerntune/util/stop.hpp"

extern char** environ;

namespace kerntune::util {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> build_env(const std::map<std::string, std::string>& extra, bool inherit) {
  std::map<std::string, std::string> env;
  if (inherit) {
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void set_cloexec(int fd) { fcntl(fd, F_SETFD, FD_CLOEXEC); }

struct Spawned {
  int pid = -1;
  int in = -1, out = -1, err = -1;
};

// fork + exec with the child in a new process group. Exec failure is reported
// through a close-on-exec pipe so that the parent can return an Error.
Result<Spawned> spawn_raw(const std::vector<std::string>& argv_in,
                          const std::map<std::string, std::string>& env_add, bool inherit_env,
                          const std::string& cwd, bool want_stdin, bool want_err_pipe,
                          bool merge_stderr) {
  if (argv_in.empty()) return fail("empty argv", Error::Kind::internal);
  std::string exe = argv_in[0];
  if (exe.find('/') == std::string::npos) {
    auto found = which(exe);
    if (!found) return fail(fmt::format("program '{}' not found in PATH", exe), Error::Kind::io);
    exe = *found;
  } else if (access(exe.c_str(), X_OK) != 0) {
    return fail(fmt::format("program '{}' is not executable: {}", exe, std::strerror(errno)),
                Error::Kind::io);
  }
  if (!cwd.empty() && !std::filesystem::is_directory(cwd))
    return fail(fmt::format("working directory '{}' does not exist", cwd), Error::Kind::io);

  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, pexec[2] = {-1, -1};
  if (want_stdin && pipe(pin) != 0) return io_error("pipe failed");
  if (pipe(pout) != 0) return io_error("pipe failed");
  if (want_err_pipe && !merge_stderr && pipe(perr) != 0) return io_error("pipe failed");
  if (pipe(pexec) != 0) return io_error("pipe failed");
  set_cloexec(pexec[1]);

  std::vector<std::string> argv_copy = argv_in;
  std::vector<std::string> env_copy = build_env(env_add, inherit_env);
  auto argv = c_array(argv_copy);
  auto envp = c_array(env_copy);

  pid_t pid = fork();
  if (pid < 0) return io_error(fmt::format("fork failed: {}", std::strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    // If kerntune dies (even by SIGKILL), its direct children (QEMU, make,
    // the black box) die with it instead of running on as orphans.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Default signal dispositions and an empty mask for the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (want_stdin) {
      dup2(pin[0], 0);
    } else {
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
    }
    dup2(pout[1], 1);
    if (merge_stderr) {
      dup2(pout[1], 2);
    } else if (want_err_pipe) {
      dup2(perr[1], 2);
    }
    // Close every other descriptor the parent had open.
    long maxfd = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (maxfd > 0 ? maxfd : 1024); ++fd)
      if (fd != pexec[1]) close(fd);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(pexec[1], &e, sizeof e);
      _exit(127);
    }
    execve(exe.c_str(), argv.data(), envp.data());
    int e = errno;
    (void)!write(pexec[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, to close the race
  close(pexec[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(pexec[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(pexec[0]);
  if (want_stdin) close(pin[0]);
  close(pout[1]);
  if (perr[1] >= 0) close(perr[1]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    waitpid(pid, nullptr, 0);
    if (want_stdin) close(pin[1]);
    close(pout[0]);
    if (perr[0] >= 0) close(perr[0]);
    return fail(fmt::format("cannot run '{}': {}", argv_in[0], std::strerror(child_errno)),
                Error::Kind::io);
  }
  Spawned s;
  s.pid = pid;
  s.in = want_stdin ? pin[1] : -1;
  s.out = pout[0];
  s.err = perr[0];
  for (int fd : {s.in, s.out, s.err})
    if (fd >= 0) set_cloexec(fd);
  return s;
}

void decode_status(int status, int& exit_code, int& term_signal) {
  if (WIFEXITED(status)) {
    exit_code = WEXITSTATUS(status);
    term_signal = 0;
  } else if (WIFSIGNALED(status)) {
    exit_code = -1;
    term_signal = WTERMSIG(status);
  }
}

}  // namespace

std::string RunResult::describe() const {
  if (timed_out) return fmt::format("timed out after {:.1f} s", seconds);
  if (term_signal != 0) return fmt::format("killed by signal {} ({})", term_signal, strsignal(term_signal));
  return fmt::format("exit code {}", exit_code);
}

std::optional<std::string> which(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string full = dir + "/" + name;
    struct stat st{};
    if (stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(full.c_str(), X_OK) == 0)
      return full;
    start = end + 1;
  }
  return std::nullopt;
}

namespace {

/// How long output may stay open after the program exited (its children
/// writing their last lines) before what still holds it is killed, and how
/// long to wait for end-of-file after a kill.
constexpr auto kDrainAfterExit = std::chrono::seconds(2);
constexpr auto kDrainAfterKill = std::chrono::milliseconds(500);

/// A descendant left behind: in the program's process group, or holding one
/// of its output pipes from another session (setsid).
struct Leftover {
  pid_t pid;
  std::string comm;
};

ino_t pipe_inode(int fd) {
  struct stat st{};
  return fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
}

bool holds_pipe(pid_t pid, const std::vector<ino_t>& pipes) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    char target[64];
    ssize_t n = readlink(it->path().c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string_view link(target, static_cast<std::size_t>(n));
    for (ino_t ino : pipes)
      if (ino != 0 && link == fmt::format("pipe:[{}]", ino)) return true;
  }
  return false;
}

/// Every process (but `leader` and kerntune itself) in process group `pgid`
/// or holding one of `pipes`, from /proc.
std::vector<Leftover> find_leftovers(pid_t pgid, pid_t leader, const std::vector<ino_t>& pipes) {
  std::vector<Leftover> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == leader || pid == getpid()) continue;
    std::string stat;
    if (FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "r")) {
      char buf[512];
      stat.assign(buf, std::fread(buf, 1, sizeof buf - 1, f));
      std::fclose(f);
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    long pgrp = 0;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3 || state == 'Z') continue;
    if (pgrp == pgid || (!pipes.empty() && holds_pipe(pid, pipes))) out.push_back({pid, stat.substr(open + 1, close - open - 1)});
  }
  return out;
}

/// True once `pid` has ended, without reaping it: while it is a zombie its
/// pid (and so its process group id) cannot be reused, so the group can
/// still be killed safely.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

Result<RunResult> run(const RunOptions& o) {
  auto t0 = Clock::now();
  bool want_stdin = o.stdin_data.has_value();
  KT_TRY(Spawned s, spawn_raw(o.argv, o.env, o.inherit_env, o.cwd, want_stdin, true, o.merge_stderr));
  RunResult r;
  std::string_view pending_in = want_stdin ? std::string_view(*o.stdin_data) : std::string_view();
  if (want_stdin) {
    fcntl(s.in, F_SETFL, O_NONBLOCK);
    if (pending_in.empty()) {
      close(s.in);
      s.in = -1;
    }
  }
  const std::vector<ino_t> pipes = {pipe_inode(s.out), pipe_inode(s.err)};
  bool out_open = true, err_open = s.err >= 0;
  constexpr auto never = Clock::time_point::max();
  auto deadline = o.timeout.count() > 0 ? t0 + o.timeout : never;
  auto drain_until = never;  // set when the program exited or was killed
  bool killed_for_timeout = false, killed_for_stop = false, exited = false, leftovers_killed = false;
  // Kills the group and every pipe holder (once), and bounds the wait for EOF.
  // While the program runs, its group is killed first, in one kill(2): a
  // shell in it must not see its child die and run its next command while
  // /proc is scanned for the rest. Once it has exited, the scan comes first so
  // that what it left behind is reported before it dies and is reaped.
  auto kill_leftovers = [&](int sig) {
    if (!exited) kill(-s.pid, sig);
    const auto found = find_leftovers(s.pid, s.pid, pipes);
    if (exited) kill(-s.pid, sig);
    for (const auto& l : found) {
      kill(l.pid, sig);
      if (exited) r.leftovers.push_back(fmt::format("pid {} ({})", l.pid, l.comm));
    }
  };
  char buf[65536];
  while (out_open || err_open) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({s.out, POLLIN, 0});
    if (err_open) fds.push_back({s.err, POLLIN, 0});
    if (s.in >= 0) fds.push_back({s.in, POLLOUT, 0});
    // Sleep until the next event (at most 200 ms, at least 1 ms: never a busy loop).
    auto next = std::min(deadline, drain_until);
    long long wait_ms = 200;
    if (next != never)
      wait_ms = std::clamp<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count(), 1, 200);
    int rc = poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (rc < 0 && errno != EINTR) break;
    for (auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == s.in) {
        ssize_t w = write(s.in, pending_in.data(), pending_in.size());
        if (w > 0) pending_in.remove_prefix(static_cast<std::size_t>(w));
        if (w < 0 && errno != EAGAIN && errno != EINTR) pending_in = {};
        if (pending_in.empty()) {
          close(s.in);
          s.in = -1;
        }
        continue;
      }
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (p.fd == s.out) out_open = false; else err_open = false;
        continue;
      }
      std::string& sink = (p.fd == s.out) ? r.out : r.err;
      if (p.fd == s.out && o.on_stdout) o.on_stdout(std::string_view(buf, static_cast<std::size_t>(n)));
      if (sink.size() < o.max_capture)
        sink.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), o.max_capture - sink.size()));
    }
    const auto now = Clock::now();
    if (!exited && has_exited(s.pid)) {
      // The program is done; what still holds its output is a leftover.
      exited = true;
      drain_until = std::min(drain_until, now + kDrainAfterExit);
    }
    if (!killed_for_timeout && !exited && now >= deadline) {
      killed_for_timeout = true;
      kill_leftovers(SIGKILL);
      drain_until = now + kDrainAfterKill;
    }
    if (!killed_for_stop && stop_requested()) {
      killed_for_stop = true;
      kill_leftovers(SIGTERM);
      deadline = std::min(deadline, now + std::chrono::seconds(3));
    }
    if (now >= drain_until) {
      if (leftovers_killed || killed_for_timeout) break;  // output still open after a kill: stop waiting for it
      leftovers_killed = true;
      kill_leftovers(SIGKILL);
      drain_until = now + kDrainAfterKill;
    }
  }
  if (s.in >= 0) close(s.in);
  close(s.out);
  if (s.err >= 0) close(s.err);
  // Output closed: the program has exited or closed its streams; leftovers
  // of its group die with it (the unreaped program keeps the group id safe).
  int status = 0;
  while (true) {
    if (has_exited(s.pid)) {
      if (!r.leftovers.empty() || killed_for_timeout) kill(-s.pid, SIGKILL);
      else if (auto rest = find_leftovers(s.pid, s.pid, {}); !rest.empty()) {
        exited = true;
        kill_leftovers(SIGKILL);
      }
    }
    pid_t w = waitpid(s.pid, &status, WNOHANG);
    if (w == s.pid) break;
    if (w < 0 && errno != EINTR) break;
    if (Clock::now() >= deadline && !killed_for_timeout) {
      killed_for_timeout = true;
      kill_leftovers(SIGKILL);
    }
    usleep(2000);
  }
  decode_status(status, r.exit_code, r.term_signal);
  r.timed_out = killed_for_timeout && !killed_for_stop;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (killed_for_stop) return fail("interrupted", Error::Kind::interrupted);
  return r;
}

// ---- Child ----------------------------------------------------------------

Result<Child> Child::spawn(const Options& o) {
  KT_TRY(Spawned s, spawn_raw(o.argv, o.env, true, o.cwd, o.pipe_stdin, false, o.merge_stderr));
  Child c;
  c.pid_ = s.pid;
  c.in_fd_ = s.in;
  c.out_fd_ = s.out;
  return c;
}

Child::Child(Child&& other) noexcept { *this = std::move(other); }
Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !reaped_) terminate(std::chrono::milliseconds(0));
    close_fds();
    pid_ = std::exchange(other.pid_, -1);
    in_fd_ = std::exchange(other.in_fd_, -1);
    out_fd_ = std::exchange(other.out_fd_, -1);
    reaped_ = other.reaped_;
    exit_code_ = other.exit_code_;
    term_signal_ = other.term_signal_;
  }
  return *this;
}
Child::~Child() {
  if (pid_ > 0 && !reaped_) terminate(std::chrono::milliseconds(0));
  close_fds();
}
void Child::close_fds() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  in_fd_ = out_fd_ = -1;
}

Status Child::write_all(std::string_view data) {
  if (in_fd_ < 0) return io_error("child stdin is closed");
  while (!data.empty()) {
    ssize_t w = write(in_fd_, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error(fmt::format("write to child failed: {}", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return {};
}

std::optional<std::string> Child::read_some(std::chrono::milliseconds timeout) {
  if (out_fd_ < 0) return std::nullopt;
  pollfd p{out_fd_, POLLIN, 0};
  int rc = poll(&p, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return std::string();
  char buf[65536];
  ssize_t n = read(out_fd_, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? std::optional<std::string>(std::string()) : std::nullopt;
  if (n == 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

bool Child::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t w = waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    reaped_ = true;
    decode_status(status, exit_code_, term_signal_);
    return false;
  }
  return true;
}

void Child::kill_group(int sig) {
  if (pid_ > 0) kill(-pid_, sig);
}

bool Child::wait(std::chrono::milliseconds timeout) {
  auto end = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= end) return false;
    usleep(5000);
  }
  return true;
}

void Child::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (!reaped_) {
    kill_group(SIGTERM);
    if (!wait(grace)) {
      kill_group(SIGKILL);
      wait(std::chrono::milliseconds(5000));
    }
  }
  kill_group(SIGKILL);  // leftovers in the group
}

}  // namespace kerntune::util
