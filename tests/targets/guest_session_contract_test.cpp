// The guest session's contract (src/targets/guest_session.hpp), one suite run
// against every backend that reaches a kerntune agent:
//
//   fake  — an in-process AgentChannel (files in a map, argv run on this host)
//           behind a minimal Target built on the session, for the fast cases;
//   agent — the real agent script under host busybox over a real GuestChannel,
//           its /proc/sys and /sys rooted in a temp folder (nothing on the host
//           is written), behind the same minimal Target;
//   qemu  — QemuTarget under TCG (or KVM), the kernel of scripts/fetch-kernel;
//   ssh   — SshTarget against the project's dropbear test host (a TCG VM,
//           scripts/ssh-test-host);
//   libvirt — the libvirt target (QemuTarget with the libvirt launcher): a
//           transient domain per boot on qemu:///system, libvirtd started
//           by scripts/libvirt-start.
//
// The same requests, the same expectations: knobs written, read back and
// restored for the next trial; `baseline: target` reads without writing; a
// missing knob fails at apply; a refused value is recorded and the trial goes
// on; setup runs once per boot; warm-ups are not measured; every measured
// repeat has the agent's sys.* figures; a failing workload fails at workload
// and the next trial runs. Which backends a binary runs is chosen at compile
// time (tests/system/CMakeLists.txt): fast ones in one binary, each VM
// backend in its own, with its tier's label.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include "targets/guest_session.hpp"
#include "targets/guest_agent.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"
#ifdef KT_CONTRACT_SSH
#include "../system/ssh_host.hpp"
#include "targets/ssh_target.hpp"
#endif
#ifdef KT_CONTRACT_LIBVIRT
#include "kerntune/util/yaml.hpp"
#include "targets/libvirt_target.hpp"
#endif

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;
using targets::TrialOutcome;
using targets::TrialRequest;
namespace guest = kerntune::targets::guest;

namespace {

std::string test_name() {
  std::string n = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : n)
    if (c == '/') c = '-';
  return n;
}

// ---- The fake: an agent in this process. -------------------------------

/// Knob files in a map. Writes to a missing file answer RC 2; a file whose
/// name ends in "swappiness" refuses values above 200, as Linux 6.1 does.
/// `run` executes argv on this host and reports the agent's run fields.
class FakeAgent final : public guest::AgentChannel {
 public:
  std::map<std::string, std::string> files;
  bool lost = false;  ///< every call fails as if the guest went away

  guest::ChannelResult<guest::WriteReply> write(const std::string& path, const std::string& value,
                                                std::chrono::milliseconds, bool keep_old) override {
    if (lost) return gone();
    guest::WriteReply w;
    auto it = files.find(path);
    if (it == files.end()) {
      w.rc = 2;
      w.message = "No such file or directory";
      return w;
    }
    if (keep_old) w.old = it->second;
    if (path.ends_with("swappiness") && std::stoi(value) > 200) {
      w.rc = 1;
      w.message = "Invalid argument";
      w.readback = it->second;
      return w;
    }
    it->second = value + "\n";
    w.readback = it->second;
    return w;
  }
  guest::ChannelResult<guest::Reply> read(const std::string& path, std::chrono::milliseconds) override {
    if (lost) return gone();
    guest::Reply r;
    auto it = files.find(path);
    r.rc = it == files.end() ? 2 : 0;
    r.payload = it == files.end() ? "No such file or directory" : it->second;
    return r;
  }
  guest::ChannelResult<guest::RunReply> run(const std::vector<std::string>& argv, int guest_timeout_s,
                                            std::chrono::milliseconds) override {
    if (lost) return gone();
    util::RunOptions o;
    o.argv = argv;
    o.timeout = std::chrono::seconds(guest_timeout_s);
    o.merge_stderr = true;
    auto t0 = std::chrono::steady_clock::now();
    auto r = util::run(o);
    if (!r) return std::unexpected(guest::ChannelError{guest::ChannelError::Kind::protocol, r.error().message});
    guest::Reply fields;
    long long cs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() / 10;
    fields.fields = {{"memmin", "400000"}, {"slab", "9000"},   {"cached", "20000"}, {"pgfault", "1234"},
                     {"pgmajfault", "5"},  {"ctxt", "678"},    {"elapsed_cs", std::to_string(cs)}};
    guest::RunReply out;
    out.timed_out = r->timed_out;
    out.exit_code = r->timed_out ? 137 : r->term_signal ? 128 + r->term_signal : r->exit_code;
    out.seconds = static_cast<double>(cs) / 100.0;
    out.output = r->out;
    out.metrics = guest::agent_metrics(fields);
    return out;
  }

