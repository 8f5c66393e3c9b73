// The ssh target's connection to one host: control master, remote commands
// built only from constants and shell_quote()d values, uploads, the guest
// agent over an SSH session, health checks and waiting for a host to return.
#include "ssh_host.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "guest_agent.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::targets::ssh {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool socket_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// The host did not answer in time: timeout; any other loss of the link: io.
util::Error::Kind kind_of(const guest::ChannelError& e) {
  return e.kind == guest::ChannelError::Kind::timeout ? util::Error::Kind::timeout : util::Error::Kind::io;
}
util::Error::Kind kind_of(const util::RunResult& r) {
  return r.timed_out ? util::Error::Kind::timeout : util::Error::Kind::io;
}

}  // namespace

std::string agent_command(const std::string& remote_dir) {
  std::string d = shell_quote(remote_dir);
  // busybox sh first (the shell the agent is tested with), else bash; both have read -t -u.
  return fmt::format(
      "cd / && mkdir -p {0}/tmp && KT_AGENT_TEST=1 KT_AGENT_TMP={0}/tmp && export KT_AGENT_TEST KT_AGENT_TMP && "
      "if command -v busybox >/dev/null 2>&1; then exec busybox sh {0}/agent.sh; "
      "else exec bash {0}/agent.sh; fi",
      d);
}

std::string upload_command(const std::string& remote_path) {
  std::string p = shell_quote(remote_path);
  std::string dir = shell_quote(fs::path(remote_path).parent_path().string());
  std::string tmp = shell_quote(remote_path + ".part");
  return fmt::format("umask 077 && mkdir -p {} && cat > {} && mv -f {} {}", dir, tmp, tmp, p);
}

std::string exists_command(const std::string& remote_path) {
  return fmt::format("test -f {} && echo present || echo absent", shell_quote(remote_path));
}

Connection::Connection(const SshOptions& options, SshHost host, std::string control)
    : options_(&options), host_(std::move(host)), control_(std::move(control)) {}

Connection::~Connection() { disconnect(); }

void Connection::disconnect() {
  agent.reset();
  if (master_) {
    master_->terminate(milliseconds(2000));
    master_.reset();
  }
  std::error_code ec;
  fs::remove(control_, ec);
}

util::Status Connection::connect() {
  if (master_ && master_->running() && socket_exists(control_)) return {};
  disconnect();
  util::Child::Options co;
  co.argv = ssh_argv(*options_, host_, control_, true);
  co.pipe_stdin = false;
  co.merge_stderr = true;
  KT_TRY(util::Child child, util::Child::spawn(co));
  auto deadline = Clock::now() + options_->connect_timeout + milliseconds(5000);
  std::string said;
  while (Clock::now() < deadline) {
    if (util::stop_requested()) {
      child.terminate(milliseconds(500));
      return util::fail("interrupted", util::Error::Kind::interrupted);
    }
    if (socket_exists(control_)) {
      master_.emplace(std::move(child));
      return {};
    }
    auto chunk = child.read_some(milliseconds(100));
    if (!chunk || !child.running()) {
      if (chunk) said += *chunk;
      while (auto more = child.read_some(milliseconds(50))) {
        if (more->empty()) break;
        said += *more;
      }
      child.wait(milliseconds(1000));
      return util::fail(fmt::format("ssh to {} failed: {}", host_.name, guest::tail_lines(said, 3, "(no message)")), util::Error::Kind::io);
    }
    said += *chunk;
  }
  child.terminate(milliseconds(500));
  return util::fail(fmt::format("ssh to {}: no connection within {} s", host_.name,
                                (options_->connect_timeout.count() + 5000) / 1000), util::Error::Kind::timeout);
}

util::Result<util::RunResult> Connection::remote(const std::string& command, std::optional<std::string> stdin_data,
                                                 milliseconds timeout) {
  KT_TRY_STATUS(connect());
  util::RunOptions ro;
  ro.argv = ssh_argv(*options_, host_, control_, false);
  ro.argv.push_back(command);
  ro.stdin_data = std::move(stdin_data);
  ro.timeout = timeout;
  return util::run(ro);
}

