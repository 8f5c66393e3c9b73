// report, status, show trial through the real CLI on real campaigns; the
// report rendered by a real headless Chromium; --json validated against the
// schemas shipped in docs/schemas; --help examples on every subcommand.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <regex>
#include <string_view>
#include <set>
#include <thread>

#include "../integration/cli.hpp"
#include "chromium.hpp"
#include "json_schema.hpp"
#include "kerntune/util/subprocess.hpp"

using kt_test::chromium;
using kt_test::chromium_argv;
using kt_test::page_request_urls;
using kt_test::run_cli;
using nlohmann::json;

namespace {

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Two objectives, three repeats, noise, and failures (mode=full with x > 6).
constexpr const char* kEval = R"py(import json, math, os, random, sys
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
if p["mode"] == "full" and p["x"] > 6:
    print("simulated crash: mode=full with x > 6", file=sys.stderr)
    sys.exit(3)
y = (p["x"] - 2.5) ** 2 / 4.0 + (math.log2(p["n"]) - 8.0) ** 2 / 8.0 + {"none": 1.0, "voluntary": 0.0, "full": 0.5}[p["mode"]]
print("KERNTUNE_METRIC y %.6f s" % (y * random.uniform(0.97, 1.03) + 0.5))
print("KERNTUNE_METRIC mem %.3f MB" % (100 + p["n"] / 16.0))
)py";

std::string recipe(int trials, const std::string& extra = "") {
  return "name: rep\nseed: 5\nparameters:\n"
         "  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}\n"
         "  - {name: n, domain: generic, type: int, range: [1, 4096], scale: log, default: 64}\n"
         "  - {name: mode, domain: generic, type: choice, values: [none, voluntary, full], default: none}\n"
         "target:\n  kind: command\n  argv: [python3, eval.py]\n  timeout: 60s\n"
         "repeats: 3\n"
         "objectives:\n  - {metric: y, direction: minimize}\n  - {metric: mem, direction: minimize}\n"
         "budget:\n  trials: " + std::to_string(trials) + "\n" + extra;
}

struct Campaign {
  kt_test::TempDir dir;
  std::string db;
};

/// One stored campaign shared by the read-only tests (run once).
const Campaign& stored_campaign() {
  static Campaign* c = [] {
    auto* cc = new Campaign;
    kt_test::write(cc->dir / "eval.py", kEval);
    kt_test::write(cc->dir / "recipe.yaml", recipe(18, "noise: {confirm_top: 1, confirm_rounds: 3}\n"));
    cc->db = cc->dir / "kt.db";
    auto r = run_cli({"tune", cc->dir / "recipe.yaml", "--db", cc->db, "--progress", "lines"});
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    return cc;
  }();
  return *c;
}

json cli_json(const std::vector<std::string>& args) {
  auto r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

}  // namespace

TEST(ReportCli, RendersInHeadlessChromiumWithOnePointPerTrialAndNoRequests) {
  auto bin = chromium();
  if (!bin) GTEST_SKIP() << "LOUD SKIP: chromium is not installed (apt-get install -y chromium); the report was not rendered";
  const auto& c = stored_campaign();
  json trials = cli_json({"trials", "--db", c.db, "--json"});
  std::size_t ok = 0, failed = 0;
  for (const auto& t : trials) (t["status"] == "ok" ? ok : failed) += 1;
  ASSERT_GT(ok, 5u);

  kt_test::TempDir out;
  std::string html_path = out / "report.html";
  auto r = run_cli({"report", "--db", c.db, "--out", html_path});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string html = *kerntune::util::read_file(html_path);
  // Nothing in the page can make a request: no URL at all, and a CSP that forbids any.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);

  // The DOM as Chromium built it (after the inline script ran).
  kerntune::util::RunOptions o;
  o.argv = chromium_argv(*bin, out / "profile-dom");
  o.argv.push_back("--dump-dom");
  o.argv.push_back("file://" + html_path);
  o.timeout = std::chrono::minutes(3);
  auto dom = kerntune::util::run(o);
  ASSERT_TRUE(dom.has_value());
  ASSERT_TRUE(dom->ok()) << dom->describe() << dom->err;
  const std::string& d = dom->out;
  EXPECT_NE(d.find("id=\"convergence\""), std::string::npos);
  // One point per trial that has the objective (ok trials), one cross per failed trial.
  EXPECT_EQ(count(d, "<circle class=\"trial ok"), ok) << d.substr(0, 2000);
  EXPECT_EQ(count(d, "<path class=\"trial failed\""), failed);
  EXPECT_NE(d.find("id=\"importance-chart\""), std::string::npos);
  EXPECT_EQ(count(d, "<rect class=\"bar\""), 3u);  // x, n, mode
  EXPECT_NE(d.find("id=\"pareto-chart\""), std::string::npos);
  std::regex row(R"re(<tr class="[^"]*" data-seq=)re");
  EXPECT_EQ(static_cast<std::size_t>(std::distance(std::sregex_iterator(d.begin(), d.end(), row), std::sregex_iterator())),
            trials.size());  // one table row per trial

  // A screenshot, with the network log on: the page loaded and no request left it.
  std::string png = out / "report.png", netlog = out / "net.json";
  o.argv = chromium_argv(*bin, out / "profile-shot");
  o.argv.insert(o.argv.end(), {"--screenshot=" + png, "--window-size=1100,2600", "--log-net-log=" + netlog,
                               "file://" + html_path});
  auto shot = kerntune::util::run(o);
  ASSERT_TRUE(shot.has_value());
  ASSERT_TRUE(shot->ok()) << shot->describe() << shot->err;
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20000u);
  std::string log = *kerntune::util::read_file(netlog);
  // Requests a page makes carry its origin as "initiator" ("null" for a
  // file:// page); Chromium's own background traffic (update, time and account
  // checks, which --disable-background-networking does not stop entirely) is
  // logged with "initiator":"not an origin".
  std::set<std::string> urls = page_request_urls(log);
  EXPECT_TRUE(urls.empty()) << "the page made requests, e.g. " << *urls.begin();
  EXPECT_NE(log.find("file:///"), std::string::npos) << "the net log did not record the page load";
}

