// `workers: 3` with the command target through the real CLI and a real store:
// trials overlap in time (stored start/end times prove it), the budget is met
// exactly, a trial whose process dies is recorded failed without harming the
// others, SIGTERM stops every worker (no black box left running), and a
// SIGKILLed campaign resumes to exactly its budget.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <set>
#include <thread>

#include "cli.hpp"
#include "kerntune/store/store.hpp"

using kt_test::run_cli;
using namespace std::chrono_literals;

namespace {

std::string recipe(int budget, int workers) {
  return "name: par\nseed: 5\n"
         "parameters:\n"
         "  - {name: x, domain: generic, type: real, range: [-5, 10], default: 0}\n"
         "  - {name: m, domain: generic, type: choice, values: [a, b, c], default: a}\n"
         "target: {kind: command, argv: [python3, box.py], timeout: 60s}\n"
         "objectives: [{metric: y, direction: minimize}]\n"
         "budget: {trials: " + std::to_string(budget) + "}\n"
         "workers: " + std::to_string(workers) + "\n";
}

// Each evaluation: records its pid while it runs (pids/<pid>), sleeps, prints y.
// Trial 4 kills itself with SIGKILL (a worker process that dies).
const char* kBox = R"kt(import json, os, time, signal
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
seq = int(os.environ["KERNTUNE_TRIAL"])
os.makedirs("pids", exist_ok=True)
mark = os.path.join("pids", str(os.getpid()))
open(mark, "w").close()
with open("evals.log", "a") as f:
    f.write("%d\n" % seq)
if seq == 4 and os.environ.get("BOX_KILL_4") == "1":
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(float(os.environ.get("BOX_SLEEP", "0.8")))
os.remove(mark)
y = (p["x"] - 2) ** 2 + {"a": 1, "b": 0, "c": 2}[p["m"]]
print("KERNTUNE_METRIC y %.6f" % y)
)kt";

std::vector<kerntune::store::TrialRecord> stored(const std::string& db) {
  auto st = kerntune::store::Store::open(db, {.create = false, .read_only = true});
  EXPECT_TRUE(st) << (st ? "" : st.error().message);
  if (!st) return {};
  auto c = st->find_campaign("par");
  EXPECT_TRUE(c && *c);
  if (!c || !*c) return {};
  auto t = st->trials((*c)->id);
  EXPECT_TRUE(t);
  return t ? *t : std::vector<kerntune::store::TrialRecord>{};
}

// The most trials whose [started_at, finished_at] intervals overlap at one moment.
int max_overlap(const std::vector<kerntune::store::TrialRecord>& trials) {
  std::vector<std::pair<double, int>> events;
  for (const auto& t : trials) {
    events.emplace_back(t.started_at, +1);
    events.emplace_back(t.finished_at, -1);
  }
  std::sort(events.begin(), events.end(), [](auto a, auto b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
  int now = 0, best = 0;
  for (auto [when, d] : events) best = std::max(best, now += d);
  return best;
}

int count_lines(const std::string& path) {
  auto text = kerntune::util::read_file(path);
  return text ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : 0;
}

kerntune::util::Child start_tune(const kt_test::TempDir& dir, std::map<std::string, std::string> env = {}) {
  kerntune::util::Child::Options o;
  o.argv = {kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"};
  o.cwd = dir.path.string();
  o.pipe_stdin = false;
  o.env = std::move(env);
  auto c = kerntune::util::Child::spawn(o);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(*c);
}

std::string drain(kerntune::util::Child& c, std::chrono::milliseconds for_how_long) {
  std::string all;
  auto end = std::chrono::steady_clock::now() + for_how_long;
  while (std::chrono::steady_clock::now() < end) {
    auto chunk = c.read_some(50ms);
    if (!chunk) break;
    all += *chunk;
  }
  return all;
}

}  // namespace

TEST(Workers, ThreeWorkersOverlapAndMeetTheBudgetExactly) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe(13, 3));
  kt_test::write(dir / "box.py", kBox);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"}, dir.path.string());
  ASSERT_EQ(r.code, 0) << r.err;

  auto trials = stored(dir / "kt.db");
  ASSERT_EQ(trials.size(), 13u);
  EXPECT_EQ(count_lines(dir / "evals.log"), 13);  // nothing ran twice, nothing extra
  std::set<int> seqs;
  std::set<std::string> workers;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, "ok") << t.seq << ": " << t.failure_reason;
    seqs.insert(t.seq);
    workers.insert(t.worker.substr(0, t.worker.find(':')));
    EXPECT_GT(t.finished_at, t.started_at);
  }
  EXPECT_EQ(seqs.size(), 13u);
  EXPECT_EQ(*seqs.rbegin(), 12);
  EXPECT_EQ(trials.front().kind, "baseline");
  EXPECT_EQ(workers, (std::set<std::string>{"w0", "w1", "w2"}));
  // The baseline runs alone; afterwards three at a time.
  EXPECT_EQ(max_overlap(trials), 3);
  auto proposals = trials;
  std::erase_if(proposals, [](const auto& t) { return t.kind != "proposal"; });
  ASSERT_EQ(proposals.size(), 12u);
  // No proposal repeats a point still in flight (asked with pending points).
  std::set<std::string> params;
  for (const auto& t : proposals) params.insert(t.params_json);
  EXPECT_EQ(params.size(), proposals.size());

  // Twelve 0.8 s proposals on three workers: far less than one after another.
  double first = 1e300, last = 0;
  for (const auto& t : proposals) {
    first = std::min(first, t.started_at);
    last = std::max(last, t.finished_at);
  }
  double serial = 0;
  for (const auto& t : proposals) serial += t.finished_at - t.started_at;
  EXPECT_LT(last - first, serial * 0.75) << "span " << (last - first) << " s vs serial " << serial << " s";
}

