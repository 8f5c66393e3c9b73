#pragma once
// Internal to the targets module: a client of QEMU's machine protocol (QMP)
// on a unix socket, enough to save and load the one snapshot of a running VM
// (docs/qemu-target.md, "Between trials"). Every failure is an io Error.
#include <chrono>
#include <string>

#include "kerntune/util/result.hpp"

namespace kerntune::targets {

class Qmp {
 public:
  Qmp() = default;
  Qmp(const Qmp&) = delete;
  Qmp& operator=(const Qmp&) = delete;
  Qmp(Qmp&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }
  Qmp& operator=(Qmp&& o) noexcept;
  ~Qmp();

  /// Connects to QEMU's `-qmp unix:PATH,server=on,wait=off` socket, reads its
  /// greeting and leaves capability negotiation.
  static util::Result<Qmp> connect(const std::string& socket_path, std::chrono::milliseconds timeout);

  /// Runs one human-monitor command (e.g. "savevm kt") and returns what it
  /// printed: QEMU's monitor prints nothing when savevm/loadvm succeed, so
  /// any text is the reason they did not.
  util::Result<std::string> human(const std::string& command, std::chrono::milliseconds timeout);

  bool connected() const { return fd_ >= 0; }

 private:
  /// The next reply to a command (events are skipped), as its JSON text.
  util::Result<std::string> reply(std::chrono::milliseconds timeout);
  util::Status send(const std::string& json);
  int fd_ = -1;
  std::string buf_;
};

}  // namespace kerntune::targets
