#pragma once
// A real SSH host for the ssh target's system tests: a QEMU VM (TCG) booted
// from an initramfs built with kerntune's own builder, whose /init brings up
// the network (e1000, QEMU user-mode networking) and runs dropbear with a host
// key made here, so known_hosts can be strict. kexec is in the image, and the
// same image is what the tests kexec into (so dropbear comes back).
// QEMU is started and stopped by scripts/ssh-test-host (by PID).
#include <filesystem>
#include <string>
#include <vector>

#include "kerntune/targets/initramfs.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/result.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace kt_ssh_test {

namespace fs = std::filesystem;
using namespace kerntune;

/// /init of the test host. Prints KT-SSH-HOST-READY when dropbear listens.
inline const char* kHostInit = R"SH(#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname kt-ssh-host
while IFS= read -r m; do [ -n "$m" ] && insmod "$m"; done < /etc/kerntune/modules
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
chmod 700 /root /root/.ssh
dropbear -s -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -P /run/dropbear.pid
echo KT-SSH-HOST-READY "$(uname -r)" "$(cat /proc/cmdline)"
while :; do sleep 3600; done
)SH";

inline std::string kernel_path() {
  auto k = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  return k ? *k : std::string();
}

inline util::Result<util::RunResult> run(std::vector<std::string> argv, std::chrono::seconds timeout) {
  util::RunOptions o;
  o.argv = std::move(argv);
  o.timeout = timeout;
  return util::run(o);
}

struct TestHost {
  fs::path dir;             ///< state folder (keys, initramfs, QEMU pid, console log)
  std::string kernel;       ///< the kernel it boots (and the tests kexec)
  std::string initramfs;    ///< its initramfs
  std::string key;          ///< client private key (root)
  std::string host_pubkey;  ///< "ssh-ed25519 AAAA…"
  int port = 0;

  std::string script() const { return std::string(KERNTUNE_SOURCE_DIR) + "/scripts/ssh-test-host"; }

  /// Keys, the initramfs (dropbear, kexec, busybox, e1000 and `binaries`).
  static util::Result<TestHost> create(const fs::path& dir, const std::vector<std::string>& binaries = {}) {
    TestHost h;
    h.dir = dir;
    fs::create_directories(dir);
    h.kernel = kernel_path();
    if (h.kernel.empty()) return util::io_error("no kernel image: run scripts/fetch-kernel");
    auto modules = targets::modules_dir_for_kernel(h.kernel);
    if (!modules) return util::io_error("no lib/modules beside the kernel");
    h.key = (dir / "id_ed25519").string();
    std::string hostkey = (dir / "host_ed25519").string();
    if (!fs::exists(h.key)) {
      KT_TRY(auto r, run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kt-test", "-f", h.key},
                         std::chrono::seconds(30)));
      if (!r.ok()) return util::io_error("ssh-keygen: " + r.describe() + r.err);
    }
    if (!fs::exists(hostkey)) {
      KT_TRY(auto r, run({"dropbearkey", "-t", "ed25519", "-f", hostkey}, std::chrono::seconds(30)));
      if (!r.ok()) return util::io_error("dropbearkey: " + r.describe() + r.err);
    }
    KT_TRY(auto pub, run({"dropbearkey", "-y", "-f", hostkey}, std::chrono::seconds(30)));
    for (auto& l : util::split(pub.out, '\n'))
      if (util::starts_with(l, "ssh-ed25519 ")) {
        auto parts = util::split(l, ' ');
        h.host_pubkey = parts[0] + " " + parts[1];
      }
    if (h.host_pubkey.empty()) return util::io_error("dropbearkey -y printed no public key: " + pub.out);
    KT_TRY(std::string client_pub, util::read_file(h.key + ".pub"));
    KT_TRY(std::string hostkey_bytes, util::read_file(hostkey));

    targets::InitramfsSpec spec;
    spec.binaries = {"dropbear", "kexec"};
    spec.binaries.insert(spec.binaries.end(), binaries.begin(), binaries.end());
    spec.modules = {"e1000"};
    spec.modules_release_dir = *modules;
    spec.init_script = kHostInit;
    spec.extra_files = {{"root/.ssh/authorized_keys", client_pub},
                        {"etc/dropbear/dropbear_ed25519_host_key", hostkey_bytes},
                        {"etc/shells", "/bin/sh\n"}};
    KT_TRY(auto ir, targets::build_initramfs(spec, (dir / "initramfs").string()));
    h.initramfs = ir.path;
    return h;
  }

  /// Starts the VM and waits until dropbear runs; fills `port`.
  util::Status start(int wait_s = 240) {
    std::vector<std::string> argv = {script(), "start", "--dir", dir.string(), "--kernel", kernel,
                                     "--initrd", initramfs, "--wait", std::to_string(wait_s)};
    if (port) argv.insert(argv.end(), {"--port", std::to_string(port)});
    KT_TRY(auto r, run(argv, std::chrono::seconds(wait_s + 30)));
    if (!r.ok()) return util::io_error("ssh-test-host start: " + r.describe() + ": " + r.err);
    port = std::stoi(util::trim(r.out));
    return {};
  }
  void stop() const { (void)run({script(), "stop", "--dir", dir.string()}, std::chrono::seconds(30)); }
  /// The recovery command a recipe names for this host.
  std::vector<std::string> restart_argv(int wait_s = 240) const {
    return {script(), "restart", "--dir", dir.string(), "--wait", std::to_string(wait_s)};
  }
  std::string known_hosts_line() const { return "[127.0.0.1]:" + std::to_string(port) + " " + host_pubkey + "\n"; }
  std::string console() const { return util::read_file((dir / "console.log").string()).value_or(""); }
};

}  // namespace kt_ssh_test
