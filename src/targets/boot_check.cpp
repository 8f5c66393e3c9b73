// Boot parameters the kernel did not take: its "Unknown kernel command line
// parameters" line and /proc/cmdline against what the trial asked for.
#include "boot_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "kerntune/util/text.hpp"

namespace kerntune::targets::guest {
namespace {

constexpr std::string_view kUnknown = "Unknown kernel command line parameters \"";
constexpr std::string_view kPassed = "\", will be passed to user space";

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string name_of(std::string_view word) { return std::string(word.substr(0, word.find('='))); }

// Parameters x86 Linux reads straight from the raw command line
// (cmdline_find_option and cmdline_find_option_bool) without registering them
// with __setup or early_param, so 6.1 lists them as unknown although they
// took effect: pti= and nopti (arch/x86/mm/pti.c, registered from 6.5 on),
// the Spectre v2 and SSB switches (arch/x86/kernel/cpu/bugs.c), tsx=
// (cpu/tsx.c), the FPU switches of cpu/common.c, nokaslr (the decompressor)
// and mem_encrypt= (mm/mem_encrypt_identity.c).
constexpr std::array<std::string_view, 15> kReadFromRawCmdline = {
    "pti",      "nopti",       "spectre_v2", "spectre_v2_user", "nospectre_v2",
    "spec_store_bypass_disable", "nospec_store_bypass_disable",  "tsx",
    "no387",    "nofxsr",      "noxsave",    "noxsaveopt",      "noxsaves",
    "nokaslr",  "mem_encrypt"};

bool read_from_raw_cmdline(std::string_view name) {
  return std::find(kReadFromRawCmdline.begin(), kReadFromRawCmdline.end(), name) != kReadFromRawCmdline.end();
}

std::string quoted(const std::vector<std::string>& ws) {
  std::string out;
  for (const auto& w : ws) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", w);
  return out;
}

}  // namespace

std::vector<std::string> unknown_parameters_log_argv() {
  return {"sh", "-c",
          "log=$(dmesg 2>&1) || { printf '%s\\n' \"$log\" | tail -n 1; exit 2; }\n"
          "printf '%s\\n' \"$log\" | grep -F 'Unknown kernel command line parameters'\n"
          "exit 0"};
}

std::vector<std::string> unknown_cmdline_words(std::string_view kernel_log) {
  std::vector<std::string> out;
  for (std::size_t at = kernel_log.find(kUnknown); at != std::string_view::npos;
       at = kernel_log.find(kUnknown, at + 1)) {
    std::string_view rest = kernel_log.substr(at + kUnknown.size());
    std::size_t end = std::min(rest.find(kPassed), rest.find('\n'));
    if (end == std::string_view::npos) continue;  // a line cut off mid-way
    for (auto& w : words(rest.substr(0, end)))
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
  }
  return out;
}

std::string boot_parameters_not_taken(std::string_view requested, std::string_view proc_cmdline,
                                      const std::vector<std::string>& unknown) {
  const std::vector<std::string> have = words(proc_cmdline);
  std::vector<std::string> missing, not_taken;
  for (const auto& w : words(requested)) {
    if (std::find(have.begin(), have.end(), w) == have.end()) missing.push_back(w);
    const std::string name = name_of(w);
    bool reported = std::any_of(unknown.begin(), unknown.end(), [&](const std::string& u) { return name_of(u) == name; });
    if (reported && !read_from_raw_cmdline(name)) not_taken.push_back(w);
  }
  if (!not_taken.empty())
    return fmt::format("the kernel did not take boot parameter(s) {}: it logged them as unknown "
                       "(\"Unknown kernel command line parameters\") and passed them to init",
                       quoted(not_taken));
  if (!missing.empty())
    return fmt::format("boot parameter(s) {} are missing from /proc/cmdline '{}'", quoted(missing),
                       util::trim(proc_cmdline));
  return {};
}

}  // namespace kerntune::targets::guest
