// Every malformed recipe exits with code 2 and "FILE:LINE[:COL]: what is wrong"
// naming the line of the fault — never a crash, a hang or a partial campaign.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"

using kt_test::run_cli;

namespace {

const char* kGood = R"kt(name: ok
parameters:
  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}
target: {kind: command, argv: [python3, -c, "print('KERNTUNE_METRIC y 1')"], timeout: 10s}
objectives: [{metric: y, direction: minimize}]
budget: {trials: 2}
)kt";

struct Case {
  const char* name;
  std::string text;
  int line;             // expected line of the fault (0: any)
  const char* message;  // expected substring
};

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  if (pos == std::string::npos) throw std::runtime_error("test bug: " + from);
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST(BadInput, GoodRecipeRuns) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", kGood);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"});
  EXPECT_EQ(r.code, 0) << r.err;
  // A --trials override extends the campaign, and status reports the budget in force.
  auto more = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet", "--trials", "4"});
  EXPECT_EQ(more.code, 0) << more.err;
  auto st = run_cli({"status", "--db", dir / "k.db", "--json"});
  ASSERT_EQ(st.code, 0) << st.err;
  auto j = nlohmann::json::parse(st.out);
  EXPECT_EQ(j["budget"], 4) << st.out;
  EXPECT_EQ(j["done"], 4) << st.out;
}

TEST(BadInput, EachFaultIsLocatedAndExitsTwo) {
  std::vector<Case> cases = {
      {"yaml-syntax", replace(kGood, "budget: {trials: 2}", "budget: {trials: 2"), 0, "YAML syntax error"},
      {"unknown-top-key", std::string(kGood) + "budegt: 3\n", 7, "did you mean 'budget'"},
      {"unknown-param-key", replace(kGood, "range: [0, 1]", "rnage: [0, 1]"), 3, "did you mean 'range'"},
      {"reversed-range", replace(kGood, "range: [0, 1]", "range: [1, 0]"), 3, "range"},
      {"default-outside", replace(kGood, "default: 0.5", "default: 5"), 3, "default"},
      {"duplicate-names", replace(kGood, "target:", "  - {name: x, domain: generic, type: bool, default: true}\ntarget:"), 4, "x"},
      {"when-unknown", replace(kGood, "default: 0.5}", "default: 0.5, when: \"nope == 1\"}"), 3, "nope"},
      {"no-objective", replace(kGood, "objectives: [{metric: y, direction: minimize}]\n", ""), 0, "objective"},
      {"empty-objectives", replace(kGood, "objectives: [{metric: y, direction: minimize}]", "objectives: []"), 5, "objective"},
      {"empty-choice", replace(kGood, "type: real, range: [0, 1], default: 0.5", "type: choice, values: []"), 3, "choice"},
      {"log-over-zero", replace(kGood, "range: [0, 1], default: 0.5", "range: [0, 1], scale: log, default: 0.5"), 3, "log"},
      {"negative-budget", replace(kGood, "trials: 2", "trials: -3"), 6, "negative"},
      {"unknown-target", replace(kGood, "kind: command", "kind: comand"), 4, "did you mean 'command'"},
      {"unknown-type", replace(kGood, "type: real", "type: float"), 3, "float"},
      {"bad-tristate", replace(kGood, "type: real, range: [0, 1], default: 0.5", "type: tristate, default: maybe"), 3, "maybe"},
      {"int-range-reals", replace(kGood, "type: real, range: [0, 1]", "type: int, range: [0.5, 10]"), 3, "int"},
      {"unknown-direction", replace(kGood, "direction: minimize", "direction: minimise"), 5, "did you mean 'minimize'"},
      {"bad-duration", replace(kGood, "timeout: 10s", "timeout: ten seconds"), 4, "duration"},
      {"bad-trust-region", std::string(kGood) + "optimizer: {trust_region: sometimes}\n", 7, "auto, on or off"},
      {"empty-file", "", 0, "empty"},
      {"binary-file", std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10), 0, "not a text file"},
  };
  for (const auto& c : cases) {
    kt_test::TempDir dir;
    std::string path = dir / "recipe.yaml";
    kt_test::write(path, c.text);
    auto r = run_cli({"tune", path, "--db", dir / "k.db", "--progress", "quiet"});
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.err;
    std::string expected_prefix = "kerntune: error: " + path + ":";
    if (c.line > 0) expected_prefix += std::to_string(c.line) + ":";
    EXPECT_EQ(r.err.rfind(expected_prefix, 0), 0u) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << c.name;
    // Nothing half-written: a refused recipe leaves no campaign behind.
    if (std::filesystem::exists(dir / "k.db")) {
      auto t = run_cli({"trials", "--db", dir / "k.db", "--json"});
      EXPECT_NE(t.code, 0) << c.name << " left a campaign: " << t.out;
    }
  }
}

