#include "kerntune/util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "kerntune/util/text.hpp"

namespace kerntune::util {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
void log_line(LogLevel level, const std::string& text) {
  std::lock_guard lock(g_mutex);
  const char* prefix = level == LogLevel::warn ? "kerntune: warning: " : "kerntune: ";
  // Messages quote values and output from outside: never a raw control sequence.
  std::fprintf(stderr, "%s%s\n", prefix, printable(text, true).c_str());
  std::fflush(stderr);
}

}  // namespace kerntune::util
