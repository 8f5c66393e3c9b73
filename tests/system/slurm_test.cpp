// `executor: slurm` on a one-node Slurm that scripts/slurm-start starts for
// this suite (and scripts/slurm-stop stops, by PID): a small QEMU campaign
// whose trials run as Slurm jobs; hostile parameter values and a hostile work
// folder reach the trial intact and never a shell; a stop cancels the job.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "../integration/cli.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/targets/qemu_target.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kSlurmDir = std::string(KERNTUNE_BINARY_DIR) + "/slurm-test";
const std::string kPort = "16917";  // not the default 6817, nor scripts/slurm-start's 16817

std::map<std::string, std::string> slurm_env() {
  return {{"SLURM_CONF", kSlurmDir + "/slurm.conf"}, {"KERNTUNE_SLURM_DIR", kSlurmDir}, {"KERNTUNE_SLURM_PORT", kPort}};
}

kerntune::util::RunResult run(std::vector<std::string> argv, const std::string& cwd = "",
                              std::chrono::milliseconds timeout = 10min) {
  kerntune::util::RunOptions o;
  o.argv = std::move(argv);
  o.cwd = cwd;
  o.env = slurm_env();
  o.timeout = timeout;
  o.merge_stderr = true;
  auto r = kerntune::util::run(o);
  if (!r) {
    kerntune::util::RunResult bad;
    bad.out = r.error().message;
    return bad;
  }
  return *r;
}

class Slurm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = run({std::string(KERNTUNE_SOURCE_DIR) + "/scripts/slurm-start"}, "", 3min);
    started_ = r.ok();
    start_log_ = r.out;
  }
  static void TearDownTestSuite() {
    auto r = run({std::string(KERNTUNE_SOURCE_DIR) + "/scripts/slurm-stop"}, "", 1min);
    EXPECT_TRUE(r.ok()) << r.out;
  }
  void SetUp() override { ASSERT_TRUE(started_) << "scripts/slurm-start failed:\n" << start_log_; }
  static inline bool started_ = false;
  static inline std::string start_log_;
};

std::vector<kerntune::store::TrialRecord> stored(const std::string& db, const std::string& name,
                                                 kerntune::store::Store* keep = nullptr) {
  auto st = kerntune::store::Store::open(db, {.create = false, .read_only = true});
  EXPECT_TRUE(st) << (st ? "" : st.error().message);
  if (!st) return {};
  auto c = st->find_campaign(name);
  if (!c || !*c) return {};
  auto t = st->trials((*c)->id);
  if (keep) *keep = std::move(*st);
  return t ? *t : std::vector<kerntune::store::TrialRecord>{};
}

std::string artifact(kerntune::store::Store& st, std::int64_t trial_id, const std::string& name) {
  auto arts = st.trial_artifacts(trial_id);
  if (!arts) return "";
  for (const auto& a : *arts)
    if (a.name == name) return a.content;
  return "";
}

}  // namespace

TEST_F(Slurm, QemuCampaignRunsItsTrialsAsSlurmJobs) {
  auto k = kerntune::targets::default_kernel({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(k && fs::exists(*k)) << "no kernel image: run scripts/fetch-kernel";
  kt_test::TempDir dir;
  kt_test::write(dir / "probe.yaml", R"Y(name: probe
command: [sh, -c, "echo KERNTUNE_METRIC swappiness $(cat /proc/sys/vm/swappiness)"]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: swappiness, kerntune_metric: true}
)Y");
  kt_test::write(dir / "r.yaml", "name: slurm-qemu\nseed: 4\n"
                                 "parameters:\n"
                                 "  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 100], default: 60}\n"
                                 "target: {kind: qemu, kernel: " + *k + ", memory: 256M, cpus: 1, boot_timeout: 180s}\n"
                                 "workload: probe.yaml\n"
                                 "objectives: [{metric: swappiness, direction: maximize}]\n"
                                 "budget: {trials: 3}\n"
                                 "optimizer: {kind: sobol}\n"
                                 "workers: 2\n"
                                 "executor: {kind: slurm, poll: 500ms, job_timeout: 10m}\n");
  auto r = run({kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"},
               dir.path.string(), 14min);
  ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;

  kerntune::store::Store st = *kerntune::store::Store::open(dir / "kt.db", {.create = false, .read_only = true});
  auto trials = stored(dir / "kt.db", "slurm-qemu");
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "ok") << t.seq << ": " << t.failure_stage << ": " << t.failure_reason;
    EXPECT_NE(t.worker.find("slurm-"), std::string::npos) << t.worker;
    EXPECT_NE(t.worker.find("qemu-"), std::string::npos) << t.worker;  // the job's own qemu target ran it
    json p = json::parse(t.params_json);
    double reported = -1;
    for (const auto& m : t.measurements)
      if (m.metric == "swappiness") reported = m.value;
    EXPECT_EQ(reported, p["vm.swappiness"].get<int>()) << "trial " << t.seq;
    EXPECT_FALSE(artifact(st, t.id, "slurm.log").empty());    // the job's output
    EXPECT_FALSE(artifact(st, t.id, "console.log").empty());  // the VM's console, from the node
    EXPECT_TRUE(t.timings.contains("boot") && t.timings.at("boot") > 0.0);  // each job booted its own VM
  }
}

