#pragma once
// Did the kernel take the boot parameters a trial set? A misspelled or
// unknown parameter still shows in /proc/cmdline; the kernel only says so in
// its log (Linux 6.1, once per boot, at KERN_NOTICE):
//   Unknown kernel command line parameters "nosuch foo=1", will be passed to user space.
// (docs/qemu-target.md, "Boot parameters the kernel did not take"). Pure
// functions; the qemu and ssh targets read the log through the guest agent.
#include <string>
#include <string_view>
#include <vector>

namespace kerntune::targets::guest {

/// The argv (a fixed script, no value in it) that prints the kernel log's
/// "Unknown kernel command line parameters" lines; exit 2 when the log cannot
/// be read (dmesg missing, or kernel.dmesg_restrict for a non-root user).
std::vector<std::string> unknown_parameters_log_argv();

/// The words the kernel reported as unknown, from any text holding its log
/// (console output, dmesg); empty when it reported none.
std::vector<std::string> unknown_cmdline_words(std::string_view kernel_log);

/// Why the kernel did not take the boot parameters a trial set, or "" when it
/// took them all. Every word of `requested` must be in `proc_cmdline`, and
/// none may be among `unknown` (matched by name: a requested "foo=1" is
/// blamed for a reported "foo=…"). Words the trial did not set (the target's
/// base command line, parameters meant for init or for modules) are never
/// blamed, even when the kernel lists them as unknown; nor are the few
/// parameters x86 reads from the raw command line without registering them
/// (pti=, nopti, spectre_v2=, tsx=, nokaslr, …), which 6.1 lists as unknown
/// although they took effect.
std::string boot_parameters_not_taken(std::string_view requested, std::string_view proc_cmdline,
                                      const std::vector<std::string>& unknown);

}  // namespace kerntune::targets::guest
