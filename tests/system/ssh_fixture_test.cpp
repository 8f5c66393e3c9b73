// The ssh target's test host itself: a QEMU VM with dropbear answers over SSH
// with strict host-key checking, and kexec inside it (TCG) boots a new kernel
// with a new command line. Times are printed (docs/ssh-target.md quotes them).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "ssh_host.hpp"

using namespace std::chrono_literals;
using kt_ssh_test::TestHost;
namespace fs = std::filesystem;

namespace {

kerntune::util::RunResult ssh(const TestHost& h, const std::string& known_hosts, const std::string& command,
                              std::chrono::seconds timeout = 60s) {
  auto r = kt_ssh_test::run({"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
                             "UserKnownHostsFile=" + known_hosts, "-o", "ConnectTimeout=10", "-o",
                             "ServerAliveInterval=3", "-o", "ServerAliveCountMax=3", "-i", h.key, "-p",
                             std::to_string(h.port), "-l", "root", "127.0.0.1", command},
                            timeout);
  EXPECT_TRUE(r.has_value());
  return r ? *r : kerntune::util::RunResult{};
}

TEST(SshTestHost, AnswersOverSshAndKexecsIntoANewCommandLine) {
  fs::path dir = fs::path(KERNTUNE_BINARY_DIR) / "ssh-fixture-test";
  fs::remove_all(dir);
  auto host = TestHost::create(dir);
  ASSERT_TRUE(host.has_value()) << host.error().format();
  auto t0 = std::chrono::steady_clock::now();
  auto started = host->start();
  ASSERT_TRUE(started.has_value()) << started.error().format() << host->console();
  double boot_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string kh = (dir / "known_hosts").string();
  ASSERT_TRUE(kerntune::util::write_file(kh, host->known_hosts_line()).has_value());

  auto u = ssh(*host, kh, "uname -r; cat /proc/cmdline");
  ASSERT_TRUE(u.ok()) << u.describe() << u.err << host->console();
  EXPECT_NE(u.out.find("amd64"), std::string::npos) << u.out;

  // A wrong host key is refused (strict checking).
  std::string bad = (dir / "bad_known_hosts").string();
  ASSERT_TRUE(kerntune::util::write_file(bad, "[127.0.0.1]:" + std::to_string(host->port) +
                                                   " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0eNSu8BJ6hv1dt0a6s7Hk+Yz2XmQ+t6T2mSE5bFQo\n")
                  .has_value());
  auto refused = ssh(*host, bad, "true");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("HOST IDENTIFICATION HAS CHANGED"), std::string::npos) << refused.err;

  // kexec: copy the same kernel and initramfs over, load with a marker, execute.
  ASSERT_TRUE(ssh(*host, kh, "mkdir -p /tmp/k").ok());
  for (auto [local, remote] : {std::pair{host->kernel, "/tmp/k/vmlinuz"}, std::pair{host->initramfs, "/tmp/k/initrd"}}) {
    kerntune::util::RunOptions o;
    o.argv = {"ssh", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=" + kh, "-i", host->key, "-p",
              std::to_string(host->port), "-l", "root", "127.0.0.1", std::string("cat > ") + remote};
    o.stdin_data = kerntune::util::read_file(local).value();
    o.timeout = 120s;
    auto r = kerntune::util::run(o);
    ASSERT_TRUE(r && r->ok()) << (r ? r->describe() + r->err : r.error().format());
  }
  auto t1 = std::chrono::steady_clock::now();
  auto load = ssh(*host, kh,
                  "kexec -l /tmp/k/vmlinuz --initrd=/tmp/k/initrd "
                  "--command-line='console=ttyS0 panic=-1 quiet kt_fixture_marker=1'");
  ASSERT_TRUE(load.ok()) << load.describe() << load.out << load.err;
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  auto t2 = std::chrono::steady_clock::now();
  (void)ssh(*host, kh, "(sleep 1; kexec -e) >/dev/null 2>&1 </dev/null &", 30s);
  bool back = false;
  std::string seen;
  while (std::chrono::steady_clock::now() - t2 < 300s) {
    std::this_thread::sleep_for(2s);
    auto r = ssh(*host, kh, "cat /proc/cmdline", 30s);
    seen = r.out + r.err;
    if (r.ok() && r.out.find("kt_fixture_marker=1") != std::string::npos) {
      back = true;
      break;
    }
  }
  double kexec_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  host->stop();
  ASSERT_TRUE(back) << seen << host->console();
  std::cout << "ssh test host: cold boot to dropbear " << boot_s << " s, kexec -l " << load_s
            << " s, kexec -e to SSH answering with the new cmdline " << kexec_s << " s\n";
}

}  // namespace
