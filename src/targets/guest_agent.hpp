#pragma once
// The guest agent: a busybox sh script that becomes /init of the initramfs
// kerntune builds for the qemu target. It mounts proc, sys, devtmpfs, tmpfs
// (/tmp, /run, /dev/shm) and debugfs, loads the listed modules, puts the
// console in raw mode and serves the protocol of guest_protocol.hpp.
// Source: src/targets/guest-agent/agent.sh.inc. Environment for host tests:
// KT_AGENT_TEST=1 (no mounts, no tty setup), KT_AGENT_TMP (scratch folder),
// KT_AGENT_PATH (PATH with busybox applets).
#include <string_view>

namespace kerntune::targets::guest {

/// The script text (starts with "#!/bin/sh").
std::string_view agent_script();

}  // namespace kerntune::targets::guest
