// No injection through local channels (issue 9, docs/hardening.md): names,
// values, workload arguments and paths holding spaces, quotes, ; | $() and
// backticks, newlines and non-UTF-8 bytes are passed as data, byte for byte —
// through util::run, through the `command` target driven by the real CLI, and
// into the kernel command line, where a value must never become a second
// boot parameter.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cli.hpp"
#include "kerntune/campaign/realize.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/subprocess.hpp"

using kt_test::run_cli;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace kerntune;

namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Each a complete shell attack if anything ever passed it through a shell.
std::vector<std::string> hostile(const std::string& dir) {
  return {
      "two words",
      "semi;colon; touch " + dir + "/pwned-semi",
      "pipe | touch " + dir + "/pwned-pipe",
      "$(touch " + dir + "/pwned-subst)",
      "`touch " + dir + "/pwned-tick`",
      "quote' \"double\" 'single",
      "new\nline\ntouch " + dir + "/pwned-newline",
      std::string("bytes \xff\xfe\x80 end"),
      "glob * ? [a-z] ~ {a,b}",
      "-dash --looks-like-an-option",
      "",
  };
}

void expect_no_side_effects(const std::string& dir) {
  for (const char* f : {"pwned-semi", "pwned-pipe", "pwned-subst", "pwned-tick", "pwned-newline"})
    EXPECT_FALSE(fs::exists(fs::path(dir) / f)) << f << " was created: something ran a shell";
}

// Prints each argument (and $KT_ENV) as hex, one per line.
const char* kEcho =
    "import os, sys\n"
    "for a in sys.argv[1:]: print(os.fsencode(a).hex())\n"
    "print('env', os.fsencode(os.environ.get('KT_ENV', '')).hex())\n"
    "print('cwd', os.fsencode(os.getcwd()).hex())\n";

}  // namespace

TEST(InjectionLocal, RunPassesArgvEnvAndCwdAsBytes) {
  kt_test::TempDir dir;
  const std::string odd = dir / "odd dir; $(x) `y` 'q' \"d\" \xff";
  fs::create_directories(odd);
  auto args = hostile(dir.path.string());
  util::RunOptions o;
  o.argv = {"python3", "-c", kEcho};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {{"KT_ENV", "e;$(touch " + (dir / "pwned-subst") + ")\n\xfe"}};
  o.cwd = odd;
  auto r = util::run(o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->describe() << r->err;
  std::string want;
  for (const auto& a : args) want += hex(a) + "\n";
  want += "env " + hex(o.env["KT_ENV"]) + "\n";
  want += "cwd " + hex(fs::canonical(odd).string()) + "\n";
  EXPECT_EQ(r->out, want);
  expect_no_side_effects(dir.path.string());
}

namespace {

// The command target's black box: records its argv and the parameters file
// (both as hex) in the folder it runs in, then prints a metric.
const char* kRecorder =
    "import json, os, sys\n"
    "raw = open(os.environ['KERNTUNE_PARAMS'], 'rb').read()\n"
    "p = json.loads(raw)\n"
    "with open('seen.log', 'a') as f:\n"
    "    f.write(json.dumps({'argv': [os.fsencode(a).hex() for a in sys.argv[1:]], 'params': p}) + '\\n')\n"
    "print('KERNTUNE_METRIC y %d' % len(p['mode']))\n";

std::string yaml_quoted(std::string_view s) {
  // A YAML double-quoted scalar with every byte that needs it escaped.
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

TEST(InjectionLocal, CommandTargetPassesValuesArgumentsAndPathsAsData) {
  kt_test::TempDir dir;
  // The recipe, its black box and the database live in a folder whose name
  // would break any shell command line built from it.
  const fs::path home = dir.path / "lab dir; | $(touch pwned-subst) `touch pwned-tick` 'q' \"d\"";
  fs::create_directories(home);
  kt_test::write((home / "record it.py").string(), kRecorder);
  const std::vector<std::string> values = {
      "two words",       "semi;colon; touch pwned-semi", "pipe | touch pwned-pipe",
      "$(touch pwned-subst)", "`touch pwned-tick`",      "quote' \"double\"",
      "new\nline\ntouch pwned-newline"};
  const std::vector<std::string> args = {"a b", "$(touch pwned-subst)", "x;touch pwned-semi", "`touch pwned-tick`",
                                         "q'\"", "l\ntouch pwned-newline", "| touch pwned-pipe"};
  std::string r = "name: inject\nseed: 1\nparameters:\n"
                  "  - name: mode\n    domain: generic\n    type: choice\n    values:\n";
  for (const auto& v : values) r += "      - " + yaml_quoted(v) + "\n";
  r += "    default: " + yaml_quoted(values[0]) + "\n";
  r += "target:\n  kind: command\n  timeout: 30s\n  argv:\n    - python3\n    - record it.py\n";
  for (const auto& a : args) r += "    - " + yaml_quoted(a) + "\n";
  r += "objectives: [{metric: y, direction: minimize}]\noptimizer: {kind: random}\nbudget: {trials: 16}\n";
  kt_test::write((home / "recipe; rm -rf x.yaml").string(), r);

  auto tune = run_cli({"tune", (home / "recipe; rm -rf x.yaml").string(), "--db", (home / "k b.db").string(),
                       "--progress", "quiet"},
                      home.string());
  ASSERT_EQ(tune.code, 0) << tune.out << tune.err;

  auto seen_text = util::read_file((home / "seen.log").string());
  ASSERT_TRUE(seen_text) << "the black box never ran";
  std::set<std::string> seen_values;
  int runs = 0;
  for (const auto& line : util::split(*seen_text, '\n')) {
    if (line.empty()) continue;
    ++runs;
    auto j = json::parse(line);
    std::vector<std::string> want;
    for (const auto& a : args) want.push_back(hex(a));
    EXPECT_EQ(j["argv"].get<std::vector<std::string>>(), want);
    seen_values.insert(j["params"]["mode"].get<std::string>());
  }
  EXPECT_EQ(runs, 16);
  for (const auto& v : seen_values)
    EXPECT_NE(std::find(values.begin(), values.end(), v), values.end()) << "a value arrived altered: " << v;
  EXPECT_GE(seen_values.size(), 4u) << "random search over 16 trials should try several values";
  expect_no_side_effects(home.string());
  expect_no_side_effects(dir.path.string());

  // The stored parameters read back exactly.
  auto trials = run_cli({"trials", "--db", (home / "k b.db").string(), "--json"});
  ASSERT_EQ(trials.code, 0) << trials.err;
  for (const auto& t : json::parse(trials.out))
    EXPECT_NE(std::find(values.begin(), values.end(), t["params"]["mode"].get<std::string>()), values.end());
}

TEST(InjectionLocal, NonUtf8ValueIsRefusedOrPassedExactlyNeverACrash) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kRecorder);
  // YAML files are UTF-8: a value with raw 0xff bytes is a located error
  // (exit 2) or, if accepted, reaches the black box unchanged.
  std::string r = "name: bytes\nseed: 1\nparameters:\n"
                  "  - {name: mode, domain: generic, type: choice, values: [plain, \"b\xff\xfe\"], default: plain}\n"
                  "target: {kind: command, argv: [python3, bb.py], timeout: 30s}\n"
                  "objectives: [{metric: y, direction: minimize}]\noptimizer: {kind: random}\nbudget: {trials: 6}\n";
  kt_test::write(dir / "r.yaml", r);
  auto tune = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  ASSERT_TRUE(tune.code == 0 || tune.code == 2) << "exit " << tune.code << ": " << tune.err;
  if (tune.code == 2) {
    EXPECT_NE(tune.err.find("r.yaml"), std::string::npos) << tune.err;
  } else {
    auto seen = util::read_file(dir / "seen.log");
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->find("\xff"), std::string::npos);  // JSON escapes it or it never came
  }
}

