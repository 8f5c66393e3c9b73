// The ssh target's remote command strings, checked with real shells on this
// host (dash as /bin/sh, bash, busybox sh): shell_quote() makes any value one
// literal word; upload/exists/agent commands built with hostile folder names
// do exactly what they say and nothing else. Plus recipe parsing, the ssh
// argv and the bzImage version reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "targets/guest_agent.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "targets/ssh_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;
using targets::shell_quote;

namespace {

// Values a hostile or careless recipe could hold.
std::vector<std::string> hostile() {
  return {"plain",
          "",
          "with space",
          "it's",
          "''",
          "a'b'c'",
          "semi;colon; touch /tmp/kt-pwned",
          "pipe | cat /etc/passwd",
          "$(touch /tmp/kt-pwned)",
          "`touch /tmp/kt-pwned`",
          "line1\nline2\n",
          "\\backslash\\",
          "\"double\"",
          "$HOME ${PATH} $1 $@ $$",
          "glob * ? [a-z]",
          "&& || & > < >> 2>&1",
          "-n",
          "--help",
          "~root",
          std::string("non-utf8 \xff\xfe\x80 bytes"),
          std::string("\x01\x1b[31mescape\t\r")};
}

std::vector<std::vector<std::string>> shells() {
  std::vector<std::vector<std::string>> out = {{"/bin/sh"}};
  if (auto b = util::which("bash")) out.push_back({*b});
  if (auto b = util::which("busybox")) out.push_back({*b, "sh"});
  return out;
}

util::RunResult sh(const std::vector<std::string>& shell, const std::string& script,
                   std::optional<std::string> in = std::nullopt) {
  util::RunOptions o;
  o.argv = shell;
  o.argv.insert(o.argv.end(), {"-c", script});
  o.stdin_data = std::move(in);
  o.timeout = 30s;
  auto r = util::run(o);
  EXPECT_TRUE(r.has_value());
  return r ? *r : util::RunResult{};
}

TEST(ShellQuote, EveryHostileValueComesBackByteForByteFromEveryShell) {
  fs::remove("/tmp/kt-pwned");
  for (const auto& shell : shells()) {
    for (const auto& v : hostile()) {
      auto r = sh(shell, "printf '%s' " + shell_quote(v));
      EXPECT_TRUE(r.ok()) << shell[0] << ": " << r.err;
      EXPECT_EQ(r.out, v) << shell[0] << " mangled: " << v;
      // As one word among others: exactly one argument.
      auto n = sh(shell, "set -- x " + shell_quote(v) + " y; printf '%s' \"$#:$2\"");
      EXPECT_EQ(n.out, "3:" + v) << shell[0];
    }
  }
  EXPECT_FALSE(fs::exists("/tmp/kt-pwned")) << "a quoted value ran as code";
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_THROW(shell_quote(std::string("nul\0byte", 8)), std::invalid_argument);
}

class RemoteCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kt-ssh-quote-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    fs::remove("/tmp/kt-pwned");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
    EXPECT_FALSE(fs::exists("/tmp/kt-pwned")) << "a remote command ran a value as code";
  }
  fs::path root_;
};

TEST_F(RemoteCommands, UploadAndExistsTakeHostilePathsLiterally) {
  int n = 0;
  for (const auto& shell : shells()) {
    fs::path shell_root = root_ / ("shell" + std::to_string(n++));  // one folder per shell
    for (std::string name : std::vector<std::string>{"a b", "it's", "$(touch /tmp/kt-pwned)", "`touch /tmp/kt-pwned`", "x;touch /tmp/kt-pwned",
                             "nl\nname", "-rf", std::string("\xff\xfe")}) {
      fs::path dir = shell_root / ("d " + name);
      std::string path = (dir / ("f " + name)).string();
      std::string content = "payload " + name + std::string("\0\x01", 2);
      auto absent = sh(shell, targets::ssh::exists_command(path));
      EXPECT_EQ(util::trim(absent.out), "absent") << shell[0] << " " << name;
      auto up = sh(shell, targets::ssh::upload_command(path), content);
      ASSERT_TRUE(up.ok()) << shell[0] << " " << name << ": " << up.err;
      EXPECT_EQ(util::read_file(path).value_or("?"), content);
      EXPECT_EQ(fs::status(path).permissions() & fs::perms::group_all, fs::perms::none);  // umask 077
      EXPECT_FALSE(fs::exists(path + ".part"));
      auto present = sh(shell, targets::ssh::exists_command(path));
      EXPECT_EQ(util::trim(present.out), "present") << shell[0] << " " << name;
    }
  }
}

