#pragma once
// Logging to stderr (data goes to stdout). Level set once by the CLI.
#include <fmt/format.h>

#include <string>

namespace kerntune::util {

enum class LogLevel { quiet = 0, warn = 1, info = 2, debug = 3 };
void set_log_level(LogLevel level);
LogLevel log_level();
void log_line(LogLevel level, const std::string& text);

template <class... A>
void log_info(fmt::format_string<A...> f, A&&... a) {
  if (log_level() >= LogLevel::info) log_line(LogLevel::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void log_warn(fmt::format_string<A...> f, A&&... a) {
  if (log_level() >= LogLevel::warn) log_line(LogLevel::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void log_debug(fmt::format_string<A...> f, A&&... a) {
  if (log_level() >= LogLevel::debug) log_line(LogLevel::debug, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace kerntune::util
