#pragma once
// Shared by the lava tests that run a real `lava-run`: what they need from the
// host (a kernel from scripts/fetch-kernel, the device file and lava-dispatcher
// from scripts/lava-setup, root), and why a test cannot run when it is missing.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "targets/lava_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"

namespace kt_lava {

/// A workload that reports the guest's vm.swappiness twice: a trial's
/// measurements then equal the value it applied.
inline constexpr const char* kSwappinessProbe = R"Y(name: probe
command: [sh, -c, "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness) pages"]
repeats: 2
warmup: 0
timeout: 60s
metrics:
  - {name: swappiness, kerntune_metric: true}
)Y";

struct Needs {
  std::string kernel, device, why;  // why: empty when everything is there
};

inline Needs needs() {
  namespace targets = kerntune::targets;
  Needs n;
  auto k = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  auto d = targets::default_lava_device({KERNTUNE_SOURCE_DIR});
  if (!k || !std::filesystem::exists(*k)) n.why = "no kernel image: run scripts/fetch-kernel";
  else if (!d) n.why = "no LAVA device file: run scripts/lava-setup";
  else if (!kerntune::util::which("lava-run")) n.why = "lava-run is not installed: run scripts/lava-setup";
  else if (geteuid() != 0) n.why = "lava-run needs root";
  if (k) n.kernel = *k;
  if (d) n.device = *d;
  return n;
}

}  // namespace kt_lava
