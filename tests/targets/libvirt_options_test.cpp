// The libvirt target's recipe keys (defaults, located errors, did-you-mean)
// and the domain XML it generates for a boot: direct kernel boot, TCG or KVM,
// the console socket, the swap disk, and every value escaped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kerntune/targets/factory.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#include "targets/libvirt_target.hpp"

namespace fs = std::filesystem;
using namespace kerntune;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("kt-libvirt-opt-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
    std::ofstream(path / "k") << "x";
  }
  ~TempDir() { fs::remove_all(path); }
};

util::Result<targets::LibvirtOptions> parse(const std::string& body, const fs::path& dir) {
  auto node = util::load_yaml_string("target:\n  kind: libvirt\n  kernel: k\n" + body, (dir / "r.yaml").string());
  if (!node) return std::unexpected(node.error());
  return targets::parse_libvirt_options((*node)["target"], {(dir / "r.yaml").string(), dir.string(), (dir / "w").string()});
}

/// The error of a recipe that must fail, or a test failure.
util::Error error_of(const std::string& body, const fs::path& dir) {
  auto o = parse(body, dir);
  EXPECT_FALSE(o.has_value()) << body;
  return o ? util::Error{} : o.error();
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(LibvirtOptions, DefaultsShareTheQemuKeys) {
  TempDir t;
  auto o = parse("  memory: 256\n  cpus: 2\n  accel: tcg\n  reuse_vm: false\n", t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  EXPECT_EQ(o->uri, "qemu:///system");
  EXPECT_EQ(o->virsh, "virsh");
  EXPECT_EQ(o->name_prefix, "kerntune");
  EXPECT_EQ(o->vm.kernel, (t.path / "k").string());
  EXPECT_EQ(o->vm.memory, "256M");
  EXPECT_EQ(o->vm.cpus, 2);
  EXPECT_EQ(o->vm.accel, "tcg");
  EXPECT_EQ(o->vm.between_trials, targets::QemuOptions::BetweenTrials::reboot);
  EXPECT_EQ(o->vm.cmdline_base, "console=ttyS0 panic=-1 quiet");
  EXPECT_EQ(o->vm.work_dir, (t.path / "w" / "libvirt").string());
}

TEST(LibvirtOptions, BadValuesNameTheFileLineAndKey) {
  TempDir t;
  auto e = error_of("  uri: qemu+ssh://lab/system\n", t.path);
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.file, (t.path / "r.yaml").string());
  EXPECT_NE(e.message.find("uri must be a local QEMU connection"), std::string::npos) << e.message;
  e = error_of("  accel: hvf\n", t.path);
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("accel must be auto, kvm or tcg, not 'hvf'"), std::string::npos) << e.message;
  e = error_of("  name_prefix: \"a b\"\n", t.path);
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("name_prefix"), std::string::npos) << e.message;
  e = error_of("  emulator: /nonexistent/qemu\n", t.path);
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("emulator '/nonexistent/qemu' is not a file"), std::string::npos) << e.message;
  e = error_of("  cpus: 0\n", t.path);
  EXPECT_EQ(e.line, 4);
  e = error_of("  qemu_options: [-cpu, max]\n", t.path);  // a qemu-only key
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("qemu_options"), std::string::npos) << e.message;
  e = error_of("  urii: qemu:///system\n", t.path);
  EXPECT_NE(e.message.find("did you mean 'uri'"), std::string::npos) << e.message;
  e = error_of("  cmdline_base: quiet\n", t.path);
  EXPECT_NE(e.message.find("console=ttyS0"), std::string::npos) << e.message;
  e = error_of("  between_trials: restore\n", t.path);  // snapshots are the qemu target's
  EXPECT_EQ(e.line, 4);
  EXPECT_NE(e.message.find("a libvirt domain is reused or rebooted"), std::string::npos) << e.message;
}

TEST(LibvirtOptions, ADomainIsReusedUnlessTheRecipeSaysReboot) {
  TempDir t;
  auto d = parse("  memory: 256\n", t.path);
  ASSERT_TRUE(d.has_value()) << d.error().format();
  EXPECT_EQ(d->vm.between_trials, targets::QemuOptions::BetweenTrials::reuse);
  auto r = parse("  between_trials: reboot\n", t.path);
  ASSERT_TRUE(r.has_value()) << r.error().format();
  EXPECT_EQ(r->vm.between_trials, targets::QemuOptions::BetweenTrials::reboot);
}