TEST_F(RemoteCommands, TheAgentStartsInAHostileFolderAndSpeaksTheProtocol) {
  auto bb = util::which("busybox");
  ASSERT_TRUE(bb) << "needs busybox (busybox-static)";
  std::string dir = (root_ / "we'ird $(touch /tmp/kt-pwned) `x`; dir").string();
  ASSERT_TRUE(sh({"/bin/sh"}, targets::ssh::upload_command(dir + "/agent.sh"),
                 std::string(targets::guest::agent_script()))
                  .ok());
  util::Child::Options co;
  co.argv = {"/bin/sh", "-c", targets::ssh::agent_command(dir)};
  auto child = util::Child::spawn(co);
  ASSERT_TRUE(child.has_value()) << child.error().format();
  targets::guest::GuestChannel ch(std::move(*child));
  auto ready = ch.wait_ready(30s);
  ASSERT_TRUE(ready.has_value()) << ready.error().message << "\n" << ch.console().log();
  // A value with every hostile byte goes through the agent as data.
  std::string file = (root_ / "knob").string();
  ASSERT_TRUE(util::write_file(file, "1\n").has_value());
  std::string value = "$(touch /tmp/kt-pwned)'\";|`x`\n\xff";
  auto w = ch.write(file, value, 30s);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->rc, 0);
  EXPECT_EQ(util::read_file(file).value_or("?"), value);
  auto r = ch.run({"printf", "%s|", "a b", "it's", "$(x)"}, 30, 10s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->output, "a b|it's|$(x)|");
  EXPECT_TRUE(fs::exists(dir + "/tmp"));  // its scratch folder is inside the hostile one
  ch.power_off(5s);
}