 private:
  static std::unexpected<guest::ChannelError> gone() {
    return std::unexpected(guest::ChannelError{guest::ChannelError::Kind::exited, "the fake guest went away"});
  }
};

/// The real agent, its knob paths moved below `root` so a test writes no
/// host setting.
class RootedAgent final : public guest::AgentChannel {
 public:
  RootedAgent(guest::GuestChannel& c, std::string root) : c_(c), root_(std::move(root)) {}
  guest::ChannelResult<guest::WriteReply> write(const std::string& path, const std::string& value,
                                                std::chrono::milliseconds timeout, bool keep_old) override {
    return c_.write(root_ + path, value, timeout, keep_old);
  }
  guest::ChannelResult<guest::Reply> read(const std::string& path, std::chrono::milliseconds timeout) override {
    return c_.read(root_ + path, timeout);
  }
  guest::ChannelResult<guest::RunReply> run(const std::vector<std::string>& argv, int guest_timeout_s,
                                            std::chrono::milliseconds grace) override {
    return c_.run(argv, guest_timeout_s, grace);
  }

 private:
  guest::GuestChannel& c_;
  std::string root_;
};

/// The smallest backend on the session: one channel, one boot; a lost
/// channel fails the trial and ends the boot.
class SessionTarget final : public targets::Target, guest::GuestLink {
 public:
  explicit SessionTarget(guest::AgentChannel& c) : channel_(c) { session_.reset("the one boot"); }
  util::Result<TrialOutcome> run_trial(const TrialRequest& request) override {
    guest::TrialRecord t;
    if (!alive_) return TrialOutcome::failure("boot", "the guest is gone");
    KT_TRY(bool going, session_.run_stages(*this, request, t));
    (void)going;
    if (alive_) {
      KT_TRY(bool restored, session_.restore(*this, t));
      (void)restored;
    }
    if (!t.log.empty()) t.out.artifacts.push_back({"workload.log", t.log});
    return t.out;
  }
  std::string kind() const override { return "session"; }

 private:
  guest::AgentChannel& channel() override { return channel_; }
  util::Result<bool> lost(const guest::ChannelError& e, const std::string& stage, const std::string& doing,
                          guest::TrialRecord& t) override {
    alive_ = false;
    return t.fail(stage, doing + ": " + e.message);
  }
  void restore_lost(const std::string&, const guest::ChannelError&, guest::TrialRecord&) override { alive_ = false; }
  bool restore_mismatch(const std::string&, const std::string&, const std::string&, guest::TrialRecord&) override {
    return false;
  }

  guest::AgentChannel& channel_;
  guest::GuestSession session_;
  bool alive_ = true;
};

// ---- The backends. -------------------------------------------------------

struct Backend {
  virtual ~Backend() = default;
  virtual targets::Target& target() = 0;
  /// A folder the workload may write in the guest, new for this test.
  virtual std::string scratch() const = 0;
  /// Plain files take any value: a kernel's refusal cannot be shown.
  virtual bool kernel_refuses() const { return true; }
};

fs::path host_dir(const std::string& what) {
  return fs::temp_directory_path() / ("kt-contract-" + what + "-" + std::to_string(getpid()) + "-" + test_name());
}

struct FakeBackend final : Backend {
  FakeBackend() : dir(host_dir("fake")), t(agent) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    agent.files = {{"/proc/sys/vm/swappiness", "60\n"}, {"/proc/sys/vm/dirty_ratio", "20\n"}};
  }
  ~FakeBackend() override { fs::remove_all(dir); }
  targets::Target& target() override { return t; }
  std::string scratch() const override { return (dir / "work").string(); }
  fs::path dir;
  FakeAgent agent;
  SessionTarget t;
};