TEST(LibvirtOptions, TheFactoryKnowsKindLibvirt) {
  TempDir t;
  auto node = util::load_yaml_string("target: {kind: libvirt, kernel: k, uri: 'xen:///'}\n", (t.path / "r.yaml").string());
  ASSERT_TRUE(node.has_value());
  auto target = targets::make_target((*node)["target"], {(t.path / "r.yaml").string(), t.path.string(), ""});
  ASSERT_FALSE(target.has_value());  // reached the libvirt parser
  EXPECT_NE(target.error().message.find("uri must be a local QEMU connection"), std::string::npos);
  auto typo = util::load_yaml_string("target: {kind: libvrt}\n", (t.path / "r.yaml").string());
  auto unknown = targets::make_target((*typo)["target"], {(t.path / "r.yaml").string(), t.path.string(), ""});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("did you mean 'libvirt'"), std::string::npos) << unknown.error().message;
}

TEST(LibvirtDomainXml, DirectKernelBootUnderTcgWithTheConsoleOnASocket) {
  TempDir t;
  auto o = parse("  memory: 2G\n  cpus: 2\n", t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  targets::VmBoot b{"tcg", "/k/vmlinuz", "/i/initramfs.cpio", "console=ttyS0 quiet", ""};
  std::string x = targets::domain_xml(*o, "kerntune-1-0", b, "/tmp/kerntune-1-0.sock");
  EXPECT_NE(x.find("<domain type='qemu'>"), std::string::npos) << x;
  EXPECT_NE(x.find("<name>kerntune-1-0</name>"), std::string::npos);
  EXPECT_NE(x.find("<memory unit='MiB'>2048</memory>"), std::string::npos);
  EXPECT_NE(x.find("<vcpu>2</vcpu>"), std::string::npos);
  EXPECT_NE(x.find("<kernel>/k/vmlinuz</kernel>"), std::string::npos);
  EXPECT_NE(x.find("<initrd>/i/initramfs.cpio</initrd>"), std::string::npos);
  EXPECT_NE(x.find("<cmdline>console=ttyS0 quiet</cmdline>"), std::string::npos);
  EXPECT_NE(x.find("<serial type='unix'>\n      <source mode='bind' path='/tmp/kerntune-1-0.sock'/>\n"
                   "      <target port='0'/>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<on_reboot>destroy</on_reboot>"), std::string::npos);  // panic=-1 ends the domain
  EXPECT_EQ(x.find("host-passthrough"), std::string::npos);                 // no host CPU under TCG
  EXPECT_EQ(x.find("<disk"), std::string::npos);
  EXPECT_EQ(x.find("<emulator>"), std::string::npos);  // libvirt's default
}

TEST(LibvirtDomainXml, KvmUsesTheHostCpuAndTheSwapDiskIsAVirtioDisk) {
  TempDir t;
  std::ofstream(t.path / "qemu-bin") << "x";
  auto o = parse("  emulator: qemu-bin\n", t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  targets::VmBoot b{"kvm", "/k", "/i", "console=ttyS0", "/w/swap-1.img"};
  std::string x = targets::domain_xml(*o, "n", b, "/s");
  EXPECT_NE(x.find("<domain type='kvm'>"), std::string::npos) << x;
  EXPECT_NE(x.find("<cpu mode='host-passthrough'/>"), std::string::npos);
  EXPECT_NE(x.find("<emulator>" + (t.path / "qemu-bin").string() + "</emulator>"), std::string::npos);
  EXPECT_NE(x.find("<source file='/w/swap-1.img'/>\n      <target dev='vda' bus='virtio'/>"), std::string::npos) << x;
  EXPECT_EQ(o->vm.memory, "512M");
  EXPECT_NE(x.find("<memory unit='MiB'>512</memory>"), std::string::npos);
}

TEST(LibvirtDomainXml, EveryValueIsEscaped) {
  EXPECT_EQ(kerntune::util::xml_escape(R"(a&b<c>d'e"f)"), "a&amp;b&lt;c&gt;d&apos;e&quot;f");
  TempDir t;
  auto o = parse("", t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  // A command line from a proposal that tries to close the element, and paths with quotes.
  targets::VmBoot b{"tcg", "/k's/<vmlinuz>", "/i\"&/x", "console=ttyS0 init=/bin/sh</cmdline><devices>", "/s'w"};
  std::string x = targets::domain_xml(*o, "n", b, "/tmp/a'b.sock");
  EXPECT_NE(x.find("<kernel>/k&apos;s/&lt;vmlinuz&gt;</kernel>"), std::string::npos) << x;
  EXPECT_NE(x.find("<initrd>/i&quot;&amp;/x</initrd>"), std::string::npos);
  EXPECT_NE(x.find("<cmdline>console=ttyS0 init=/bin/sh&lt;/cmdline&gt;&lt;devices&gt;</cmdline>"),
            std::string::npos);
  EXPECT_NE(x.find("path='/tmp/a&apos;b.sock'"), std::string::npos);
  EXPECT_NE(x.find("<source file='/s&apos;w'/>"), std::string::npos);
  EXPECT_EQ(count(x, "<devices>"), 1u);
  EXPECT_EQ(count(x, "</cmdline>"), 1u);
}
