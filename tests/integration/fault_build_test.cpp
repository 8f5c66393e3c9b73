// Fault injection in a kernel build (issue 9, docs/hardening.md): SIGTERM
// arrives while the Builder runs `make bzImage`. The build stops (make and its
// children are killed, well before the build would have ended), the result is
// not a cache entry, and once the stop is cleared the same proposal builds
// from scratch into a complete, cached image. A stand-in kernel tree (a real
// Kconfig parsed by kerntune, a Makefile whose bzImage target writes a partial
// image and then takes a long time), so the test runs in seconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "kerntune/kbuild/builder.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"
#include "cli.hpp"

namespace fs = std::filesystem;
namespace kb = kerntune::kbuild;
using namespace kerntune;
using namespace std::chrono_literals;

namespace {

const char* kKconfig = R"K(mainmenu "Stand-in kernel"
config BASE
	bool "base"
	default y
config LEVEL
	int "level"
	range 1 10
	default 3
)K";

// bzImage: a partial image first, then (while the tree holds SLOW) a long
// "compile" whose shell pid is recorded, then the complete image.
const char* kMakefile =
    "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -standin\n"
    ".PHONY: tinyconfig olddefconfig bzImage\n"
    "tinyconfig:\n\tmkdir -p $(O)\n\tprintf 'CONFIG_BASE=y\\nCONFIG_LEVEL=3\\n' > $(O)/.config\n"
    "olddefconfig:\n\ttrue\n"
    "bzImage:\n"
    "\tmkdir -p $(O)/arch/x86/boot\n"
    "\techo partial > $(O)/arch/x86/boot/bzImage\n"
    "\tif [ -f $(CURDIR)/SLOW ]; then echo $$$$ > $(O)/compile.pid; sleep 60; fi\n"
    "\tcp $(O)/.config $(O)/arch/x86/boot/bzImage\n"
    "\techo complete >> $(O)/arch/x86/boot/bzImage\n";

bool alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// The first file called `name` under `root` (the build's O= folder lives in
// the cache folder), or an empty path; files appearing meanwhile are fine.
fs::path find_file(const fs::path& root, const std::string& name) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->path().filename() == name) return it->path();
  return {};
}

}  // namespace

TEST(FaultBuild, SigtermStopsTheBuildAndLeavesNoCacheEntry) {
  kt_test::TempDir dir;
  const fs::path tree = dir.path / "linux";
  fs::create_directories(tree / "scripts" / "kconfig");
  kt_test::write((tree / "Kconfig").string(), kKconfig);
  kt_test::write((tree / "Makefile").string(), kMakefile);
  kt_test::write((tree / "SLOW").string(), "");

  kb::BuilderConfig c;
  c.source.kind = kb::SourceSpec::Kind::path;
  c.source.location = tree.string();
  c.cache_dir = dir / "cache";
  c.jobs = 1;
  c.ccache = false;
  c.build_timeout = 5min;
  auto b = kb::Builder::create(c);
  ASSERT_TRUE(b) << b.error().format();

  util::install_stop_handlers();
  util::reset_stop();
  const space::Assignment proposal = {{"LEVEL", 7LL}};
  auto t0 = std::chrono::steady_clock::now();
  auto pending = std::async(std::launch::async, [&] { return b->build(proposal); });

  // Wait until the "compile" runs, then SIGTERM this process (as a user's
  // kill or a CI timeout would; the stop handler turns it into a request).
  fs::path pid_file;
  for (auto end = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < end;) {
    pid_file = find_file(c.cache_dir, "compile.pid");
    std::error_code ec;
    if (!pid_file.empty() && fs::file_size(pid_file, ec) > 0 && !ec) break;
    ASSERT_EQ(pending.wait_for(100ms), std::future_status::timeout) << "the build ended before it was stopped";
  }
  ASSERT_FALSE(pid_file.empty()) << "the build never started compiling";
  const int compile_pid = std::stoi(util::read_file(pid_file.string()).value_or("0"));
  ASSERT_TRUE(alive(compile_pid));
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);

  ASSERT_EQ(pending.wait_for(30s), std::future_status::ready) << "SIGTERM did not stop the build";
  auto stopped = pending.get();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 50.0) << "the build ran to its end instead of stopping";
  // A stop is an Error of kind interrupted (or at least not a successful build).
  if (stopped) {
    EXPECT_FALSE(stopped->ok) << "an interrupted build was reported as built";
  } else {
    EXPECT_EQ(stopped.error().kind, util::Error::Kind::interrupted) << stopped.error().format();
  }
  for (int i = 0; i < 50 && alive(compile_pid); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(alive(compile_pid)) << "make's children outlived the stop";
  EXPECT_EQ(b->cache().entries(), 0u) << "the interrupted build became a cache entry";

  // The stop cleared, the same proposal builds completely and is cached; the
  // partial image is never served.
  util::reset_stop();
  fs::remove(tree / "SLOW");
  auto again = b->build(proposal);
  ASSERT_TRUE(again) << again.error().format();
  ASSERT_TRUE(again->ok) << again->reason;
  EXPECT_FALSE(again->cache_hit) << "the interrupted build was served from the cache";
  auto image = util::read_file(again->kernel_image);
  ASSERT_TRUE(image);
  EXPECT_NE(image->find("complete"), std::string::npos) << *image;
  EXPECT_EQ(image->find("partial"), std::string::npos) << *image;
  EXPECT_EQ(b->cache().entries(), 1u);
}
