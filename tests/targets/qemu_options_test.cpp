// The qemu target's recipe keys: defaults, validation with located errors and
// did-you-mean, kernel lookup, and the QEMU argv (real files in a temp folder).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/yaml.hpp"

namespace fs = std::filesystem;
using namespace kerntune;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("kt-qemu-opt-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

util::Result<targets::QemuOptions> parse(const std::string& yaml, const fs::path& dir) {
  auto node = util::load_yaml_string(yaml, (dir / "recipe.yaml").string());
  if (!node) return std::unexpected(node.error());
  targets::TargetContext ctx{(dir / "recipe.yaml").string(), dir.string(), (dir / "work").string()};
  return targets::parse_qemu_options((*node)["target"], ctx);
}

}  // namespace

TEST(QemuOptions, DefaultsAndRelativeKernel) {
  TempDir t;
  touch(t.path / "images" / "bzImage");
  auto o = parse("target:\n  kind: qemu\n  kernel: images/bzImage\n", t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  EXPECT_EQ(o->kernel, (t.path / "images" / "bzImage").string());
  EXPECT_EQ(o->memory, "512M");
  EXPECT_EQ(o->cpus, 1);
  EXPECT_EQ(o->accel, "auto");
  EXPECT_EQ(o->boot_timeout, std::chrono::seconds(60));
  EXPECT_EQ(o->cmdline_base, "console=ttyS0 panic=-1 quiet");
  EXPECT_EQ(o->work_dir, (t.path / "work" / "qemu").string());
}

TEST(QemuOptions, AllKeys) {
  TempDir t;
  touch(t.path / "k");
  fs::create_directories(t.path / "mods");
  auto o = parse(
      "target:\n  kind: qemu\n  kernel: k\n  modules_dir: mods\n  memory: 1024\n  cpus: 2\n  accel: tcg\n"
      "  qemu_options: [-cpu, max]\n  boot_timeout: 90s\n  cmdline_base: console=ttyS0 panic=-1\n",
      t.path);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  EXPECT_EQ(o->memory, "1024M");
  EXPECT_EQ(o->cpus, 2);
  EXPECT_EQ(o->accel, "tcg");
  EXPECT_EQ(o->boot_timeout, std::chrono::seconds(90));
  EXPECT_EQ(o->modules_dir, (t.path / "mods").string());
  auto argv = targets::qemu_argv(*o, "tcg", "K", "I", "console=ttyS0 a=b");
  auto at = [&](const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? std::string() : *(it + 1);
  };
  EXPECT_EQ(at("-m"), "1024M");
  EXPECT_EQ(at("-smp"), "2");
  EXPECT_EQ(at("-accel"), "tcg,thread=multi");
  EXPECT_EQ(at("-kernel"), "K");
  EXPECT_EQ(at("-initrd"), "I");
  EXPECT_EQ(at("-append"), "console=ttyS0 a=b");  // one argument, never split by a shell
  EXPECT_EQ(at("-serial"), "stdio");
  EXPECT_EQ(argv[argv.size() - 2], "-cpu");
  EXPECT_EQ(argv.back(), "max");
}

TEST(QemuOptions, MissingKernelIsLocatedAtTheKey) {
  TempDir t;
  auto o = parse("target:\n  kind: qemu\n  kernel: /nonexistent/vmlinuz\n", t.path);
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().line, 3);
  EXPECT_NE(o.error().message.find("/nonexistent/vmlinuz"), std::string::npos);
  EXPECT_NE(o.error().message.find("fetch-kernel"), std::string::npos);
}

TEST(QemuOptions, UnknownKeyGetsDidYouMean) {
  TempDir t;
  touch(t.path / "k");
  auto o = parse("target:\n  kind: qemu\n  kernel: k\n  memroy: 1G\n", t.path);
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().line, 4);
  EXPECT_NE(o.error().message.find("did you mean 'memory'"), std::string::npos) << o.error().message;
}

TEST(QemuOptions, BadValuesAreRefused) {
  TempDir t;
  touch(t.path / "k");
  EXPECT_FALSE(parse("target:\n  kind: qemu\n  kernel: k\n  accel: hvf\n", t.path).has_value());
  EXPECT_FALSE(parse("target:\n  kind: qemu\n  kernel: k\n  cpus: 0\n", t.path).has_value());
  EXPECT_FALSE(parse("target:\n  kind: qemu\n  kernel: k\n  memory: lots\n", t.path).has_value());
  EXPECT_FALSE(parse("target:\n  kind: qemu\n  kernel: k\n  boot_timeout: soon\n", t.path).has_value());
  EXPECT_FALSE(parse("target:\n  kind: qemu\n  kernel: k\n  qemu_options: -cpu max\n", t.path).has_value());
  auto o = parse("target:\n  kind: qemu\n  kernel: k\n  cmdline_base: quiet\n", t.path);
  ASSERT_FALSE(o.has_value());
  EXPECT_NE(o.error().message.find("console=ttyS0"), std::string::npos);
}

TEST(QemuOptions, DefaultKernelIsFoundAboveTheRecipe) {
  TempDir t;
  touch(t.path / ".cache" / "kernel" / "vmlinuz");
  fs::create_directories(t.path / "recipes" / "deep");
  ::unsetenv("KERNTUNE_KERNEL");
  ::unsetenv("KERNTUNE_KERNEL_DIR");
  auto k = targets::default_kernel({(t.path / "recipes" / "deep").string()});
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(fs::canonical(*k), fs::canonical(t.path / ".cache" / "kernel" / "vmlinuz"));
}

