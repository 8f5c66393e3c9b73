#pragma once
// What a parameter's name and value may hold, by where they go
// (docs/hardening.md, "Validation by destination"). A sysctl ends up as a
// `key = value` line in sysctl.d and TuneD's [sysctl]; a sysfs knob as a path
// under /sys (sysfs.d, TuneD's [sysfs], the guest agent's writes); a boot
// parameter as one word of the kernel command line, GRUB's drop-in and TuneD's
// [bootloader]; a Kconfig symbol as a merge_config fragment line. Each rule
// keeps a name or value inside its line, word or folder.
//
// The space loader refuses what breaks a rule with a located error, and the
// export writers check again before they write (defence in depth).
#include <optional>
#include <string>
#include <string_view>

#include "kerntune/space/space.hpp"

namespace kerntune::space {

/// "sysctl" → Domain::sysctl; nullopt for an unknown word.
std::optional<Domain> parse_domain(std::string_view word);

/// Why `name` cannot name a parameter of `domain`, or nullopt when it can:
///   sysctl  components of [A-Za-z0-9_-] joined by '.' or '/' (no empty component)
///   sysfs   a relative path under /sys: components of [A-Za-z0-9_.,:@+-] joined
///           by '/', none empty, '.' or '..'
///   cmdline [A-Za-z0-9_.-]+ (no '=', no space: one boot parameter name)
///   kconfig [A-Za-z0-9_]+ (an optional CONFIG_ prefix included)
///   generic any text without whitespace, quotes or control characters
std::optional<std::string> name_problem(Domain domain, std::string_view name);

/// Why `value` (as text) cannot be a value of a `domain` parameter, or nullopt:
///   every domain  well-formed UTF-8, and (all but generic) no control character (newline, NUL, escape)
///                 nor U+2028/U+2029 (line breaks to Python's str.splitlines)
///   sysctl, sysfs, cmdline  no '${' (TuneD expands it in its profile; ${f:exec:…} runs a program)
///   sysctl, sysfs no '#' after whitespace (TuneD would read the rest as a comment)
///   cmdline       no whitespace or quote (a second boot parameter would follow), ASCII only
///                 (the kernel's isspace() is true for byte 0xA0)
///   kconfig       a choice value names a symbol: [A-Za-z0-9_]+
///   generic       any text (the black box receives it as JSON)
std::optional<std::string> value_problem(Domain domain, std::string_view value, bool kconfig_choice = false);

}  // namespace kerntune::space
