#include "kerntune/util/stop.hpp"
#include "kerntune/util/stop_token.hpp"

#include <atomic>
#include <csignal>

namespace kerntune::util {
namespace {
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) {
  // A second signal while stopping falls through to the default action.
  if (g_stop_signal.load() != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal.store(sig);
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and poll the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}
bool stop_requested() { return g_stop_signal.load() != 0; }
int stop_signal() { return g_stop_signal.load(); }
void request_stop(int sig) { g_stop_signal.store(sig); }
void reset_stop() { g_stop_signal.store(0); }

namespace {
class SignalStop final : public StopToken {
 public:
  int signal() const override { return stop_signal(); }
  void request(int sig) override { request_stop(sig); }
};
}  // namespace

StopToken& signal_stop() {
  static SignalStop token;
  return token;
}

}  // namespace kerntune::util