TEST(QemuOptions, WithoutAKernelYetTheRecipeParsesAndTheTargetLooksAgainWhenMade) {
  // A recipe `kerntune init` wrote before scripts/fetch-kernel ran: parsing
  // it is no error; making the target is, until .cache/kernel/ has an image.
  TempDir t;
  ::unsetenv("KERNTUNE_KERNEL");
  ::unsetenv("KERNTUNE_KERNEL_DIR");
  const fs::path cwd = fs::current_path();
  fs::current_path(t.path);  // the search also starts at the current folder
  const std::string file = (t.path / "recipe.yaml").string();
  auto node = util::load_yaml_string("name: n\ntarget:\n  kind: qemu\n  accel: tcg\n", file);
  ASSERT_TRUE(node.has_value());
  targets::TargetContext ctx{file, t.path.string(), (t.path / "w").string()};
  auto spec = targets::parse_target((*node)["target"], ctx);
  ASSERT_TRUE(spec.has_value()) << spec.error().format();
  EXPECT_FALSE(spec->portable()["kernel"]) << "no kernel found here travels as none";
  auto none = spec->make(ctx);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, util::Error::Kind::invalid_input);
  EXPECT_EQ(none.error().file, file);
  EXPECT_EQ(none.error().line, 3) << none.error().format();
  EXPECT_NE(none.error().message.find("no kernel image"), std::string::npos) << none.error().format();
  touch(t.path / ".cache" / "kernel" / "vmlinuz");
  auto made = spec->make(ctx);
  fs::current_path(cwd);
  ASSERT_TRUE(made.has_value()) << made.error().format();
  EXPECT_EQ((*made)->kind(), "qemu");
}

TEST(QemuOptions, ModulesDirBesideAnUnpackedKernel) {
  TempDir t;
  touch(t.path / "root" / "boot" / "vmlinuz-6.1.0-99-amd64");
  fs::create_directories(t.path / "root" / "lib" / "modules" / "6.1.0-99-amd64");
  fs::create_symlink(t.path / "root" / "boot" / "vmlinuz-6.1.0-99-amd64", t.path / "vmlinuz");
  auto d = targets::modules_dir_for_kernel((t.path / "vmlinuz").string());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(fs::path(*d).filename(), "6.1.0-99-amd64");
}

TEST(QemuOptions, FactoryKnowsKindQemu) {
  TempDir t;
  touch(t.path / "k");
  auto node = util::load_yaml_string("target:\n  kind: qemu\n  kernel: k\n  accel: tcg\n", "r.yaml");
  ASSERT_TRUE(node.has_value());
  targets::TargetContext ctx{"r.yaml", t.path.string(), (t.path / "w").string()};
  auto target = targets::make_target((*node)["target"], ctx);
  ASSERT_TRUE(target.has_value()) << target.error().format();
  EXPECT_EQ((*target)->kind(), "qemu");
}

TEST(QemuOptions, SwapDiskAndBetweenTrials) {
  using B = targets::QemuOptions::BetweenTrials;
  TempDir t;
  touch(t.path / "k");
  auto d = parse("target:\n  kind: qemu\n  kernel: k\n", t.path);
  ASSERT_TRUE(d) << d.error().format();
  EXPECT_EQ(d->swap_disk, "");
  EXPECT_EQ(d->between_trials, B::restore);  // the default: a snapshot of the booted VM
  auto o = parse("target:\n  kind: qemu\n  kernel: k\n  swap_disk: 256M\n  reuse_vm: false\n", t.path);
  ASSERT_TRUE(o) << o.error().format();
  EXPECT_EQ(o->swap_disk, "256M");
  EXPECT_EQ(o->between_trials, B::reboot);
  auto r = parse("target:\n  kind: qemu\n  kernel: k\n  reuse_vm: true\n", t.path);
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(r->between_trials, B::reuse);
  for (auto [text, want] : {std::pair{"restore", B::restore}, std::pair{"reuse", B::reuse}, std::pair{"reboot", B::reboot}}) {
    auto b = parse(std::string("target:\n  kind: qemu\n  kernel: k\n  between_trials: ") + text + "\n", t.path);
    ASSERT_TRUE(b) << b.error().format();
    EXPECT_EQ(b->between_trials, want) << text;
    EXPECT_EQ(targets::to_string(b->between_trials), text);
  }
  auto unknown = parse("target:\n  kind: qemu\n  kernel: k\n  between_trials: resume\n", t.path);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().format().find("recipe.yaml:4:"), std::string::npos) << unknown.error().format();
  EXPECT_NE(unknown.error().format().find("between_trials must be restore, reuse or reboot, not 'resume'"),
            std::string::npos)
      << unknown.error().format();
  auto both = parse("target:\n  kind: qemu\n  kernel: k\n  between_trials: reuse\n  reuse_vm: true\n", t.path);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().format().find("recipe.yaml:5:"), std::string::npos) << both.error().format();
  auto bad = parse("target:\n  kind: qemu\n  kernel: k\n  swap_disk: 256\n", t.path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().format().find("swap_disk must look like 256M or 1G, not '256'"), std::string::npos)
      << bad.error().format();
  auto notbool = parse("target:\n  kind: qemu\n  kernel: k\n  reuse_vm: sometimes\n", t.path);
  ASSERT_FALSE(notbool);
  EXPECT_NE(notbool.error().format().find("recipe.yaml:4:"), std::string::npos) << notbool.error().format();
}