TEST(SshOptions, InventoryFileHostsAndErrors) {
  fs::path dir = fs::temp_directory_path() / ("kt-ssh-opts-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_TRUE(util::write_file((dir / "id").string(), "key").has_value());
  ASSERT_TRUE(util::write_file((dir / "lab.yaml").string(),
                               "hosts:\n"
                               "  - {name: box1, address: 10.0.0.5, key: id, known_hosts: kh,\n"
                               "     recovery: [ipmitool, -H, box1-bmc, chassis, power, cycle]}\n"
                               "  - {address: 10.0.0.6, port: 2222, role: loadgen, host_key_policy: accept-new}\n")
                  .has_value());
  targets::TargetContext ctx{(dir / "recipe.yaml").string(), dir.string(), (dir / "work").string(), {}};
  auto parse = [&](const std::string& text) {
    auto node = util::load_yaml_string(text, ctx.recipe_file);
    EXPECT_TRUE(node.has_value());
    return targets::parse_ssh_options(*node, ctx);
  };
  auto o = parse("kind: ssh\ninventory: lab.yaml\nboot_timeout: 2m\nworkload_on: loadgen\n");
  ASSERT_TRUE(o.has_value()) << o.error().format();
  ASSERT_EQ(o->hosts.size(), 2u);
  EXPECT_EQ(o->hosts[0].name, "box1");
  EXPECT_EQ(o->hosts[0].key, (dir / "id").string());
  EXPECT_EQ(o->hosts[0].known_hosts, (dir / "kh").string());
  EXPECT_EQ(o->hosts[0].host_key_policy, "strict");
  EXPECT_EQ(o->hosts[0].recovery.front(), "ipmitool");
  EXPECT_EQ(o->hosts[1].name, "10.0.0.6:2222");
  EXPECT_EQ(o->hosts[1].role, "loadgen");
  EXPECT_EQ(o->boot_timeout, 120s);
  EXPECT_FALSE(o->cmdline_base.has_value());

  auto argv = targets::ssh_argv(*o, o->hosts[0], "/tmp/s%x.sock", false);
  auto has = [&](const std::string& a) { return std::find(argv.begin(), argv.end(), a) != argv.end(); };
  EXPECT_TRUE(has("StrictHostKeyChecking=yes"));
  EXPECT_TRUE(has("BatchMode=yes"));
  EXPECT_TRUE(has("ControlPath=/tmp/s%%x.sock"));
  ASSERT_GE(argv.size(), 2u);
  EXPECT_EQ(argv[argv.size() - 2], "--");  // the address can never be read as an option
  EXPECT_EQ(argv.back(), "10.0.0.5");

  struct Bad {
    std::string text, message;
  };
  for (const auto& b : std::vector<Bad>{
           {"kind: ssh\n", "needs 'hosts'"},
           {"kind: ssh\nhosts: []\n", "non-empty list"},
           {"kind: ssh\nhosts: [{port: 22}]\n", "needs an 'address'"},
           {"kind: ssh\nhosts: [{address: -oProxyCommand=x}]\n", "not a host name"},
           {"kind: ssh\nhosts: [{address: h, role: client}]\n", "role must be"},
           {"kind: ssh\nhosts: [{address: h, role: loadgen}]\n", "no host has role 'target'"},
           {"kind: ssh\nhosts: [{address: h, host_key_policy: maybe}]\n", "host_key_policy"},
           {"kind: ssh\nhosts: [{address: h, known_hosts: 'a b'}]\n", "blanks"},
           {"kind: ssh\nhosts: [{address: h, adress: x}]\n", "did you mean 'address'"},
           {"kind: ssh\nhosts: [{address: h}]\nremote_dir: tmp\n", "absolute"},
           {"kind: ssh\nhosts: [{address: h}, {address: h}]\n", "two hosts are named"},
           {"kind: ssh\nhosts: [{address: h}]\nkernel: nope\n", "does not exist"},
       }) {
    auto r = parse(b.text);
    ASSERT_FALSE(r.has_value()) << b.text;
    EXPECT_NE(r.error().message.find(b.message), std::string::npos) << b.text << " → " << r.error().message;
    EXPECT_EQ(r.error().file, ctx.recipe_file) << b.text;
  }
  fs::remove_all(dir);
}

TEST(BzImage, ReleaseFromTheRealKernelHeaderMatchesItsFileName) {
  auto kernel = fs::path(KERNTUNE_SOURCE_DIR) / ".cache" / "kernel" / "vmlinuz";
  if (!fs::exists(kernel)) GTEST_SKIP() << "no kernel: run scripts/fetch-kernel";
  std::string name = fs::canonical(kernel).filename().string();  // vmlinuz-6.1.0-NN-amd64
  ASSERT_TRUE(util::starts_with(name, "vmlinuz-"));
  EXPECT_EQ(targets::bzimage_release(kernel.string()), name.substr(8));
  EXPECT_EQ(targets::bzimage_release((fs::path(KERNTUNE_SOURCE_DIR) / "CMakeLists.txt").string()), std::nullopt);
  EXPECT_EQ(targets::bzimage_release("/nonexistent"), std::nullopt);
}

}  // namespace

// The only target host refuses connections (nothing listens on 127.0.0.1:1):
// it leaves the pool, and a pool with no host left is an infrastructure
// failure (io: the campaign may retry elsewhere; exit 1), not bad input.
TEST(SshPool, NoHostLeftIsAnIoError) {
  fs::path dir = fs::temp_directory_path() / ("kt-ssh-pool-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_TRUE(util::write_file((dir / "id").string(), "key").has_value());
  targets::TargetContext ctx{(dir / "recipe.yaml").string(), dir.string(), (dir / "work").string(), {}};
  auto node = util::load_yaml_string(
      "kind: ssh\nhosts: [{name: gone, address: 127.0.0.1, port: 1, key: id, host_key_policy: accept-new}]\n"
      "connect_timeout: 2s\n",
      ctx.recipe_file);
  ASSERT_TRUE(node.has_value());
  auto o = targets::parse_ssh_options(*node, ctx);
  ASSERT_TRUE(o.has_value()) << o.error().format();
  {
    targets::SshTarget target(std::move(*o));
    targets::TrialRequest r;
    r.seq = 1;
    auto t = target.run_trial(r);
    ASSERT_FALSE(t.has_value()) << "a trial ran on a host that refuses connections";
    EXPECT_EQ(t.error().kind, util::Error::Kind::io) << t.error().message;
    EXPECT_NE(t.error().message.find("no ssh target host is left in the pool"), std::string::npos) << t.error().message;
    EXPECT_NE(t.error().message.find("gone: ssh to gone failed"), std::string::npos) << t.error().message;
    EXPECT_TRUE(target.pool().empty());
    target.shutdown();
  }
  fs::remove_all(dir);
}