util::Status Connection::upload(const std::string& content, const std::string& remote_path, milliseconds timeout) {
  KT_TRY(auto r, remote(upload_command(remote_path), content, timeout));
  if (!r.ok())
    return util::fail(fmt::format("uploading {} to {} ({} bytes): {}: {}", remote_path, host_.name, content.size(),
                                  r.describe(), guest::tail_lines(r.err + r.out, 3, "(no message)")), kind_of(r));
  return {};
}

util::Result<bool> Connection::remote_file_exists(const std::string& remote_path) {
  KT_TRY(auto r, remote(exists_command(remote_path), std::nullopt, options_->command_timeout));
  if (!r.ok()) return util::fail(fmt::format("checking {} on {}: {}", remote_path, host_.name, r.describe()), kind_of(r));
  return util::trim(r.out) == "present";
}

util::Status Connection::start_agent() {
  agent.reset();
  KT_TRY_STATUS(upload(std::string(guest::agent_script()), options_->remote_dir + "/agent.sh",
                       options_->command_timeout));
  util::Child::Options co;
  co.argv = ssh_argv(*options_, host_, control_, false);
  co.argv.push_back(agent_command(options_->remote_dir));
  co.merge_stderr = true;
  KT_TRY(util::Child child, util::Child::spawn(co));
  agent = std::make_unique<guest::GuestChannel>(std::move(child));
  auto r = agent->wait_ready(options_->command_timeout);
  if (!r) {
    std::string why = r.error().message;
    const util::Error::Kind kind = kind_of(r.error());
    agent.reset();
    if (r.error().kind == guest::ChannelError::Kind::interrupted)
      return util::fail("interrupted", util::Error::Kind::interrupted);
    return util::fail(fmt::format("the kerntune agent did not start on {}: {}", host_.name, why), kind);
  }
  return {};
}

util::Status Connection::health_check() {
  KT_TRY_STATUS(connect());
  KT_TRY_STATUS(start_agent());
  auto read = [&](const char* path) -> util::Result<std::string> {
    auto r = agent->read(path, options_->command_timeout);
    if (!r) return util::fail(fmt::format("reading {} on {}: {}", path, host_.name, r.error().message), kind_of(r.error()));
    if (r->rc != 0) return util::fail(fmt::format("reading {} on {}: {}", path, host_.name, r->payload), util::Error::Kind::io);
    return util::trim(r->payload);
  };
  KT_TRY(cmdline, read("/proc/cmdline"));
  KT_TRY(boot_id, read("/proc/sys/kernel/random/boot_id"));
  KT_TRY(release, read("/proc/sys/kernel/osrelease"));
  auto u = agent->run({"uname", "-r"}, 30, options_->agent_grace);
  if (!u) return util::fail(fmt::format("running uname -r on {}: {}", host_.name, u.error().message), kind_of(u.error()));
  if (u->exit_code != 0 || util::trim(u->output) != release)
    return util::fail(fmt::format("uname -r on {} gave '{}' (exit {}), /proc says '{}'", host_.name,
                                  util::trim(u->output), u->exit_code, release), util::Error::Kind::io);
  return {};
}

util::Status Connection::wait_for_return(const std::string& old_boot_id, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last = "no attempt";
  while (Clock::now() < deadline) {
    if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
    disconnect();
    auto h = health_check();
    if (h && boot_id != old_boot_id) return {};
    if (h) last = "still the old boot (kexec has not happened yet)";
    else if (h.error().kind == util::Error::Kind::interrupted) return h;
    else last = h.error().message;
    disconnect();
    std::this_thread::sleep_for(milliseconds(2000));
  }
  return util::fail(fmt::format("{} did not come back within {} s (last attempt: {})", host_.name,
                                timeout.count() / 1000, last), util::Error::Kind::timeout);
}

}  // namespace kerntune::targets::ssh