// Values that would run code if any shell parsed them: in parameter values,
// in the folder the jobs live in, and in the campaign name.
TEST_F(Slurm, HostileValuesReachTheTrialIntactAndNoShell) {
  kt_test::TempDir base;
  fs::path dir = base.path / "we ird $(touch PWNED1) `touch PWNED2` ;touch PWNED3 'q\" %j";
  fs::create_directories(dir);
  kt_test::write((dir / "box.py").string(), R"kt(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen.jsonl"), "a") as f:
    f.write(json.dumps(p) + "\n")
print("KERNTUNE_METRIC y %d" % len(p["s"]))
)kt");
  kt_test::write((dir / "r.yaml").string(), R"Y(name: "hostile $(touch PWNED4)"
seed: 1
parameters:
  - name: s
    domain: generic
    type: choice
    values: ["$(touch PWNED5)", "`touch PWNED6`", "a b;touch PWNED7", "'\"\\%j %x $HOME", "--chdir=/"]
    default: "$(touch PWNED5)"
target: {kind: command, argv: [python3, box.py], timeout: 60s}
objectives: [{metric: y, direction: minimize}]
budget: {trials: 6}
optimizer: {kind: sobol}
executor: {kind: slurm, poll: 300ms}
workers: 2
)Y");
  auto r = run({kt_test::kerntune_bin(), "tune", (dir / "r.yaml").string(), "--db", (dir / "kt.db").string(),
                "--work-dir", (dir / "work $(touch PWNED8)").string(), "--progress", "lines"},
               dir.string(), 10min);
  ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;
  auto trials = stored((dir / "kt.db").string(), "hostile $(touch PWNED4)");
  ASSERT_EQ(trials.size(), 6u);
  std::set<std::string> values = {"$(touch PWNED5)", "`touch PWNED6`", "a b;touch PWNED7", "'\"\\%j %x $HOME", "--chdir=/"};
  auto seen_text = kerntune::util::read_file((dir / "seen.jsonl").string());
  ASSERT_TRUE(seen_text);
  int lines = 0;
  for (const auto& line : kerntune::util::split(*seen_text, '\n')) {
    if (line.empty()) continue;
    ++lines;
    std::string s = json::parse(line)["s"];
    EXPECT_TRUE(values.contains(s)) << "the black box saw '" << s << "'";
  }
  EXPECT_EQ(lines, 6);
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "ok") << t.failure_reason;
    std::string s = json::parse(t.params_json)["s"];
    double y = -1;
    for (const auto& m : t.measurements) y = m.value;
    EXPECT_EQ(y, static_cast<double>(s.size())) << s;
  }
  // Nothing was created by a shell anywhere we can see.
  for (const auto& where : {dir, base.path, fs::path("/tmp"), fs::current_path(), fs::path(kSlurmDir)})
    for (int i = 1; i <= 8; ++i) EXPECT_FALSE(fs::exists(where / ("PWNED" + std::to_string(i)))) << where << " PWNED" << i;
}