struct AgentBackend final : Backend {
  AgentBackend() : dir(host_dir("agent")) {
    fs::remove_all(dir);
    auto bb = util::which("busybox");
    if (!bb) {
      ADD_FAILURE() << "the agent backend needs busybox (apt-get install busybox-static)";
      return;
    }
    fs::create_directories(dir / "bin");
    fs::create_directories(dir / "tmp");
    fs::create_directories(dir / "root/proc/sys/vm");
    EXPECT_TRUE(util::write_file((dir / "root/proc/sys/vm/swappiness").string(), "60\n").has_value());
    EXPECT_TRUE(util::write_file((dir / "root/proc/sys/vm/dirty_ratio").string(), "20\n").has_value());
    auto list = util::run({.argv = {*bb, "--list"}});
    if (!list || !list->ok()) {
      ADD_FAILURE() << "busybox --list failed";
      return;
    }
    for (auto& a : util::split(list->out, '\n'))
      if (!util::trim(a).empty()) fs::create_symlink(*bb, dir / "bin" / util::trim(a));
    EXPECT_TRUE(util::write_file((dir / "agent.sh").string(), guest::agent_script()).has_value());
    util::Child::Options o;
    o.argv = {*bb, "sh", (dir / "agent.sh").string()};
    o.env = {{"KT_AGENT_TEST", "1"}, {"KT_AGENT_TMP", (dir / "tmp").string()}, {"KT_AGENT_PATH", (dir / "bin").string()}};
    o.merge_stderr = true;
    auto child = util::Child::spawn(o);
    if (!child) {
      ADD_FAILURE() << child.error().message;
      return;
    }
    channel = std::make_unique<guest::GuestChannel>(std::move(*child));
    auto ready = channel->wait_ready(10s);
    if (!ready) {
      ADD_FAILURE() << ready.error().message;
      return;
    }
    rooted = std::make_unique<RootedAgent>(*channel, (dir / "root").string());
    t = std::make_unique<SessionTarget>(*rooted);
  }
  ~AgentBackend() override {
    if (channel) channel->power_off(2s);
    fs::remove_all(dir);
  }
  targets::Target& target() override { return *t; }
  std::string scratch() const override { return (dir / "work").string(); }
  bool kernel_refuses() const override { return false; }
  fs::path dir;
  std::unique_ptr<guest::GuestChannel> channel;
  std::unique_ptr<RootedAgent> rooted;
  std::unique_ptr<SessionTarget> t;
};

struct QemuBackend final : Backend {
  QemuBackend() {
    auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
    if (!kernel || !fs::exists(*kernel)) {
      ADD_FAILURE() << "no kernel image: run scripts/fetch-kernel (the qemu backend needs a real kernel)";
      return;
    }
    if (!util::which("qemu-system-x86_64")) {
      ADD_FAILURE() << "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
      return;
    }
    targets::QemuOptions o;
    o.kernel = *kernel;
    o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/guest-session-qemu-work";
    o.boot_timeout = 180s;  // a loaded 2-core TCG host
    if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
    t = std::make_unique<targets::QemuTarget>(o);
  }
  targets::Target& target() override { return *t; }
  std::string scratch() const override { return "/tmp/kt-contract"; }  // a fresh VM per test
  std::unique_ptr<targets::QemuTarget> t;
};

#ifdef KT_CONTRACT_SSH
// One dropbear VM for the whole binary (booting it takes minutes under TCG);
// each test has its own SshTarget and scratch folder.
struct SshHostOnce {
  std::optional<kt_ssh_test::TestHost> host;
  targets::SshHost entry;
  std::string error;
  static inline bool started = false;
  static SshHostOnce& get() {
    static SshHostOnce once = [] {
      started = true;
      SshHostOnce s;
      fs::path dir = fs::path(KERNTUNE_BINARY_DIR) / "guest-session-ssh";
      fs::remove_all(dir);
      auto h = kt_ssh_test::TestHost::create(dir);
      if (!h) {
        s.error = h.error().format();
        return s;
      }
      if (auto st = h->start(); !st) {
        s.error = st.error().format() + h->console();
        return s;
      }
      s.entry.name = "vm";
      s.entry.address = "127.0.0.1";
      s.entry.port = h->port;
      s.entry.key = h->key;
      s.entry.known_hosts = (dir / "known_hosts").string();
      if (!util::write_file(s.entry.known_hosts, h->known_hosts_line())) s.error = "cannot write known_hosts";
      s.host = std::move(*h);
      return s;
    }();
    return once;
  }
};