TEST(Workers, ADyingTrialIsRecordedFailedAndTheOthersGoOn) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe(9, 3));
  kt_test::write(dir / "box.py", kBox);
  kerntune::util::RunOptions o;
  o.argv = {kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"};
  o.cwd = dir.path.string();
  o.env = {{"BOX_KILL_4", "1"}};
  o.timeout = 5min;
  auto r = kerntune::util::run(o);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->exit_code, 0) << r->err;
  auto trials = stored(dir / "kt.db");
  ASSERT_EQ(trials.size(), 9u);
  for (const auto& t : trials) {
    if (t.seq == 4) {
      EXPECT_EQ(t.status, "failed");
      EXPECT_EQ(t.failure_stage, "workload");
      EXPECT_NE(t.failure_reason.find("signal 9"), std::string::npos) << t.failure_reason;
    } else {
      EXPECT_EQ(t.status, "ok") << t.seq << ": " << t.failure_reason;
    }
  }
}

TEST(Workers, SigtermStopsEveryWorkerAndResumeCompletes) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe(15, 3));
  kt_test::write(dir / "box.py", kBox);
  auto child = start_tune(dir, {{"BOX_SLEEP", "3"}});
  // Wait until three black boxes run at once.
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto running = [&] {
    std::error_code ec;
    int n = 0;
    for (auto it = std::filesystem::directory_iterator(dir.path / "pids", ec); !ec && it != std::filesystem::directory_iterator(); ++it) ++n;
    return n;
  };
  while (running() < 3 && std::chrono::steady_clock::now() < deadline) log += drain(child, 100ms);
  ASSERT_EQ(running(), 3) << log;
  std::vector<int> pids;
  for (const auto& e : std::filesystem::directory_iterator(dir.path / "pids")) pids.push_back(std::stoi(e.path().filename()));
  auto t0 = std::chrono::steady_clock::now();
  ::kill(child.pid(), SIGTERM);
  ASSERT_TRUE(child.wait(20s)) << "tune did not stop";
  EXPECT_EQ(child.exit_code(), 130);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  for (int pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "black box " << pid << " still running";

  auto partial = stored(dir / "kt.db");
  EXPECT_GT(partial.size(), 0u);
  EXPECT_LT(partial.size(), 15u);
  auto fin = run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"}, dir.path.string());
  ASSERT_EQ(fin.code, 0) << fin.err;
  EXPECT_NE(fin.err.find("resuming campaign 'par'"), std::string::npos) << fin.err;
  auto trials = stored(dir / "kt.db");
  EXPECT_EQ(trials.size(), 15u);
  std::set<int> seqs;
  for (const auto& t : trials) seqs.insert(t.seq);
  EXPECT_EQ(seqs.size(), trials.size());
}