TEST_F(Slurm, StopCancelsTheRunningJob) {
  kt_test::TempDir dir;
  kt_test::write(dir / "box.py", "import time\ntime.sleep(120)\nprint('KERNTUNE_METRIC y 1')\n");
  kt_test::write(dir / "r.yaml", R"Y(name: cancel-me
parameters: [{name: x, domain: generic, type: real, range: [0, 1], default: 0.5}]
target: {kind: command, argv: [python3, box.py], timeout: 5m}
objectives: [{metric: y, direction: minimize}]
budget: {trials: 4}
executor: {kind: slurm, poll: 300ms}
)Y");
  kerntune::util::Child::Options o;
  o.argv = {kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"};
  o.cwd = dir.path.string();
  o.env = slurm_env();
  o.pipe_stdin = false;
  auto child = kerntune::util::Child::spawn(o);
  ASSERT_TRUE(child);
  // Wait for the job to run.
  std::string log, job;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (job.empty() && std::chrono::steady_clock::now() < deadline) {
    auto chunk = child->read_some(200ms);
    if (!chunk) break;
    log += *chunk;
    auto pos = log.find(" is job ");
    if (pos != std::string::npos) {
      auto end = log.find(' ', pos + 8);
      job = log.substr(pos + 8, end - pos - 8);
    }
  }
  ASSERT_FALSE(job.empty()) << log;
  std::string state;
  while (state != "RUNNING" && std::chrono::steady_clock::now() < deadline) {
    state = kerntune::util::trim(run({"squeue", "-h", "-j", job, "-o", "%T"}).out);
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(state, "RUNNING") << run({"scontrol", "show", "job", "-o", job}).out << "\n" << log;
  ::kill(child->pid(), SIGTERM);
  ASSERT_TRUE(child->wait(30s));
  while (auto chunk = child->read_some(100ms)) log += *chunk;
  EXPECT_EQ(child->exit_code(), 130) << log;
  // scancel was sent: the job leaves the running state quickly.
  auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    state = kerntune::util::trim(run({"squeue", "-h", "-j", job, "-o", "%T"}).out);
    if (state.empty() || state == "CANCELLED") break;  // (COMPLETING comes first: wait past it)
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(state.empty() || state == "CANCELLED") << state << "\n" << log;
  auto info = run({"scontrol", "show", "job", "-o", job}).out;
  EXPECT_NE(info.find("JobState=CANCELLED"), std::string::npos) << info << "\n" << log;
  EXPECT_TRUE(stored(dir / "kt.db", "cancel-me").empty());  // the interrupted trial is not stored
}

// `kerntune gate` with `executor: slurm`: every run of either side is its own
// Slurm job (the trial runner tune uses), in the interleaved order
// A B B A A B B A, and the decision is the gate's as on a local target.
TEST_F(Slurm, GateRunsEachSideAsSlurmJobsInterleaved) {
  kt_test::TempDir dir;
  kt_test::write(dir / "box.py", R"kt(import json, os
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen.jsonl"), "a") as f:
    f.write(json.dumps({"slow": p["slow"], "job": os.environ.get("SLURM_JOB_ID", "")}) + "\n")
print("KERNTUNE_METRIC y %d" % (2 if p["slow"] else 1))
)kt");
  const std::string body = "target: {kind: command, argv: [python3, box.py], timeout: 60s}\n"
                           "objectives: [{metric: y, direction: minimize}]\nbudget: {trials: 1}\n";
  // The candidate: trial 0 of a local campaign whose defaults say slow.
  kt_test::write(dir / "t.yaml", "name: slow\nparameters: [{name: slow, domain: generic, type: bool, default: true}]\n" + body);
  auto r = run({kt_test::kerntune_bin(), "tune", dir / "t.yaml", "--db", dir / "kt.db", "--progress", "quiet"},
               dir.path.string(), 2min);
  ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out;
  fs::remove(dir / "seen.jsonl");
  kt_test::write(dir / "g.yaml", "name: gate\nparameters: [{name: slow, domain: generic, type: bool, default: false}]\n" +
                                     body + "executor: {kind: slurm, poll: 300ms, job_timeout: 5m}\n");
  r = run({kt_test::kerntune_bin(), "gate", "--recipe", dir / "g.yaml", "--db", dir / "kt.db", "--candidate", "0",
           "--repeats", "4", "--json"},
          dir.path.string(), 8min);
  ASSERT_EQ(r.exit_code, 1) << r.describe() << "\n" << r.out;  // slow doubles y: a regression
  auto brace = r.out.find("{\n");
  ASSERT_NE(brace, std::string::npos) << r.out;
  json j = json::parse(r.out.substr(brace), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["decision"], "regression");
  EXPECT_EQ(j["baseline_values"], json({1, 1, 1, 1}));
  EXPECT_EQ(j["candidate_values"], json({2, 2, 2, 2}));
  EXPECT_NE(r.out.find("slurm: trial"), std::string::npos) << r.out;  // the coordinator submitted jobs

  auto seen = kerntune::util::read_file(dir / "seen.jsonl");
  ASSERT_TRUE(seen);
  std::vector<bool> order;
  std::set<std::string> jobs;
  for (const auto& line : kerntune::util::split(*seen, '\n')) {
    if (line.empty()) continue;
    json s = json::parse(line);
    order.push_back(s["slow"].get<bool>());
    EXPECT_FALSE(s["job"].get<std::string>().empty()) << "a run outside a Slurm job: " << line;
    jobs.insert(s["job"].get<std::string>());
  }
  EXPECT_EQ(order, (std::vector<bool>{false, true, true, false, false, true, true, false}));
  EXPECT_EQ(jobs.size(), 8u) << "one Slurm job per run";
}
