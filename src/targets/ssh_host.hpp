#pragma once
// Internal to the ssh target: one host's SSH connection (control master), the
// kerntune agent running over it, and the remote command strings — constants
// plus shell_quote()d values only.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "kerntune/targets/guest_channel.hpp"
#include "ssh_target.hpp"
#include "kerntune/util/subprocess.hpp"

namespace kerntune::targets::ssh {

class Connection {
 public:
  /// `options` must outlive the connection. `control` is the socket path.
  Connection(const SshOptions& options, SshHost host, std::string control);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts the control master unless it runs. Error: ssh's own message.
  util::Status connect();
  /// Kills the agent session and the master.
  void disconnect();
  /// Runs a remote command string (through the user's login shell) over the master.
  util::Result<util::RunResult> remote(const std::string& command, std::optional<std::string> stdin_data,
                                       std::chrono::milliseconds timeout);
  util::Status upload(const std::string& content, const std::string& remote_path, std::chrono::milliseconds timeout);
  util::Result<bool> remote_file_exists(const std::string& remote_path);
  /// Uploads the agent and starts it; `agent` is ready afterwards.
  util::Status start_agent();
  /// Connects, starts the agent, reads /proc/cmdline, boot_id and the release
  /// and checks that `uname -r` runs and agrees.
  util::Status health_check();
  /// Polls health_check() until it passes with a boot_id other than `old_boot_id`.
  util::Status wait_for_return(const std::string& old_boot_id, std::chrono::milliseconds timeout);

  const SshHost& host() const { return host_; }

  std::unique_ptr<guest::GuestChannel> agent;
  std::string cmdline;  ///< /proc/cmdline at the last health check
  std::string boot_id;
  std::string release;

 private:
  const SshOptions* options_;
  SshHost host_;
  std::string control_;
  std::optional<util::Child> master_;
};

}  // namespace kerntune::targets::ssh
