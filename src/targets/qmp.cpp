// QMP over a unix socket (qmp.hpp).
#include "qmp.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

namespace kerntune::targets {
namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
}  // namespace

Qmp& Qmp::operator=(Qmp&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    buf_ = std::move(o.buf_);
    o.fd_ = -1;
  }
  return *this;
}

Qmp::~Qmp() {
  if (fd_ >= 0) ::close(fd_);
}

util::Result<Qmp> Qmp::connect(const std::string& socket_path, milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path))
    return util::io_error(fmt::format("QMP socket path '{}' is too long for a unix socket", socket_path));
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  auto deadline = Clock::now() + timeout;
  Qmp q;
  while (true) {
    q.fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (q.fd_ < 0) return util::io_error(fmt::format("cannot create a unix socket: {}", std::strerror(errno)));
    if (::connect(q.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) break;
    int err = errno;
    ::close(q.fd_);
    q.fd_ = -1;
    // QEMU creates the socket as it starts; a VM that is booted has it.
    if (Clock::now() >= deadline)
      return util::io_error(fmt::format("cannot connect to QEMU's QMP socket {}: {}", socket_path, std::strerror(err)));
    std::this_thread::sleep_for(milliseconds(50));
  }
  KT_TRY(std::string greeting, q.reply(timeout));
  if (greeting.find("\"QMP\"") == std::string::npos)
    return util::io_error(fmt::format("QMP socket {} did not greet as QMP: {}", socket_path, greeting));
  KT_TRY_STATUS(q.send(R"({"execute":"qmp_capabilities"})"));
  KT_TRY(std::string caps, q.reply(timeout));
  if (caps.find("\"return\"") == std::string::npos)
    return util::io_error(fmt::format("QMP refused capability negotiation: {}", caps));
  return q;
}

util::Status Qmp::send(const std::string& json) {
  std::string line = json + "\n";
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return util::io_error(fmt::format("cannot write to QEMU's QMP socket: {}", std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
  return {};
}

util::Result<std::string> Qmp::reply(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    for (auto nl = buf_.find('\n'); nl != std::string::npos; nl = buf_.find('\n')) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) continue;
      if (j.contains("event")) continue;  // asynchronous: STOP, RESUME, …
      return line;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return util::fail("QEMU's QMP socket did not answer in time", util::Error::Kind::timeout);
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return util::io_error(fmt::format("poll on QEMU's QMP socket: {}", std::strerror(errno)));
    if (r == 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return util::io_error("QEMU closed its QMP socket");
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

util::Result<std::string> Qmp::human(const std::string& command, milliseconds timeout) {
  if (fd_ < 0) return util::io_error("QMP is not connected");
  nlohmann::json cmd = {{"execute", "human-monitor-command"}, {"arguments", {{"command-line", command}}}};
  KT_TRY_STATUS(send(cmd.dump()));
  KT_TRY(std::string line, reply(timeout));
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.contains("error"))
    return util::io_error(fmt::format("QMP refused '{}': {}", command, j["error"].value("desc", line)));
  if (!j.contains("return") || !j["return"].is_string()) return util::io_error(fmt::format("QMP reply to '{}': {}", command, line));
  return j["return"].get<std::string>();
}

}  // namespace kerntune::targets
