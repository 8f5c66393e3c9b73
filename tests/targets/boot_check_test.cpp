// Boot parameters the kernel did not take: its "Unknown kernel command line
// parameters" line (as Debian's 6.1 prints it) and /proc/cmdline against the
// words a trial set.
#include "targets/boot_check.hpp"

#include <gtest/gtest.h>

using namespace kerntune::targets::guest;

namespace {

// dmesg lines of a real boot of Debian's 6.1 kernel under QEMU (TCG): two
// unknown words, one module parameter (dotted, never reported).
const char* kLog =
    "[    0.000000] Command line: console=ttyS0 panic=-1 quiet nosuchflag transparent_hugepages=never foo.bar=3\n"
    "[    0.000000] Kernel command line: console=ttyS0 panic=-1 quiet nosuchflag transparent_hugepages=never "
    "foo.bar=3\n"
    "[    0.000000] Unknown kernel command line parameters \"nosuchflag transparent_hugepages=never\", will be "
    "passed to user space.\n"
    "[    0.930163] Run /init as init process\n";

}  // namespace

TEST(BootCheck, UnknownWordsComeFromTheKernelsOwnLine) {
  EXPECT_EQ(unknown_cmdline_words(kLog), (std::vector<std::string>{"nosuchflag", "transparent_hugepages=never"}));
  EXPECT_TRUE(unknown_cmdline_words("[    0.02] Kernel command line: console=ttyS0 quiet\n").empty());
  // A line cut off before its end is not read as a list.
  EXPECT_TRUE(unknown_cmdline_words("Unknown kernel command line parameters \"abc def").empty());
}

TEST(BootCheck, OnlyParametersTheTrialSetFailIt) {
  auto unknown = unknown_cmdline_words(kLog);
  std::string cmdline = "console=ttyS0 panic=-1 quiet transparent_hugepages=never nosuchflag";
  // The trial set the misspelled one: named in the reason.
  std::string why = boot_parameters_not_taken("transparent_hugepages=never", cmdline, unknown);
  EXPECT_NE(why.find("'transparent_hugepages=never'"), std::string::npos) << why;
  EXPECT_EQ(why.find("nosuchflag"), std::string::npos) << why;  // not the trial's: not blamed
  EXPECT_NE(why.find("unknown"), std::string::npos) << why;
  // Matched by name: a bare flag, and a value the kernel did not parse.
  EXPECT_NE(boot_parameters_not_taken("nosuchflag", cmdline, unknown).find("'nosuchflag'"), std::string::npos);
  EXPECT_NE(boot_parameters_not_taken("preempt=bogus", "preempt=bogus", {"preempt=bogus"}).find("preempt=bogus"),
            std::string::npos);
  // Words of the base command line or for init that the kernel lists are not the trial's.
  EXPECT_EQ(boot_parameters_not_taken("mitigations=off", cmdline + " mitigations=off", unknown), "");
  EXPECT_EQ(boot_parameters_not_taken("", cmdline, unknown), "");
  // "transparent_hugepage" (the real name) is not "transparent_hugepages".
  EXPECT_EQ(boot_parameters_not_taken("transparent_hugepage=never", "transparent_hugepage=never", unknown), "");
}

TEST(BootCheck, ParametersX86ReadsFromTheRawCommandLineAreNotBlamed) {
  // 6.1 lists pti= as unknown although arch/x86/mm/pti.c read it and PTI is on.
  const std::string log =
      "Unknown kernel command line parameters \"pti=on nokaslr nosuchflag\", will be passed to user space.\n";
  auto unknown = unknown_cmdline_words(log);
  const std::string cmdline = "console=ttyS0 pti=on nokaslr nosuchflag";
  EXPECT_EQ(boot_parameters_not_taken("pti=on", cmdline, unknown), "");
  EXPECT_EQ(boot_parameters_not_taken("pti=on nokaslr", cmdline, unknown), "");
  std::string why = boot_parameters_not_taken("pti=on nosuchflag", cmdline, unknown);
  EXPECT_NE(why.find("'nosuchflag'"), std::string::npos) << why;
  EXPECT_EQ(why.find("pti"), std::string::npos) << why;
  // Still checked against /proc/cmdline.
  EXPECT_NE(boot_parameters_not_taken("pti=on", "console=ttyS0", {}).find("missing"), std::string::npos);
}

TEST(BootCheck, AParameterMissingFromProcCmdlineFailsTheTrial) {
  std::string why = boot_parameters_not_taken("mitigations=off nohz=off", "console=ttyS0 mitigations=off", {});
  EXPECT_NE(why.find("'nohz=off'"), std::string::npos) << why;
  EXPECT_NE(why.find("missing from /proc/cmdline"), std::string::npos) << why;
  EXPECT_EQ(why.find("'mitigations=off'"), std::string::npos) << why;
}

TEST(BootCheck, TheLogCommandIsAFixedScript) {
  auto argv = unknown_parameters_log_argv();
  ASSERT_EQ(argv.size(), 3u);
  EXPECT_EQ(argv[0], "sh");
  EXPECT_NE(argv[2].find("Unknown kernel command line parameters"), std::string::npos);
}
