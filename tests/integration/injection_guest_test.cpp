// No injection through the guest agent (issue 9, docs/hardening.md): the real
// agent script (the qemu guests' /init) run on this host by busybox behind a
// real GuestChannel. Knob paths, knob values and workload arguments holding
// spaces, quotes, ; | $() and backticks, newlines and non-UTF-8 bytes arrive
// byte for byte and nothing they spell is ever run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "targets/guest_agent.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;
namespace guest = kerntune::targets::guest;

namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

class GuestInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bb = util::which("busybox");
    ASSERT_TRUE(bb.has_value()) << "needs busybox (apt-get install busybox-static)";
    dir_ = fs::temp_directory_path() / ("kt-inject-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "tmp");
    auto list = util::run({.argv = {*bb, "--list"}});
    ASSERT_TRUE(list.has_value() && list->ok());
    for (auto& a : util::split(list->out, '\n'))
      if (!util::trim(a).empty()) fs::create_symlink(*bb, dir_ / "bin" / util::trim(a));
    ASSERT_TRUE(util::write_file((dir_ / "agent.sh").string(), guest::agent_script()).has_value());
    util::Child::Options o;
    o.argv = {*bb, "sh", (dir_ / "agent.sh").string()};
    o.env = {{"KT_AGENT_TEST", "1"},
             {"KT_AGENT_TMP", (dir_ / "tmp").string()},
             {"KT_AGENT_PATH", (dir_ / "bin").string()}};
    auto child = util::Child::spawn(o);
    ASSERT_TRUE(child.has_value()) << child.error().message;
    channel_ = std::make_unique<guest::GuestChannel>(std::move(*child));
    auto ready = channel_->wait_ready(20s);
    ASSERT_TRUE(ready.has_value()) << ready.error().message;
  }
  void TearDown() override {
    if (channel_) channel_->power_off(2s);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> hostile() const {
    return {"two words",
            "semi;colon; touch " + path("pwned-semi"),
            "pipe | touch " + path("pwned-pipe"),
            "$(touch " + path("pwned-subst") + ")",
            "`touch " + path("pwned-tick") + "`",
            "quote' \"double\" 'single",
            "new\nline\ntouch " + path("pwned-newline"),
            std::string("bytes \xff\xfe\x80 end"),
            "glob * ? [a-z] ~ {a,b}",
            "-n",
            ""};
  }
  void expect_no_side_effects() const {
    for (const char* f : {"pwned-semi", "pwned-pipe", "pwned-subst", "pwned-tick", "pwned-newline"})
      EXPECT_FALSE(fs::exists(dir_ / f)) << f << " was created: the agent ran a value";
  }

  fs::path dir_;
  std::unique_ptr<guest::GuestChannel> channel_;
};

}  // namespace

TEST_F(GuestInjection, WorkloadArgumentsArriveByteForByte) {
  // The script is ours and constant; every hostile string is only "$a".
  std::vector<std::string> argv = {"sh", "-c",
                                   "for a in \"$@\"; do printf '%s' \"$a\" | od -An -v -tx1 | tr -d ' \\n'; "
                                   "echo .; done",
                                   "sh"};
  auto args = hostile();
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = channel_->run(argv, 30, 30s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->output;
  std::string want;
  for (const auto& a : args) want += hex(a) + ".\n";
  EXPECT_EQ(r->output, want);
  expect_no_side_effects();
}

TEST_F(GuestInjection, KnobValuesWithAnyBytesAreWrittenLiterally) {
  ASSERT_TRUE(util::write_file(path("knob"), "0\n").has_value());
  for (const auto& v : hostile()) {
    SCOPED_TRACE(hex(v));
    auto w = channel_->write(path("knob"), v, 20s);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    EXPECT_EQ(w->rc, 0) << w->message;
    EXPECT_EQ(util::read_file(path("knob")).value_or("?"), v);
    EXPECT_EQ(w->readback, v);
  }
  expect_no_side_effects();
}

TEST_F(GuestInjection, KnobPathsWithShellSyntaxAreOnlyPaths) {
  // A file whose name is shell syntax is written as that file; a path that
  // spells a command never runs it.
  const std::string odd = path("knob $(touch " + path("pwned-subst") + "); `touch " + path("pwned-tick") + "` 'q'");
  fs::create_directories(fs::path(odd).parent_path());  // its '/' make folders with odd names
  ASSERT_TRUE(util::write_file(odd, "0").has_value());
  auto w = channel_->write(odd, "42", 20s);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->rc, 0) << w->message;
  EXPECT_EQ(util::read_file(odd).value_or("?"), "42");
  auto missing = channel_->write(path("nothing; touch " + path("pwned-semi")), "1", 20s);
  ASSERT_TRUE(missing.has_value()) << missing.error().message;
  EXPECT_NE(missing->rc, 0);
  auto rd = channel_->read(path("x\n; touch " + path("pwned-newline")), 20s);
  ASSERT_TRUE(rd.has_value()) << rd.error().message;
  EXPECT_NE(rd->rc, 0);
  expect_no_side_effects();
}
