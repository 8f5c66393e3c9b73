#include "kerntune/space/destination.hpp"

#include <algorithm>
#include <array>

#include "kerntune/util/text.hpp"

namespace kerntune::space {
namespace {

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool in(char c, std::string_view extra) { return alnum(c) || extra.find(c) != std::string_view::npos; }

/// Components of `name` split at any of `seps`; why one is unacceptable.
std::optional<std::string> component_problem(std::string_view name, std::string_view seps, std::string_view chars,
                                              bool no_dots) {
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find_first_of(seps, start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty()) return "it has an empty component (a leading, trailing or doubled separator)";
    if (no_dots && (part == "." || part == ".."))
      return std::string("it has a '") + std::string(part) + "' component (it must stay inside /sys)";
    for (char c : part)
      if (!in(c, chars))
        return util::is_control(c) || static_cast<unsigned char>(c) >= 0x80
                   ? std::string("it holds a byte outside [A-Za-z0-9") + std::string(chars) + "]"
                   : std::string("it holds '") + c + "' (allowed: letters, digits and " + std::string(chars) + ")";
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Domain> parse_domain(std::string_view word) {
  static constexpr std::array<std::pair<std::string_view, Domain>, 5> kNames{{{"kconfig", Domain::kconfig},
                                                                              {"cmdline", Domain::cmdline},
                                                                              {"sysctl", Domain::sysctl},
                                                                              {"sysfs", Domain::sysfs},
                                                                              {"generic", Domain::generic}}};
  for (const auto& [name, d] : kNames)
    if (name == word) return d;
  return std::nullopt;
}

std::optional<std::string> name_problem(Domain domain, std::string_view name) {
  if (name.empty()) return "it is empty";
  switch (domain) {
    case Domain::sysctl: return component_problem(name, "./", "_-", false);
    case Domain::sysfs:
      if (name.starts_with('/')) return "it is absolute (sysfs names are relative to /sys)";
      return component_problem(name, "/", "_.,:@+-", true);
    case Domain::cmdline: return component_problem(name, "", "_.-", false);
    case Domain::kconfig: return component_problem(name, "", "_", false);
    case Domain::generic:
      if (!util::is_text(name) || util::has_control(name)) return "it is not text without control characters";
      for (char c : name)
        if (c == ' ' || c == '`' || c == '"' || c == '\'') return "it holds a space, quote or backtick";
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> value_problem(Domain domain, std::string_view value, bool kconfig_choice) {
  if (!util::is_text(value)) return "it is not well-formed UTF-8 text";
  if (domain == Domain::generic) return std::nullopt;  // passed as JSON only: any text
  if (util::has_control(value)) return "it holds a control character (a newline, tab, NUL, escape, …)";
  if (value.find("\u2028") != std::string_view::npos || value.find("\u2029") != std::string_view::npos)
    return "it holds U+2028 or U+2029 (a line break to Python's splitlines, as older TuneD reads its profile)";
  // TuneD expands ${…} in every profile value, and ${f:exec:…} runs a program.
  if (domain != Domain::kconfig && value.find("${") != std::string_view::npos)
    return "it holds '${' (TuneD would expand it; ${f:exec:…} runs a program)";
  switch (domain) {
    case Domain::sysctl:
    case Domain::sysfs:
      for (std::size_t i = 1; i < value.size(); ++i)
        if (value[i] == '#' && value[i - 1] == ' ') return "it holds ' #' (TuneD would read the rest as a comment)";
      return std::nullopt;
    case Domain::cmdline:
      if (std::any_of(value.begin(), value.end(), [](char c) { return c == ' ' || c == '"' || c == '\''; }))
        return "it holds a space or quote (it would split the kernel command line)";
      if (std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        return "it holds a non-ASCII byte (the kernel's isspace() takes byte 0xA0, as in U+00A0 or 'à', for a space)";
      return std::nullopt;
    case Domain::kconfig:
      if (kconfig_choice) return component_problem(value, "", "_", false);
      return std::nullopt;
    case Domain::generic: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace kerntune::space
