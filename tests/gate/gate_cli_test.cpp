// kerntune gate on the `command` target with a black box of known effect:
// `slow: true` multiplies the runtime by EFFECT (1.3); noise is lognormal,
// seeded per trial, so every run here is reproducible.
#include <gtest/gtest.h>

#include <filesystem>

#include "../export/bundle_fixture.hpp"
#include "../report/json_schema.hpp"

namespace fs = std::filesystem;
using namespace kt_test;
using nlohmann::json;

namespace {

class Gate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_campaign(*dir_);
    for (const auto& t : trials_json(*dir_)) {
      if (t["kind"] != "proposal") continue;
      if (t["params"]["slow"] == true && slow_seq_ < 0) slow_seq_ = t["seq"];
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  /// A gate recipe (same space) with its own noise level.
  std::string recipe(const std::string& noise, const std::string& seed = "7") {
    std::string p = out_ / ("gate-" + noise + "-" + seed + ".yaml");
    write(out_ / "box.py", kBoxPy);
    write(p, bundle_recipe("gate", noise, seed));
    return p;
  }
  static TempDir* dir_;
  static int slow_seq_;
  TempDir out_;
};
TempDir* Gate::dir_ = nullptr;
int Gate::slow_seq_ = -1;

TEST_F(Gate, ClearRegressionOfATrialIsFlaggedWithExit1AndReports) {
  ASSERT_GE(slow_seq_, 0) << "the random campaign proposed no slow=true trial";
  auto r = run_cli({"gate", "--recipe", recipe("0.01"), "--db", *dir_ / "kt.db", "--candidate", std::to_string(slow_seq_),
                    "--repeats", "6", "--junit", out_ / "gate.xml", "--summary", out_ / "summary.md", "--json"});
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["decision"], "regression");
  EXPECT_GT(j["ratio"]["lo"].get<double>(), 1.02);
  // The --json shape is the one docs/schemas/gate.schema.json ships.
  SchemaValidator schemas(source_dir() + "/docs/schemas");
  auto errors = schemas.validate(j, "gate.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front() << "\n" << r.out;
  json bad = j;
  bad["decision"] = "maybe";
  EXPECT_FALSE(schemas.validate(bad, "gate.schema.json").empty());
  // swappiness also differs between the trial and the defaults: the ratio is
  // 1.3 × (1 − 0.3·s/100) / 0.97.
  EXPECT_EQ(j["baseline_values"].size(), 6u);
  // The JUnit file is well-formed XML with one failure.
  kerntune::util::RunOptions o;
  o.argv = {"python3", "-c",
            "import sys, xml.etree.ElementTree as E\nr=E.parse(sys.argv[1]).getroot()\n"
            "print(r.get('failures'), len(r.findall('.//testcase/failure')))", out_ / "gate.xml"};
  auto x = kerntune::util::run(o);
  ASSERT_TRUE(x && x->ok()) << (x ? x->err : "");
  EXPECT_EQ(x->out, "1 1\n");
  auto md = kerntune::util::read_file(out_ / "summary.md");
  ASSERT_TRUE(md);
  EXPECT_NE(md->find("kerntune gate: regression"), std::string::npos) << *md;
}

TEST_F(Gate, IdenticalConfigurationPassesWithExit0) {
  // Trial 0 is the baseline configuration: the same as `default`.
  auto r = run_cli({"gate", "--recipe", recipe("0.003"), "--db", *dir_ / "kt.db", "--candidate", "0", "--repeats", "8"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("PASS: runtime", 0), 0u) << r.out;
}

TEST_F(Gate, TinyNoisySampleIsInconclusiveWithExit3) {
  auto r = run_cli({"gate", "--recipe", recipe("0.10"), "--db", *dir_ / "kt.db", "--candidate", "0", "--repeats", "3"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("repeats per side would settle it"), std::string::npos) << r.out;
}

TEST_F(Gate, BundleCandidateAndTamperedBundle) {
  ASSERT_GE(slow_seq_, 0);
  std::string b = out_ / "slow-bundle";
  ASSERT_EQ(run_cli({"export", "--db", *dir_ / "kt.db", "--trial", std::to_string(slow_seq_), "--out", b}).code, 0);
  auto r = run_cli({"gate", "--recipe", recipe("0.01"), "--candidate", b, "--repeats", "5"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  // verify re-measures the same bundle and prints the ratio.
  auto v = run_cli({"verify", b, "--recipe", recipe("0.01"), "--repeats", "4"});
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("re-measured: REGRESSION"), std::string::npos) << v.out;
  // verify --json: the manifest and the measurement in one schema-checked object.
  v = run_cli({"verify", b, "--recipe", recipe("0.01"), "--repeats", "3", "--json"});
  ASSERT_EQ(v.code, 0) << v.out << v.err;
  json vj = json::parse(v.out);
  SchemaValidator schemas(source_dir() + "/docs/schemas");
  auto errors = schemas.validate(vj, "verify.schema.json");
  EXPECT_TRUE(errors.empty()) << errors.front() << "\n" << v.out.substr(0, 800);
  EXPECT_EQ(vj["measurement"]["decision"], "regression");
  EXPECT_EQ(vj["manifest"]["trials"]["seq"], slow_seq_);
  // A changed bundle file is refused before anything runs.
  // (appended, so the file surely differs from what was exported)
  kt_test::write(b + "/cmdline", kerntune::util::read_file(b + "/cmdline").value_or("") + "mitigations=off\n");
  r = run_cli({"gate", "--recipe", recipe("0.01"), "--candidate", b, "--repeats", "5"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
}

TEST_F(Gate, BadInputIsExit2) {
  std::string rec = recipe("0.01");
  EXPECT_EQ(run_cli({"gate", "--recipe", rec, "--candidate", out_ / "missing"}).code, 2);
  EXPECT_EQ(run_cli({"gate", "--recipe", rec, "--candidate", "3"}).code, 2);  // a trial without --db
  EXPECT_EQ(run_cli({"gate", "--recipe", rec, "--candidate", "0", "--db", *dir_ / "kt.db", "--max-regression", "150%"}).code, 2);
  EXPECT_EQ(run_cli({"gate", "--recipe", rec, "--candidate", "0", "--db", *dir_ / "kt.db", "--metric", "nope"}).code, 2);
}

TEST_F(Gate, AFailingCandidateIsAnError) {
  // The candidate's runs crash (the box raises on this swappiness): exit 2, reason shown.
  std::string p = out_ / "crash.py";
  write(p, "import json,os\np=json.load(open(os.environ['KERNTUNE_PARAMS']))\n"
           "assert not p['slow'], 'slow configuration crashed'\nprint('KERNTUNE_METRIC runtime 1')\n");
  std::string rec = out_ / "crash.yaml";
  std::string text = bundle_recipe("crash");
  text.replace(text.find("box.py"), 6, "crash.py");
  write(rec, text);
  auto r = run_cli({"gate", "--recipe", rec, "--db", *dir_ / "kt.db", "--candidate", std::to_string(slow_seq_), "--junit", out_ / "j.xml"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("failed at workload"), std::string::npos) << r.out;
  auto j = kerntune::util::read_file(out_ / "j.xml");
  ASSERT_TRUE(j);
  EXPECT_NE(j->find("<error "), std::string::npos);
}

}  // namespace