// Stops the VM after the last test (scripts/ssh-test-host stop, by its PID file).
struct StopSshHost final : ::testing::Environment {
  void TearDown() override {
    if (SshHostOnce::started && SshHostOnce::get().host) SshHostOnce::get().host->stop();
  }
};
[[maybe_unused]] ::testing::Environment* const kStopSshHost = ::testing::AddGlobalTestEnvironment(new StopSshHost);

struct SshBackend final : Backend {
  SshBackend() {
    auto& once = SshHostOnce::get();
    if (!once.error.empty()) {
      ADD_FAILURE() << "the ssh test host did not start: " << once.error;
      return;
    }
    targets::SshOptions o;
    o.hosts = {once.entry};
    o.boot_timeout = 240s;
    o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/guest-session-ssh-work";
    t = std::make_unique<targets::SshTarget>(o);
  }
  targets::Target& target() override { return *t; }
  std::string scratch() const override { return "/tmp/kt-contract-" + test_name(); }
  std::unique_ptr<targets::SshTarget> t;
};
#endif

#ifdef KT_CONTRACT_LIBVIRT
struct LibvirtBackend final : Backend {
  LibvirtBackend() {
    auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
    if (!kernel || !fs::exists(*kernel)) {
      ADD_FAILURE() << "no kernel image: run scripts/fetch-kernel (the libvirt backend needs a real kernel)";
      return;
    }
    static const std::string daemon = [] {  // once per binary; idempotent anyway
      auto r = util::run({.argv = {std::string(KERNTUNE_SOURCE_DIR) + "/scripts/libvirt-start"},
                          .timeout = std::chrono::milliseconds(120000), .merge_stderr = true});
      return !r ? r.error().message : r->ok() ? std::string() : r->out;
    }();
    if (!daemon.empty()) {
      ADD_FAILURE() << "scripts/libvirt-start failed: " << daemon;
      return;
    }
    std::string accel = std::getenv("KERNTUNE_TEST_ACCEL") ? std::getenv("KERNTUNE_TEST_ACCEL") : "auto";
    std::string work = std::string(KERNTUNE_BINARY_DIR) + "/guest-session-libvirt-work";
    auto node = util::load_yaml_string("target: {kind: libvirt, kernel: '" + *kernel + "', boot_timeout: 180s, accel: " +
                                           accel + "}\n",
                                       work + "/recipe.yaml");
    if (!node) {
      ADD_FAILURE() << node.error().format();
      return;
    }
    auto o = targets::parse_libvirt_options((*node)["target"], {work + "/recipe.yaml", work, work});
    if (!o) {
      ADD_FAILURE() << o.error().format();
      return;
    }
    t = std::make_unique<targets::QemuTarget>(o->vm, targets::libvirt_launcher(*o));
  }
  targets::Target& target() override { return *t; }
  std::string scratch() const override { return "/tmp/kt-contract"; }  // a fresh domain per test
  std::unique_ptr<targets::QemuTarget> t;
};
#endif

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "fake") return std::make_unique<FakeBackend>();
  if (name == "agent") return std::make_unique<AgentBackend>();
  if (name == "qemu") return std::make_unique<QemuBackend>();
#ifdef KT_CONTRACT_SSH
  if (name == "ssh") return std::make_unique<SshBackend>();
#endif
#ifdef KT_CONTRACT_LIBVIRT
  if (name == "libvirt") return std::make_unique<LibvirtBackend>();
#endif
  return nullptr;
}

// ---- The contract. -------------------------------------------------------

class GuestSessionContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = make_backend(GetParam());
    ASSERT_TRUE(backend_) << "unknown backend " << GetParam();
    ASSERT_FALSE(HasFailure()) << "the " << GetParam() << " backend could not start";
  }
  void TearDown() override {
    if (backend_ && !HasFailure()) backend_->target().shutdown();
  }

  TrialOutcome trial(const TrialRequest& r) {
    auto out = backend_->target().run_trial(r);
    EXPECT_TRUE(out.has_value()) << out.error().format();
    return out ? *out : TrialOutcome::failure("test", "run_trial returned an Error");
  }

  /// A workload of shell commands reporting KERNTUNE_METRIC lines.
  workloads::Workload probe(const std::string& script, std::vector<std::string> metrics, int warmup = 0,
                            int repeats = 1, std::vector<std::vector<std::string>> setup = {}) {
    workloads::Workload w;
    w.name = "probe";
    w.file = "(contract)";
    w.command = {"sh", "-c", script};
    w.setup = std::move(setup);
    w.warmup = warmup;
    w.repeats = repeats;
    w.timeout = 60s;
    for (auto& m : metrics) {
      workloads::MetricSpec s;
      s.name = m;
      s.source = workloads::MetricSpec::Source::kerntune_metric;
      w.metrics.push_back(s);
    }
    return w;
  }

  std::unique_ptr<Backend> backend_;
};

std::string why(const TrialOutcome& o) {
  std::string s = o.failure_stage + ": " + o.failure_reason;
  for (const auto& a : o.artifacts) s += "\n--- " + a.name + " ---\n" + a.content.substr(a.content.size() > 2000 ? a.content.size() - 2000 : 0);
  return s;
}

TEST_P(GuestSessionContract, KnobsAreWrittenReadBackAndRestoredForTheNextTrial) {
  TrialRequest look;
  look.read_current = true;
  look.sysctls = {{"vm.swappiness", ""}, {"vm.dirty_ratio", ""}};
  auto before = trial(look);
  ASSERT_TRUE(before.ok) << why(before);
  std::string swappiness = before.effective.value("vm.swappiness", "");
  std::string dirty = before.effective.value("vm.dirty_ratio", "");
  ASSERT_FALSE(swappiness.empty());
  EXPECT_TRUE(before.refused.empty());

  std::string want = swappiness == "13" ? "14" : "13";
  TrialRequest set;
  set.sysctls = {{"vm.swappiness", want}, {"vm.dirty_ratio", dirty == "31" ? "32" : "31"}};
  auto out = trial(set);
  ASSERT_TRUE(out.ok) << why(out);
  EXPECT_EQ(out.effective["vm.swappiness"], want);  // read back after the write
  EXPECT_TRUE(out.timings.contains("apply"));

  auto after = trial(look);  // written by nobody: the boot values are back
  ASSERT_TRUE(after.ok) << why(after);
  EXPECT_EQ(after.effective["vm.swappiness"], swappiness);
  EXPECT_EQ(after.effective["vm.dirty_ratio"], dirty);
}

TEST_P(GuestSessionContract, AMissingKnobFailsAtApplyAndTheNextTrialRuns) {
  TrialRequest r;
  r.sysctls = {{"vm.kt_no_such_knob", "1"}};
  auto out = trial(r);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure_stage, "apply");
  EXPECT_NE(out.failure_reason.find("sysctl 'vm.kt_no_such_knob' does not exist"), std::string::npos)
      << out.failure_reason;
  TrialRequest ok;
  ok.sysctls = {{"vm.swappiness", "21"}};
  auto next = trial(ok);
  EXPECT_TRUE(next.ok) << why(next);
}

TEST_P(GuestSessionContract, ARefusedValueIsRecordedAndTheTrialGoesOnWithTheValueInForce) {
  if (!backend_->kernel_refuses()) GTEST_SKIP() << "plain files behind this backend take any value";
  TrialRequest r;
  r.sysctls = {{"vm.swappiness", "250"}};  // Linux 6.1: 0..200
  auto w = probe("echo KERNTUNE_METRIC ran 1", {"ran"});
  r.workload = &w;
  auto out = trial(r);
  ASSERT_TRUE(out.ok) << why(out);
  ASSERT_TRUE(out.refused.contains("vm.swappiness"));
  EXPECT_NE(out.effective["vm.swappiness"], "250");
  EXPECT_FALSE(out.effective.value("vm.swappiness", "").empty());
  EXPECT_EQ(out.samples["ran"], std::vector<double>{1});
}

