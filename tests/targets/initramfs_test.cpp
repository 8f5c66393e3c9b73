// The initramfs builder against real files: the host's ldd and programs, the
// kernel modules fetched by scripts/fetch-kernel, and the archive listed by
// the real `cpio` tool.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "kerntune/targets/initramfs.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace fs = std::filesystem;
using namespace kerntune;

namespace {

fs::path temp_dir() {
  auto p = fs::temp_directory_path() /
           ("kt-initramfs-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// "cpio -t" listing of an archive (real tool, reads stdin).
std::vector<std::string> cpio_list(const std::string& archive) {
  auto bytes = util::read_file(archive);
  EXPECT_TRUE(bytes.has_value());
  util::RunOptions o;
  o.argv = {"cpio", "-t", "--quiet"};
  o.stdin_data = bytes.value_or("");
  auto r = util::run(o);
  EXPECT_TRUE(r.has_value() && r->ok()) << (r ? r->err : r.error().message);
  std::vector<std::string> out;
  if (r) {
    for (auto& l : util::split(r->out, '\n'))
      if (!l.empty()) out.push_back(l);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string release_dir() {
  auto k = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  if (!k) return {};
  return targets::modules_dir_for_kernel(*k).value_or("");
}

}  // namespace

TEST(Cpio, ArchiveIsReadByTheRealCpioTool) {
  targets::CpioWriter w;
  w.add_dir("etc");
  w.add_file("etc/motd", "hi\n");
  w.add_symlink("etc/link", "/etc/motd");
  w.add_char_device("console", 5, 1);
  auto dir = temp_dir();
  auto path = (dir / "a.cpio").string();
  ASSERT_TRUE(util::write_file(path, w.finish()).has_value());
  auto list = cpio_list(path);
  EXPECT_EQ(list, (std::vector<std::string>{"etc", "etc/motd", "etc/link", "console"}));
  util::RunOptions o;
  o.argv = {"cpio", "-i", "--quiet", "--to-stdout", "etc/motd"};
  o.stdin_data = util::read_file(path).value_or("");
  auto r = util::run(o);
  ASSERT_TRUE(r.has_value() && r->ok());
  EXPECT_EQ(r->out, "hi\n");
  fs::remove_all(dir);
}

TEST(SharedLibraries, FoundAsLddFindsThemWithTheLoader) {
  auto sh = util::which("hackbench");
  ASSERT_TRUE(sh.has_value()) << "hackbench (rt-tests) is needed for this test";
  auto libs = targets::shared_libraries(*sh);
  ASSERT_TRUE(libs.has_value()) << libs.error().message;
  bool libc = false, loader = false;
  for (const auto& l : *libs) {
    EXPECT_TRUE(fs::exists(l)) << l;
    if (l.find("libc.so.6") != std::string::npos) libc = true;
    if (l.find("ld-linux") != std::string::npos) loader = true;
  }
  EXPECT_TRUE(libc);
  EXPECT_TRUE(loader);
  auto bb = util::which("busybox");
  ASSERT_TRUE(bb.has_value());
  auto none = targets::shared_libraries(*bb);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty()) << "busybox should be static (busybox-static)";
}

TEST(Modules, DependenciesComeFirstFromModinfo) {
  std::string rel = release_dir();
  ASSERT_FALSE(rel.empty()) << "no kernel modules: run scripts/fetch-kernel";
  // tcp_bbr has no dependencies; xfrm_user needs xfrm_algo (6.1 .modinfo depends=).
  auto mods = targets::resolve_modules({"tcp-bbr", "xfrm_user"}, rel);
  ASSERT_TRUE(mods.has_value()) << mods.error().message;
  std::vector<std::string> names;
  for (const auto& m : *mods) {
    names.push_back(m.name);
    EXPECT_TRUE(fs::exists(m.path)) << m.path;
  }
  ASSERT_TRUE(has(names, "tcp_bbr"));
  ASSERT_TRUE(has(names, "xfrm_user"));
  ASSERT_TRUE(has(names, "xfrm_algo"));
  auto pos = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(pos("xfrm_algo"), pos("xfrm_user"));
  auto missing = targets::resolve_modules({"no_such_module_kt"}, rel);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no_such_module_kt"), std::string::npos);
}

TEST(Initramfs, HoldsBusyboxProgramsLibrariesModulesAndTheAgent) {
  std::string rel = release_dir();
  ASSERT_FALSE(rel.empty()) << "no kernel modules: run scripts/fetch-kernel";
  auto dir = temp_dir();
  targets::InitramfsSpec spec;
  spec.binaries = {"hackbench"};
  spec.modules = {"tcp_bbr"};
  spec.modules_release_dir = rel;
  spec.extra_files = {{"etc/kt-test.conf", "x=1\n"}};
  auto ir = targets::build_initramfs(spec, dir.string());
  ASSERT_TRUE(ir.has_value()) << ir.error().message;
  EXPECT_FALSE(ir->cached);
  EXPECT_GT(ir->bytes, 1000000u);
  auto list = cpio_list(ir->path);
  for (const char* want : {"init", "bin/busybox", "bin/sh", "usr/bin/hackbench", "lib64/ld-linux-x86-64.so.2",
                           "lib/x86_64-linux-gnu/libc.so.6", "etc/passwd", "etc/kerntune/modules",
                           "etc/kt-test.conf", "dev/console"})
    EXPECT_TRUE(has(list, want)) << want;
  std::string release = fs::path(rel).filename().string();
  EXPECT_TRUE(has(list, "lib/modules/" + release + "/kernel/net/ipv4/tcp_bbr.ko"));
  // Parents precede children, as the kernel's unpacker needs.
  auto pos = [&](const std::string& n) { return std::find(list.begin(), list.end(), n) - list.begin(); };
  EXPECT_LT(pos("usr"), pos("usr/bin"));
  EXPECT_LT(pos("usr/bin"), pos("usr/bin/hackbench"));

  // Same inputs: the cached archive; different inputs: another one.
  auto again = targets::build_initramfs(spec, dir.string());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->path, ir->path);
  spec.modules.clear();
  auto other = targets::build_initramfs(spec, dir.string());
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->hash, ir->hash);
  fs::remove_all(dir);
}

TEST(Initramfs, MissingProgramIsAnError) {
  auto dir = temp_dir();
  targets::InitramfsSpec spec;
  spec.binaries = {"no-such-program-kt"};
  auto ir = targets::build_initramfs(spec, dir.string());
  ASSERT_FALSE(ir.has_value());
  EXPECT_NE(ir.error().message.find("no-such-program-kt"), std::string::npos);
  fs::remove_all(dir);
}