TEST(BadInput, MissingRecipeFile) {
  kt_test::TempDir dir;
  auto r = run_cli({"tune", dir / "nope.yaml", "--db", dir / "k.db"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nope.yaml: file not found"), std::string::npos) << r.err;
}

TEST(BadInput, BadCliFlagsExitTwo) {
  EXPECT_EQ(run_cli({"tune"}).code, 2);
  EXPECT_EQ(run_cli({"tune", "x.yaml", "--trials", "-4"}).code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).code, 2);
  auto help = run_cli({"tune", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
}

TEST(BadInput, ForeignDatabaseIsRefusedUnmodified) {
  kt_test::TempDir dir;
  kt_test::write(dir / "r.yaml", kGood);
  std::string junk(4096, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 2654435761u) >> 13);
  kt_test::write(dir / "junk.db", junk);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "junk.db", "--progress", "quiet"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1);
  EXPECT_EQ(*kerntune::util::read_file(dir / "junk.db"), junk);
}

// A qemu recipe whose kernel image does not exist fails `tune` before any
// trial (and before any VM or database work) with exit code 2, naming the
// recipe line and the missing path.
TEST(BadInput, MissingKernelImageFailsTuneBeforeAnyTrial) {
  kt_test::TempDir dir;
  std::string recipe = replace(kGood,
                               "target: {kind: command, argv: [python3, -c, \"print('KERNTUNE_METRIC y 1')\"], timeout: 10s}",
                               "target: {kind: qemu, kernel: /nonexistent/vmlinuz-kt}");
  kt_test::write(dir / "r.yaml", recipe);
  auto r = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("kerntune: error: " + (dir / "r.yaml") + ":4", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/vmlinuz-kt"), std::string::npos) << r.err;
  if (std::filesystem::exists(dir / "k.db")) {
    auto t = run_cli({"trials", "--db", dir / "k.db", "--json"});
    EXPECT_NE(t.code, 0) << "a campaign was left behind: " << t.out;
  }
}

// Infrastructure is not bad input (docs/cli.md, "Exit codes"): a file that
// exists but cannot be opened, a Slurm executor without sbatch, a database
// in a folder that does not exist all exit 1; the malformed file beside them 2.
TEST(ExitCodes, InfrastructureFailuresExitOneAndBadInputTwo) {
  kt_test::TempDir dir;
  // A UNIX socket exists but open(2) refuses it (ENXIO), even for root.
  auto sock = kerntune::util::run({.argv = {"python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
                                            dir / "space.yaml"}});
  ASSERT_TRUE(sock && sock->ok()) << (sock ? sock->err : sock.error().message);
  auto unreadable = run_cli({"space", "check", dir / "space.yaml"});
  EXPECT_EQ(unreadable.code, 1) << unreadable.err;
  EXPECT_NE(unreadable.err.find("cannot open file"), std::string::npos) << unreadable.err;
  kt_test::write(dir / "bad.yaml", "parameters:\n  - {name: x, domain: generic, type: real, range: [1, 0], default: 0}\n");
  auto malformed = run_cli({"space", "check", dir / "bad.yaml"});
  EXPECT_EQ(malformed.code, 2) << malformed.err;

  const std::string good =
      replace(kGood, "argv: [python3, -c, \"print('KERNTUNE_METRIC y 1')\"]", "argv: [/bin/sh, -c, 'echo KERNTUNE_METRIC y 1']");
  kt_test::write(dir / "r.yaml", good);
  auto nodir = run_cli({"tune", dir / "r.yaml", "--db", dir / "no-such-folder/k.db", "--progress", "quiet"});
  EXPECT_EQ(nodir.code, 1) << nodir.err;
  EXPECT_NE(nodir.err.find("cannot open database"), std::string::npos) << nodir.err;

  kt_test::write(dir / "slurm.yaml", good + "executor: slurm\n");
  auto noslurm = kerntune::util::run({.argv = {kt_test::kerntune_bin(), "tune", dir / "slurm.yaml", "--db", dir / "s.db",
                                               "--progress", "quiet"},
                                      .env = {{"PATH", dir / "empty-path"}},
                                      .timeout = std::chrono::minutes(2)});
  ASSERT_TRUE(noslurm);
  EXPECT_EQ(noslurm->exit_code, 1) << noslurm->err;
  EXPECT_NE(noslurm->err.find("executor: slurm needs 'sbatch' in PATH"), std::string::npos) << noslurm->err;
}