TEST_P(GuestSessionContract, SetupRunsOncePerBootAndOnlyMeasuredRepeatsAreSampled) {
  std::string dir = backend_->scratch();
  auto w = probe("echo r >> " + dir + "/runs; echo KERNTUNE_METRIC setups $(wc -l < " + dir +
                     "/setups); echo KERNTUNE_METRIC runs $(wc -l < " + dir + "/runs)",
                 {"setups", "runs"}, /*warmup=*/1, /*repeats=*/2,
                 {{"mkdir", "-p", dir}, {"sh", "-c", "echo s >> " + dir + "/setups"}});
  TrialRequest r;
  r.workload = &w;
  r.repeats = 0;  // the workload's own: one warm-up, two measured
  r.warmup = -1;
  auto first = trial(r);
  ASSERT_TRUE(first.ok) << why(first);
  EXPECT_EQ(first.samples["setups"], (std::vector<double>{1, 1}));
  EXPECT_EQ(first.samples["runs"], (std::vector<double>{2, 3}));  // run 1 was the warm-up
  // The agent's figures, one per measured repeat, with their units.
  for (const char* m : {"sys.mem_available_min_kb", "sys.pgfault", "sys.ctxt", "sys.elapsed_s"}) {
    EXPECT_EQ(first.samples[m].size(), 2u) << m;
    EXPECT_TRUE(first.units.contains(m)) << m;
  }
  EXPECT_GT(first.samples["sys.mem_available_min_kb"].front(), 0);
  EXPECT_NE(first.artifacts.size(), 0u);

  r.warmup = 0;  // the request overrides the workload's own counts
  r.repeats = 1;
  auto second = trial(r);
  ASSERT_TRUE(second.ok) << why(second);
  EXPECT_EQ(second.samples["setups"], (std::vector<double>{1}));
  if (second.timings.contains("snapshot_load")) {
    // Restored from the snapshot of the idle booted guest (qemu's default,
    // between_trials: restore): the first trial's files are gone, so setup
    // ran again in the pristine guest and this is its first run.
    EXPECT_EQ(second.samples["runs"], (std::vector<double>{1}));
  } else {
    // The same running boot: no second setup, the runs go on counting.
    EXPECT_EQ(second.samples["runs"], (std::vector<double>{4}));
  }
}

TEST_P(GuestSessionContract, ADistributionMetricIsPooledOverTheMeasuredRepeatsOnly) {
  // Run 1 is the warm-up (every request at 50 ms: must not count); runs 2 and
  // 3 hold 1000 requests at 1 ms; run 4 has 60 of its 1000 at 10 ms. Pooled,
  // 2% of the measured requests are slow, so the trial's p99 is 10 ms, though
  // the median of the three per-repeat p99s is 1 ms.
  std::string dir = backend_->scratch();
  auto w = probe("mkdir -p " + dir + "; n=$(( $(cat " + dir + "/n 2>/dev/null || echo 0) + 1 )); echo $n > " + dir +
                     "/n; case $n in 1) echo '50 ms count 1000';; 4) echo '1 ms count 940'; echo '10 ms count 1000';; "
                     "*) echo '1 ms count 1000';; esac",
                 {}, /*warmup=*/1, /*repeats=*/3);
  workloads::MetricSpec p99;
  p99.name = "p99";
  p99.source = workloads::MetricSpec::Source::distribution;
  p99.regex = "^(?<value>[0-9.]+) ms count (?<count>[0-9]+)";
  p99.percentile = 99;
  p99.unit = "ms";
  w.metrics.push_back(p99);
  TrialRequest r;
  r.workload = &w;
  r.repeats = 0;
  r.warmup = -1;
  auto out = trial(r);
  ASSERT_TRUE(out.ok) << why(out);
  EXPECT_EQ(out.samples["p99"], (std::vector<double>{1, 1, 10}));  // each repeat's own percentile
  ASSERT_TRUE(out.pooled.contains("p99"));
  EXPECT_DOUBLE_EQ(out.pooled.at("p99"), 10.0);
  EXPECT_EQ(out.units["p99"], "ms");
}