TEST(Workers, SigkillResumeReachesTheBudgetWithIntactStore) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", recipe(16, 3));
  kt_test::write(dir / "box.py", kBox);
  std::mt19937 rng(7);
  for (int i = 0; i < 3; ++i) {
    // Kill once this run has started three more evaluations than were logged
    // before it, plus a random 0–300 ms (less than one 0.4 s evaluation): the
    // moment is random within a trial, yet the campaign cannot have finished
    // (a fixed delay let a fast, idle machine finish before the third kill).
    int target = count_lines(dir / "evals.log") + 3;
    auto child = start_tune(dir, {{"BOX_SLEEP", "0.4"}});
    auto give_up = std::chrono::steady_clock::now() + 30s;
    while (count_lines(dir / "evals.log") < target && child.running() && std::chrono::steady_clock::now() < give_up)
      drain(child, 50ms);
    drain(child, std::chrono::milliseconds(rng() % 300));
    ASSERT_TRUE(child.running()) << "finished before kill " << i << " (" << count_lines(dir / "evals.log")
                                 << " evaluations logged)";
    child.kill_group(SIGKILL);
    ASSERT_TRUE(child.wait(5s));
  }
  auto fin = run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db", "--progress", "lines"}, dir.path.string());
  ASSERT_EQ(fin.code, 0) << fin.err;
  auto trials = stored(dir / "kt.db");
  ASSERT_EQ(trials.size(), 16u);
  std::set<int> seqs;
  int baselines = 0;
  for (const auto& t : trials) {
    seqs.insert(t.seq);
    baselines += t.kind == "baseline" ? 1 : 0;
    EXPECT_EQ(t.status, "ok") << "trial " << t.seq << ": " << t.failure_stage << ": " << t.failure_reason;
  }
  EXPECT_EQ(seqs.size(), 16u);
  EXPECT_EQ(baselines, 1);
  // At most the in-flight trials of each kill were lost and run again.
  // (Once seen failing under load, not reproduced: the log below says which seqs ran twice.)
  EXPECT_LE(count_lines(dir / "evals.log"), 16 + 3 * 3)
      << "evaluations by seq:\n" << kerntune::util::read_file(dir / "evals.log").value_or("(none)") << fin.err;
  auto st = kerntune::store::Store::open(dir / "kt.db", {.create = false});
  ASSERT_TRUE(st);
  auto ic = st->integrity_check();
  ASSERT_TRUE(ic);
  EXPECT_EQ(*ic, "ok");
}

TEST(Workers, BadExecutorAndWorkersAreLocatedErrors) {
  kt_test::TempDir dir;
  kt_test::write(dir / "box.py", kBox);
  struct Case {
    std::string tail, where, what;
  };
  for (const auto& c : std::vector<Case>{
           {"executor: slurmm\n", "r.yaml:10:11", "did you mean 'slurm'"},
           {"executor: {kind: slurm, poll: soon}\n", "r.yaml:10:31", "cannot parse duration"},
           {"executor: {kind: slurm, sbatch_args: --x}\n", "r.yaml:10:38", "must be a list"},
           {"executor: {kind: local, partition: p}\n", "r.yaml:10:11", "takes no other keys"},
       }) {
    std::string text = recipe(3, 2);
    text.replace(text.find("workers: 2\n"), 11, "workers: 2\n" + c.tail);
    kt_test::write(dir / "r.yaml", text);
    auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db"}, dir.path.string());
    EXPECT_EQ(r.code, 2) << c.tail << r.err;
    EXPECT_NE(r.err.find(c.where), std::string::npos) << c.tail << r.err;
    EXPECT_NE(r.err.find(c.what), std::string::npos) << c.tail << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "kt.db")) << "a refused recipe created a store";
  }
  std::string zero = recipe(3, 0);
  kt_test::write(dir / "r.yaml", zero);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "kt.db"}, dir.path.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'workers' must be at least 1"), std::string::npos) << r.err;
}