TEST(ReportCli, JsonOutputsValidateAgainstTheShippedSchemas) {
  const auto& c = stored_campaign();
  kt_test::SchemaValidator v(kt_test::source_dir() + "/docs/schemas");
  auto expect_valid = [&](const json& doc, const std::string& schema) {
    auto errors = v.validate(doc, schema);
    EXPECT_TRUE(errors.empty()) << schema << ": " << (errors.empty() ? "" : errors.front()) << "\n" << doc.dump().substr(0, 600);
  };
  json trials = cli_json({"trials", "--db", c.db, "--json"});
  expect_valid(trials, "trials.schema.json");
  expect_valid(cli_json({"best", "--db", c.db, "--json"}), "best.schema.json");
  json status = cli_json({"status", "--db", c.db, "--json"});
  expect_valid(status, "status.schema.json");
  EXPECT_EQ(status["state"], "finished");
  EXPECT_EQ(status["done"], 18);
  EXPECT_EQ(status["budget"], 18);
  EXPECT_GT(status["extra"].get<int>(), 0);  // the confirmation phase
  EXPECT_TRUE(status["eta_seconds"].is_null());
  for (const auto& t : trials) {
    if (t["status"] != "failed") continue;
    json show = cli_json({"show", "trial", std::to_string(t["seq"].get<int>()), "--db", c.db, "--json"});
    expect_valid(show, "show-trial.schema.json");
    // The failure's stderr is among the artifacts.
    bool found = false;
    for (const auto& a : show["artifacts"]) found = found || a["content"].get<std::string>().find("simulated crash") != std::string::npos;
    EXPECT_TRUE(found) << show["artifacts"].dump().substr(0, 500);
    break;
  }
  json show0 = cli_json({"show", "trial", "0", "--db", c.db, "--json"});
  expect_valid(show0, "show-trial.schema.json");
  EXPECT_EQ(show0["kind"], "baseline");
  std::string space = kt_test::source_dir() + "/search-spaces/example-generic.yaml";
  if (std::filesystem::exists(space)) {
    expect_valid(cli_json({"space", "show", space, "--json"}), "space-show.schema.json");
    expect_valid(cli_json({"space", "sample", space, "-n", "3", "--seed", "1", "--json"}), "space-sample.schema.json");
    expect_valid(cli_json({"space", "check", space, "--json"}), "space-check.schema.json");
  }
  // The validator is not a rubber stamp.
  json bad = status;
  bad["done"] = "many";
  EXPECT_FALSE(v.validate(bad, "status.schema.json").empty());
  bad = trials;
  bad[0].erase("kind");
  EXPECT_FALSE(v.validate(bad, "trials.schema.json").empty());
}