TEST_P(GuestSessionContract, AFailingWorkloadFailsAtWorkloadAMissingMetricAtParseAndTheNextTrialRuns) {
  auto bad = probe("echo something broke; exit 3", {"x"});
  TrialRequest r;
  r.sysctls = {{"vm.swappiness", "17"}};
  r.workload = &bad;
  auto out = trial(r);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure_stage, "workload");
  EXPECT_NE(out.failure_reason.find("failed with exit code 3: something broke"), std::string::npos)
      << out.failure_reason;

  auto silent = probe("echo no metric here", {"x"});
  r.workload = &silent;
  auto parse = trial(r);
  EXPECT_FALSE(parse.ok);
  EXPECT_EQ(parse.failure_stage, "parse") << why(parse);

  TrialRequest look;
  look.read_current = true;
  look.sysctls = {{"vm.swappiness", ""}};
  auto next = trial(look);
  ASSERT_TRUE(next.ok) << why(next);
  EXPECT_NE(next.effective["vm.swappiness"], "17");  // restored (or a fresh boot)
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& p) { return p.param; }

#ifdef KT_CONTRACT_FAST
INSTANTIATE_TEST_SUITE_P(Fast, GuestSessionContract, ::testing::Values("fake", "agent"),
                         backend_name);
#endif
#ifdef KT_CONTRACT_QEMU
INSTANTIATE_TEST_SUITE_P(Vm, GuestSessionContract, ::testing::Values("qemu"),
                         backend_name);
#endif
#ifdef KT_CONTRACT_SSH
INSTANTIATE_TEST_SUITE_P(Vm, GuestSessionContract, ::testing::Values("ssh"),
                         backend_name);
#endif
#ifdef KT_CONTRACT_LIBVIRT
INSTANTIATE_TEST_SUITE_P(Vm, GuestSessionContract, ::testing::Values("libvirt"),
                         backend_name);
#endif

#ifdef KT_CONTRACT_FAST
// The fake's own cases: what only an in-process channel can stage cheaply.
TEST(GuestSessionFake, AChannelLostMidApplyFailsThatTrialAtApplyAndEndsTheBoot) {
  FakeAgent agent;
  agent.files = {{"/proc/sys/vm/swappiness", "60\n"}};
  SessionTarget t(agent);
  agent.lost = true;
  TrialRequest r;
  r.sysctls = {{"vm.swappiness", "10"}};
  auto out = t.run_trial(r);
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->ok);
  EXPECT_EQ(out->failure_stage, "apply");
  EXPECT_NE(out->failure_reason.find("writing sysctl 'vm.swappiness': the fake guest went away"), std::string::npos)
      << out->failure_reason;
  auto next = t.run_trial(r);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->failure_stage, "boot");
}

TEST(GuestSessionFake, RestoreWritesNewestFirstAndANewBootForgetsTheBootValues) {
  FakeAgent agent;
  agent.files = {{"/proc/sys/vm/swappiness", "60\n"}};
  guest::GuestSession s;
  struct Link final : guest::GuestLink {
    explicit Link(FakeAgent& a) : a_(a) {}
    guest::AgentChannel& channel() override { return a_; }
    util::Result<bool> lost(const guest::ChannelError&, const std::string& stage, const std::string& doing,
                            guest::TrialRecord& t) override {
      return t.fail(stage, doing);
    }
    void restore_lost(const std::string&, const guest::ChannelError&, guest::TrialRecord&) override {}
    bool restore_mismatch(const std::string&, const std::string&, const std::string&, guest::TrialRecord&) override {
      return false;
    }
    FakeAgent& a_;
  } link(agent);
  s.reset("k1");
  EXPECT_TRUE(s.serves("k1"));
  EXPECT_FALSE(s.serves("k2"));
  guest::TrialRecord t;
  TrialRequest r;
  r.sysctls = {{"vm.swappiness", "10"}, {"vm.swappiness", "20"}};
  ASSERT_TRUE(s.apply(link, r, t).value());
  EXPECT_EQ(agent.files["/proc/sys/vm/swappiness"], "20\n");
  EXPECT_EQ(t.touched.size(), 2u);
  ASSERT_TRUE(s.restore(link, t).value());
  EXPECT_EQ(agent.files["/proc/sys/vm/swappiness"], "60\n");
  EXPECT_TRUE(t.touched.empty());
  // A new boot where the file holds something else: that is the new boot value.
  s.reset("k2");
  agent.files["/proc/sys/vm/swappiness"] = "5\n";
  guest::TrialRecord t2;
  ASSERT_TRUE(s.apply(link, r, t2).value());
  ASSERT_TRUE(s.restore(link, t2).value());
  EXPECT_EQ(agent.files["/proc/sys/vm/swappiness"], "5\n");
}
#endif

}  // namespace