TEST(InjectionLocal, ABootParameterValueNeverSplitsTheCommandLine) {
  // A cmdline value holding a space or a quote would become a second boot
  // parameter ("x init=/bin/sh"): the search-space loader refuses it.
  for (const std::string value : {"on init=/bin/sh", "a\"b", "a'b", "tab\there", "new\nline", "x\x01y"}) {
    SCOPED_TRACE(value);
    std::string text = "parameters:\n  - name: mitigations\n    domain: cmdline\n    type: choice\n"
                       "    values: [auto, " + yaml_quoted(value) + "]\n    default: auto\n";
    auto s = space::Space::load_string(text, "cmdline.yaml");
    ASSERT_FALSE(s) << "accepted a boot parameter value that splits the command line";
    EXPECT_EQ(s.error().kind, util::Error::Kind::invalid_input);
    EXPECT_EQ(s.error().file, "cmdline.yaml");
    EXPECT_GT(s.error().line, 0);
  }
  // Values that are single words render as one parameter each.
  auto s = space::Space::load_string(
      "parameters:\n"
      "  - {name: mitigations, domain: cmdline, type: choice, values: [auto, off, \"auto,nosmt\"], default: off}\n"
      "  - {name: nohz, domain: cmdline, type: bool, default: true}\n"
      "  - {name: transparent_hugepage, domain: cmdline, type: choice, values: [never, madvise], default: never}\n",
      "ok.yaml");
  ASSERT_TRUE(s) << s.error().format();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    auto a = s->sample(rng);
    ASSERT_TRUE(a);
    std::string line = campaign::render_cmdline(*s, *a);
    std::size_t words = line.empty() ? 0 : util::split(line, ' ').size();
    std::size_t expected = 0;
    for (const auto& [name, v] : *a)
      expected += std::holds_alternative<bool>(v) ? (std::get<bool>(v) ? 1 : 0) : 1;
    EXPECT_EQ(words, expected) << line;
  }
}
