// The real guest agent script, run on this host by busybox (KT_AGENT_TEST=1:
// no mounts, no tty setup) behind a real GuestChannel: the protocol end to
// end without a VM. The same script is /init in the qemu guests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "targets/guest_agent.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;
namespace guest = kerntune::targets::guest;

namespace {

class AgentOnHost : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bb = util::which("busybox");
    ASSERT_TRUE(bb.has_value()) << "these tests need busybox (apt-get install busybox-static)";
    dir_ = fs::temp_directory_path() /
           ("kt-agent-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "tmp");
    // A PATH of busybox applets only, as in the guest.
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
    o.merge_stderr = true;
    auto child = util::Child::spawn(o);
    ASSERT_TRUE(child.has_value()) << child.error().message;
    channel_ = std::make_unique<guest::GuestChannel>(std::move(*child));
    auto ready = channel_->wait_ready(10s);
    ASSERT_TRUE(ready.has_value()) << ready.error().message;
  }
  void TearDown() override {
    if (channel_) channel_->power_off(2s);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::unique_ptr<guest::GuestChannel> channel_;
};

}  // namespace

TEST_F(AgentOnHost, WriteStoresTheValueLiterallyAndReadsItBack) {
  ASSERT_TRUE(util::write_file(path("knob"), "0\n").has_value());
  std::string hostile = "a'\"b; $(touch " + path("pwned") + ") `touch " + path("pwned2") + "`\nrm -rf / %s %n \\";
  auto w = channel_->write(path("knob"), hostile, 10s, /*keep_old=*/true);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->rc, 0) << w->message;
  EXPECT_EQ(w->readback, hostile);
  ASSERT_TRUE(w->old.has_value());
  EXPECT_EQ(*w->old, "0\n");  // the content before the write
  auto w2 = channel_->write(path("knob"), "1", 10s);
  ASSERT_TRUE(w2.has_value());
  EXPECT_FALSE(w2->old.has_value());  // not asked for
  ASSERT_TRUE(util::write_file(path("knob"), hostile).has_value());
  EXPECT_EQ(util::read_file(path("knob")).value_or(""), hostile);
  EXPECT_FALSE(fs::exists(path("pwned")));
  EXPECT_FALSE(fs::exists(path("pwned2")));
}

TEST_F(AgentOnHost, WriteReportsAMissingFile) {
  auto w = channel_->write(path("no-such-knob"), "1", 10s);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->rc, 2);
  EXPECT_NE(w->message.find("no-such-knob"), std::string::npos);
}

TEST_F(AgentOnHost, WriteReportsARefusedValue) {
  // A folder cannot be written: the shell's error comes back as the reason.
  fs::create_directories(dir_ / "adir");
  auto w = channel_->write(path("adir"), "1", 10s);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->rc, 1);
  EXPECT_FALSE(w->message.empty());
  // A value the kernel refuses (EINVAL, or EROFS in a container): the value that
  // stayed in force comes back with the refusal, in the same round trip.
  const std::string knob = "/proc/sys/vm/swappiness";
  auto before = util::read_file(knob);
  ASSERT_TRUE(before.has_value());
  auto r = channel_->write(knob, "not-a-number", 10s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->rc, 1) << r->message;
  EXPECT_FALSE(r->message.empty());
  EXPECT_EQ(r->readback, *before);
}

TEST_F(AgentOnHost, EmptyValueAndTrailingNewlinesSurvive) {
  ASSERT_TRUE(util::write_file(path("knob"), "x").has_value());
  auto w = channel_->write(path("knob"), "", 10s);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->rc, 0);
  EXPECT_EQ(util::read_file(path("knob")).value_or("?"), "");
  w = channel_->write(path("knob"), "v\n\n", 10s);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(util::read_file(path("knob")).value_or("?"), "v\n\n");
}

TEST_F(AgentOnHost, RunPassesArgvLiterallyAndReturnsExitCodeAndOutput) {
  std::string tricky = "x y;$(touch " + path("pwned") + ")'\"*\n";
  auto r = channel_->run({"sh", "-c", "printf '[%s]' \"$1\"; echo; echo err >&2; exit 3", "sh", tricky}, 20, 10s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->output, "[" + tricky + "]\nerr\n");
  EXPECT_FALSE(fs::exists(path("pwned")));
  // The guest-wide counters are read from this host's /proc here.
  EXPECT_GT(r->mem_available_min_kb, 0);
  EXPECT_GT(r->cached_kb, 0);
  EXPECT_GE(r->ctxt, 0);
}

TEST_F(AgentOnHost, RunKillsTheWholeProcessGroupAtTheTimeout) {
  auto t0 = std::chrono::steady_clock::now();
  // The child sleeps in a grandchild too: both must die.
  auto r = channel_->run({"sh", "-c", "sleep 97.25 & echo started; sleep 97.25"}, 1, 10s);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 137);
  EXPECT_EQ(r->output, "started\n");
  EXPECT_LT(took, 8.0);
  // The agent answers again right away.
  auto again = channel_->run({"echo", "ok"}, 5, 10s);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->output, "ok\n");
  auto ps = util::run({.argv = {"pgrep", "-f", "sleep 97.25"}});
  ASSERT_TRUE(ps.has_value());
  EXPECT_TRUE(util::trim(ps->out).empty()) << "left behind: " << ps->out;
}

TEST_F(AgentOnHost, ReadReturnsContentOrError) {
  ASSERT_TRUE(util::write_file(path("f"), "hello\n").has_value());
  auto r = channel_->read(path("f"), 10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rc, 0);
  EXPECT_EQ(r->payload, "hello\n");
  auto missing = channel_->read(path("nope"), 10s);
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->rc, 0);
}

TEST_F(AgentOnHost, HostTimeoutWhenTheAgentDoesNotAnswer) {
  // The guest would kill the command after 3 s; the host gives up after 0.5 s.
  auto slow = channel_->call("run", {"3", "sleep", "5"}, 500ms);
  ASSERT_FALSE(slow.has_value());
  EXPECT_EQ(slow.error().kind, guest::ChannelError::Kind::timeout);
}

TEST_F(AgentOnHost, UnknownVerbAndOverlongCommand) {
  auto r = channel_->call("frobnicate", {}, 10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rc, 127);
  auto big = channel_->write(path("knob"), std::string(5000, 'a'), 10s);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().kind, guest::ChannelError::Kind::protocol);
}
