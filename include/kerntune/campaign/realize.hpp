#pragma once
// Realize: split an assignment by domain into what a target applies.
//   generic → only in the parameters JSON (the command target's KERNTUNE_PARAMS)
//   cmdline → BootImage.cmdline: a bool renders as the bare word when true
//             (omitted when false); every other type as name=value
//   sysctl  → TrialRequest.sysctls (bool → 1/0)
//   sysfs   → TrialRequest.sysfs   (bool → 1/0)
//   kconfig → handled by the build step (not here)
// Every active parameter also appears in TrialRequest.params.
#include "kerntune/space/effective.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/targets/target.hpp"

namespace kerntune::campaign {

targets::TrialRequest realize(const space::Space& space, const space::Assignment& a, int seq);

/// The kernel command-line text for the cmdline-domain parameters of `a`.
std::string render_cmdline(const space::Space& space, const space::Assignment& a);

/// The inverse direction: what a trial stores as applied (docs/json-output.md,
/// `effective` and `adjusted`). `effective` holds the parameters in their
/// types (the value the target reported; for an ok trial every other active
/// parameter at its proposed value), the
/// target's own keys ("cmdline", "kernel_release", …) as they came, and
/// "adjusted": the parameters the kernel clamped, refused or reported in a
/// form their type cannot hold (only when there are any).
struct AppliedRecord {
  nlohmann::json effective;
  std::vector<space::Adjustment> adjusted;
};
AppliedRecord applied_record(const space::Space& space, const space::Assignment& proposed,
                             const targets::TrialOutcome& out);

}  // namespace kerntune::campaign