TEST(ReportCli, ShowTrialTextHasLogsAndAnUnknownTrialIsBadInput) {
  const auto& c = stored_campaign();
  auto r = run_cli({"show", "trial", "0", "--db", c.db});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("trial 0 of campaign 'rep'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("---- artifact"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KERNTUNE_METRIC y"), std::string::npos) << r.out;  // the raw stdout
  auto bad = run_cli({"show", "trial", "999", "--db", c.db});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("has no trial 999"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty());
}

TEST(ReportCli, StatusFollowsATuneRunningInAnotherProcess) {
  kt_test::TempDir dir;
  // Each trial takes ≥ 0.25 s so the campaign is still running while we look.
  kt_test::write(dir / "eval.py", std::string("import time\ntime.sleep(0.25)\n") + kEval);
  kt_test::write(dir / "recipe.yaml", recipe(14, "optimizer: {kind: random}\n"));
  std::string db = dir / "kt.db";
  auto tune = kerntune::util::Child::spawn({.argv = {kt_test::kerntune_bin(), "tune", dir / "recipe.yaml", "--db", db, "--progress", "lines"},
                                            .pipe_stdin = false});
  ASSERT_TRUE(tune.has_value());
  // Wait until a few trials are stored, then look while it runs.
  json s;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(db)) {
      auto r = run_cli({"status", "--db", db, "--json"});
      if (r.code == 0) {
        s = json::parse(r.out);
        if (s["done"].get<int>() >= 3) break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(s["done"].get<int>(), 3) << s.dump();
  EXPECT_EQ(s["state"], "running");
  EXPECT_LT(s["done"].get<int>(), 14);
  EXPECT_EQ(s["budget"], 14);
  EXPECT_FALSE(s["eta_seconds"].is_null());
  EXPECT_FALSE(s["last_trial"].is_null());
  // --watch follows it to the end and exits by itself when the campaign finishes.
  auto watch = run_cli({"status", "--db", db, "--watch", "--json", "--interval", "0.2"}, "", std::chrono::minutes(3));
  ASSERT_EQ(watch.code, 0) << watch.err;
  std::vector<json> lines;
  for (const auto& line : kerntune::util::split(watch.out, '\n'))
    if (!line.empty()) lines.push_back(json::parse(line));
  ASSERT_GE(lines.size(), 2u);
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_GE(lines[i]["done"], lines[i - 1]["done"]);
  EXPECT_EQ(lines.back()["state"], "finished");
  EXPECT_EQ(lines.back()["done"], 14);
  EXPECT_TRUE(tune->wait(std::chrono::minutes(1)));
  EXPECT_EQ(tune->exit_code(), 0);
  // The human view of the finished campaign.
  auto text = run_cli({"status", "--db", db});
  EXPECT_NE(text.out.find("14 / 14 (100%)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("best      trial"), std::string::npos) << text.out;
}

TEST(ReportCli, EverySubcommandHelpHasAnExample) {
  // Walk the command tree from the top-level help ("Subcommands:" sections).
  std::vector<std::vector<std::string>> todo = {{}}, seen;
  while (!todo.empty()) {
    auto path = todo.back();
    todo.pop_back();
    auto args = path;
    args.push_back("--help");
    auto r = run_cli(args);
    ASSERT_EQ(r.code, 0) << "kerntune " << kerntune::util::trim(fmt::format("{}", fmt::join(path, " "))) << " --help: " << r.err;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << "no example in: kerntune " << fmt::format("{}", fmt::join(path, " ")) << " --help";
    seen.push_back(path);
    ASSERT_LT(seen.size(), 200u) << "the command tree walk does not end";
    auto pos = r.out.find("SUBCOMMANDS:");  // CLI11's heading differs between versions
    if (pos == std::string::npos) pos = r.out.find("Subcommands:");
    if (pos == std::string::npos) continue;
    // The section's lines are "  name   description"; it ends at the first
    // line that is not indented (e.g. "Examples:").
    auto lines = kerntune::util::split(r.out.substr(pos), '\n');
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const auto& line = lines[i];
      if (line.rfind("  ", 0) != 0) break;
      std::string name = kerntune::util::trim(line).substr(0, kerntune::util::trim(line).find(' '));
      if (name.empty() || !std::islower(static_cast<unsigned char>(name[0]))) continue;
      auto next = path;
      next.push_back(name);
      todo.push_back(next);
    }
  }
  std::set<std::string> names;
  for (const auto& p : seen) names.insert(fmt::format("{}", fmt::join(p, " ")));
  for (const char* must : {"report", "status", "show trial", "tune", "trials", "best"}) EXPECT_TRUE(names.contains(must)) << must;
}
