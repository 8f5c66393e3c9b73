// A campaign killed with SIGKILL at random moments and restarted with the same
// command ends with the full budget, each seq once, an intact database, no
// more black-box evaluations than trials plus one per kill — and the same
// proposals as an uninterrupted run. SIGTERM stops cleanly (exit 130).
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "cli.hpp"
#include "kerntune/store/store.hpp"

using kt_test::run_cli;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRecipe = R"kt(name: killme
seed: 11
parameters:
  - {name: x, domain: generic, type: real, range: [-5, 10], default: 0}
  - {name: k, domain: generic, type: int, range: [1, 100], scale: log, default: 10}
  - {name: m, domain: generic, type: choice, values: [a, b, c], default: a}
target: {kind: command, argv: [python3, slow.py], timeout: 30s}
objectives: [{metric: y, direction: minimize}]
budget: {trials: 24}
)kt";

// Appends one line per evaluation to evals.log (the count of black-box runs).
const char* kBlackBox = R"kt(import json, os, time, math
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
with open("evals.log", "a") as f:
    f.write("%s\n" % os.environ["KERNTUNE_TRIAL"])
time.sleep(0.25)
y = (p["x"] - 2) ** 2 + (math.log(p["k"]) - 2) ** 2 + {"a": 1, "b": 0, "c": 2}[p["m"]]
print("KERNTUNE_METRIC y %.6f" % y)
)kt";

std::vector<json> read_trials(const std::string& db) {
  auto r = run_cli({"trials", "--db", db, "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  return {j.begin(), j.end()};
}

int count_lines(const std::string& path) {
  auto text = kerntune::util::read_file(path);
  if (!text) return 0;
  return static_cast<int>(std::count(text->begin(), text->end(), '\n'));
}

kerntune::util::Result<kerntune::util::Child> start_tune(const kt_test::TempDir& dir, const std::string& db) {
  kerntune::util::Child::Options o;
  o.argv = {kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", db, "--progress", "lines"};
  o.cwd = dir.path.string();
  o.pipe_stdin = false;
  return kerntune::util::Child::spawn(o);
}

void drain(kerntune::util::Child& c, std::chrono::milliseconds for_how_long) {
  auto end = std::chrono::steady_clock::now() + for_how_long;
  while (std::chrono::steady_clock::now() < end) {
    auto chunk = c.read_some(50ms);
    if (!chunk) break;
  }
}

}  // namespace

TEST(KillResume, SigkillAtRandomMomentsLosesNothing) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", kRecipe);
  kt_test::write(dir / "slow.py", kBlackBox);
  std::string db = dir / "kill.db";
  std::mt19937 rng(20261128);
  const int kills = 5;
  for (int i = 0; i < kills; ++i) {
    auto child = start_tune(dir, db);
    ASSERT_TRUE(child) << child.error().message;
    // Random moment: while starting, mid-trial, or between trials — but early
    // enough that two trials per remaining kill are left (on a fast, idle
    // machine the random delays alone could let the campaign finish first).
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300 + rng() % 1700);
    const int cap = 24 - 2 * (kills - i);
    while (std::chrono::steady_clock::now() < until && count_lines(dir / "evals.log") < cap) drain(*child, 50ms);
    ASSERT_TRUE(child->running()) << "tune finished before kill " << i;
    child->kill_group(SIGKILL);
    ASSERT_TRUE(child->wait(5s));
    EXPECT_EQ(child->term_signal(), SIGKILL);
  }
  auto fin = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "lines"}, dir.path.string());
  ASSERT_EQ(fin.code, 0) << fin.err;

  auto trials = read_trials(db);
  ASSERT_EQ(trials.size(), 24u);
  std::set<int> seqs;
  for (const auto& t : trials) {
    EXPECT_EQ(t["status"], "ok");
    seqs.insert(t["seq"].get<int>());
  }
  EXPECT_EQ(seqs.size(), 24u);
  EXPECT_EQ(*seqs.begin(), 0);
  EXPECT_EQ(*seqs.rbegin(), 23);
  int evals = count_lines(dir / "evals.log");
  EXPECT_GE(evals, 24);
  EXPECT_LE(evals, 24 + kills);

  auto st = kerntune::store::Store::open(db, {.create = false});
  ASSERT_TRUE(st) << st.error().message;
  auto ic = st->integrity_check();
  ASSERT_TRUE(ic);
  EXPECT_EQ(*ic, "ok");

  // Resume reproduces the proposals of an uninterrupted run with the same seed.
  std::string clean_db = dir / "clean.db";
  auto clean = run_cli({"tune", dir / "r.yaml", "--db", clean_db, "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(clean.code, 0) << clean.err;
  auto reference = read_trials(clean_db);
  ASSERT_EQ(reference.size(), trials.size());
  for (std::size_t i = 0; i < trials.size(); ++i)
    EXPECT_EQ(trials[i]["params"], reference[i]["params"]) << "trial " << i;
}

TEST(KillResume, SigtermStopsCleanlyAndResumes) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", kRecipe);
  kt_test::write(dir / "slow.py", kBlackBox);
  std::string db = dir / "term.db";
  auto child = start_tune(dir, db);
  ASSERT_TRUE(child);
  drain(*child, 2500ms);
  child->kill_group(SIGTERM);
  ASSERT_TRUE(child->wait(10s));
  EXPECT_EQ(child->exit_code(), 130);
  auto partial = read_trials(db);
  EXPECT_GT(partial.size(), 0u);
  EXPECT_LT(partial.size(), 24u);
  auto fin = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "lines"}, dir.path.string());
  ASSERT_EQ(fin.code, 0) << fin.err;
  EXPECT_NE(fin.err.find("resuming campaign 'killme'"), std::string::npos) << fin.err;
  EXPECT_EQ(read_trials(db).size(), 24u);
}
