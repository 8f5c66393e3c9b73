#include "kerntune/util/subprocess.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace kerntune::util;
using namespace std::chrono_literals;

TEST(Run, CapturesOutputAndExitCode) {
  auto r = run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->describe(), "exit code 3");
}

TEST(Run, ArgumentsAreNeverInterpretedByAShell) {
  std::string marker = (std::filesystem::temp_directory_path() / "kt-pwned-marker").string();
  std::filesystem::remove(marker);
  std::string evil = "$(touch " + marker + "); `touch " + marker + "` ; touch " + marker + " | x\n'\"";
  auto r = run({.argv = {"printf", "%s", evil}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, evil);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(Run, TimeoutKillsTheWholeProcessGroup) {
  // The child forks a grandchild that would outlive a plain kill of the child.
  auto t0 = std::chrono::steady_clock::now();
  auto r = run({.argv = {"sh", "-c", "sleep 30 & sleep 30; echo never"}, .timeout = 300ms});
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->out, "");
  EXPECT_LT(took, 10s);
  EXPECT_NE(r->describe().find("timed out"), std::string::npos);
}

TEST(Run, FeedsStdin) {
  RunOptions o;
  o.argv = {"cat"};
  o.stdin_data = std::string(200000, 'x');  // larger than a pipe buffer
  auto r = run(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.size(), 200000u);
}

TEST(Run, MissingProgramIsAnError) {
  auto r = run({.argv = {"kerntune-no-such-program-xyz"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not found"), std::string::npos);
}

TEST(Run, EnvironmentAndWorkingDirectory) {
  RunOptions o;
  o.argv = {"sh", "-c", "printf '%s %s' \"$KT_TEST_VAR\" \"$(pwd)\""};
  o.env["KT_TEST_VAR"] = "a b;c";
  o.cwd = "/tmp";
  auto r = run(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "a b;c /tmp");
}

TEST(Run, SignalIsReported) {
  auto r = run({.argv = {"sh", "-c", "kill -9 $$"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_FALSE(r->ok());
}

TEST(Child, TalksOverPipesAndTerminates) {
  auto c = Child::spawn({.argv = {"cat"}});
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->write_all("hello\n"));
  std::string got;
  for (int i = 0; i < 50 && got.find('\n') == std::string::npos; ++i) {
    auto chunk = c->read_some(100ms);
    ASSERT_TRUE(chunk.has_value());
    got += *chunk;
  }
  EXPECT_EQ(got, "hello\n");
  EXPECT_TRUE(c->running());
  c->terminate(1000ms);
  EXPECT_FALSE(c->running());
  EXPECT_EQ(c->term_signal(), SIGTERM);
}

TEST(Which, FindsProgramsInPath) {
  EXPECT_TRUE(which("sh").has_value());
  EXPECT_FALSE(which("kerntune-no-such-program-xyz").has_value());
}
