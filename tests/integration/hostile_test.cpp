// Hostile input through the real CLI (issue 17, docs/hardening.md): a black
// box printing invalid UTF-8, escape sequences and binary; recipes whose
// names and values would escape into deployed files; signals and children
// that outlive a trial; planted symlinks. Each case: no crash, a clear
// refusal or a safe result, nothing lost from the store.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

using kt_test::run_cli;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace kerntune;

namespace {

constexpr auto npos = std::string::npos;

std::string recipe(const std::string& params, const std::string& argv, int trials, const std::string& extra = "") {
  return "name: hostile\nseed: 1\nparameters:\n" + params + "target: {kind: command, argv: " + argv +
         ", timeout: 30s}\nobjectives: [{metric: y, direction: minimize}]\noptimizer: {kind: random}\n"
         "budget: {trials: " + std::to_string(trials) + "}\n" + extra;
}

const std::string kParams =
    "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n"
    "  - {name: kernel.core_pattern, domain: sysctl, type: choice, values: [core, \"|/bin/x %p\"], default: core}\n"
    "  - {name: nohz, domain: cmdline, type: choice, values: [\"on\", \"off\"], default: \"on\"}\n";

// Prints invalid UTF-8, escape sequences and NUL everywhere it can; trial 1
// reports a sysctl value that would add a TuneD section and a boot parameter.
const char* kHostileBox =
    "import os, sys\n"
    "t = int(os.environ['KERNTUNE_TRIAL'])\n"
    "o = sys.stdout.buffer\n"
    "o.write(b'KERNTUNE_EFFECTIVE x \"\\xff\\xfe\"\\n')\n"
    "if t == 1: o.write(b'KERNTUNE_EFFECTIVE kernel.core_pattern \"core\\\\n[bootloader]\\\\ncmdline=init=/bin/sh\"\\n')\n"
    "o.write(b'KERNTUNE_EFFECTIVE deep ' + b'[' * 100000 + b']' * 100000 + b'\\n')\n"
    "o.write(b'KERNTUNE_METRIC bad\\xffname 1\\n')\n"
    "o.write(b'KERNTUNE_METRIC y %d unit\\x1b[31m\\xff\\n' % (t + 1))\n"
    "o.write(b'\\x00\\x1b[2Jbinary\\xff\\xfe\\n')\n"
    "sys.stderr.buffer.write(b'err\\xff\\x1b]0;title\\x07\\n')\n";

std::string b64decode(const std::string& in) {
  static const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    auto p = abc.find(c);
    if (p == npos) continue;
    v = (v << 6) | static_cast<unsigned>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

void expect_terminal_safe(const kt_test::CliResult& r, const std::string& what) {
  for (const std::string* s : {&r.out, &r.err}) {
    EXPECT_EQ(s->find('\x1b'), npos) << what << ": a raw escape sequence reached the terminal";
    EXPECT_EQ(s->find('\x07'), npos) << what;
    EXPECT_TRUE(util::is_text(*s)) << what << ": output is not well-formed UTF-8";
  }
}

/// Every line of an exported file that is neither blank nor a comment.
std::vector<std::string> settings(const fs::path& file) {
  std::vector<std::string> out;
  auto text = util::read_file(file.string());
  if (!text) return out;
  for (const auto& l : util::split(*text, '\n'))
    if (auto t = util::trim(l); !t.empty() && t[0] != '#') out.push_back(t);
  return out;
}

std::vector<std::string> leftovers_in(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(needle) != npos) out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST(Hostile, BlackBoxBytesAreStoredAndPrintedSafelyByEveryCommand) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kHostileBox);
  kt_test::write(dir / "r.yaml", recipe(kParams, "[python3, bb.py]", 3));
  const std::string db = dir / "k.db";
  for (int pass = 0; pass < 2; ++pass) {  // the second run resumes (it used to abort again)
    auto tune = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path.string());
    ASSERT_EQ(tune.code, 0) << tune.err;
    expect_terminal_safe(tune, "tune");
  }
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"trials"}, {"best"}, {"status"}, {"show", "trial", "0"}, {"show", "trial", "1"}}) {
    auto human = args;
    human.insert(human.end(), {"--db", db});
    auto r = run_cli(human);
    EXPECT_EQ(r.code, 0) << args[0] << ": " << r.err;
    expect_terminal_safe(r, args[0]);
    human.push_back("--json");
    auto j = run_cli(human);
    EXPECT_EQ(j.code, 0) << args[0] << " --json: " << j.err;
    EXPECT_FALSE(json::parse(j.out, nullptr, false).is_discarded()) << args[0] << " --json is not JSON";
  }
  auto trials = json::parse(run_cli({"trials", "--db", db, "--json"}).out);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    EXPECT_FALSE(t["metrics"].contains("bad\xef\xbf\xbdname")) << "a metric name outside the grammar was stored";
    EXPECT_EQ(t["metrics"].size(), 1u) << t.dump();
    EXPECT_EQ(t["effective"]["x"], "\xef\xbf\xbd\xef\xbf\xbd");  // invalid bytes → U+FFFD each
    EXPECT_TRUE(t["effective"]["deep"].is_string()) << "a value nested 100,000 deep was kept as text";
  }
  // Nothing lost: show --json returns the exact stdout bytes in content_base64.
  auto show = json::parse(run_cli({"show", "trial", "0", "--db", db, "--json"}).out);
  bool found = false;
  for (const auto& a : show["artifacts"])
    if (a["name"] == "stdout") {
      found = true;
      ASSERT_TRUE(a.contains("content_base64"));
      EXPECT_NE(b64decode(a["content_base64"]).find(std::string("\0\x1b[2Jbinary\xff\xfe\n", 13)), npos);
    }
  EXPECT_TRUE(found);
  // Export of a trial with safe values works and is safe to print; --json too.
  auto ex = run_cli({"export", "--db", db, "--trial", "0", "--out", dir / "b0", "--json"});
  EXPECT_EQ(ex.code, 0) << ex.err;
  EXPECT_FALSE(json::parse(ex.out, nullptr, false).is_discarded());
}

TEST(Hostile, ExportRefusesAValueThatWouldAddLinesAndWritesOnlyWhatWasTuned) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", kHostileBox);
  kt_test::write(dir / "r.yaml", recipe(kParams, "[python3, bb.py]", 3));
  const std::string db = dir / "k.db";
  ASSERT_EQ(run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path.string()).code, 0);
  fs::create_directories(dir / "out");
  // Trial 1 reported kernel.core_pattern = "core\n[bootloader]\ncmdline=init=/bin/sh".
  for (const std::string out : {"bundle", "bundle.tar.gz"}) {
    auto bad = run_cli({"export", "--db", db, "--trial", "1", "--out", dir / ("out/" + out)});
    EXPECT_EQ(bad.code, 2) << bad.err;
    EXPECT_NE(bad.err.find("trial 1"), npos) << bad.err;
    EXPECT_NE(bad.err.find("kernel.core_pattern"), npos) << bad.err;
    expect_terminal_safe(bad, "export");
    EXPECT_TRUE(fs::is_empty(dir / "out")) << "a failed export left files or temporary folders behind";
  }
  // A trial with safe values: parse every file back, line by line.
  auto good = run_cli({"export", "--db", db, "--trial", "2", "--out", dir / "out/b"});
  ASSERT_EQ(good.code, 0) << good.err;
  EXPECT_EQ(leftovers_in(dir / "out", "kerntune-export").size(), 0u);
  auto trial = json::parse(run_cli({"show", "trial", "2", "--db", db, "--json", "--no-artifacts"}).out);
  const std::string pattern = trial["params"]["kernel.core_pattern"];
  const std::string nohz = trial["params"]["nohz"];
  EXPECT_EQ(settings(dir / "out/b/sysctl.d/90-kerntune.conf"),
            std::vector<std::string>{"kernel.core_pattern = " + pattern});
  EXPECT_EQ(settings(dir / "out/b/cmdline"), std::vector<std::string>{"nohz=" + nohz});
  auto grub = settings(dir / "out/b/grub/90-kerntune.cfg");
  ASSERT_EQ(grub.size(), 1u);
  EXPECT_EQ(grub[0], "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} nohz=" + nohz + "\"");
  std::string tuned_dir;
  for (const auto& e : fs::directory_iterator(dir / "out/b/tuned")) tuned_dir = e.path().string();
  std::vector<std::string> want = {"[main]", "[sysctl]", "kernel.core_pattern=" + pattern, "[bootloader]",
                                   "cmdline=nohz=" + nohz};
  auto tuned = settings(tuned_dir + "/tuned.conf");
  ASSERT_FALSE(tuned.empty());
  EXPECT_TRUE(tuned[1].starts_with("summary=")) << tuned[1];
  tuned.erase(tuned.begin() + 1);
  EXPECT_EQ(tuned, want);
}

TEST(Hostile, RecipeNamesAndValuesAreRefusedWhereTheyWouldEscape) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", "print('KERNTUNE_METRIC y 1')\n");
  struct Case {
    std::string what, params, extra, needle;
    int line;
  };
  const std::string x = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n";
  const std::vector<Case> cases = {
      {"sysctl value with a newline",
       "  - {name: kernel.core_pattern, domain: sysctl, type: choice, values: [core, \"core\\nkernel.modprobe = /tmp/x\"], default: core}\n",
       "", "control character", 4},
      {"sysfs name with ..", "  - {name: kernel/../../etc/passwd, domain: sysfs, type: int, range: [0, 1], default: 0}\n",
       "", "'..' component", 4},
      {"cmdline name with = and a space", "  - {name: quiet=1 init, domain: cmdline, type: bool, default: false}\n", "",
       "holds a space", 4},
      {"cmdline name with = only", "  - {name: \"a=b\", domain: cmdline, type: bool, default: false}\n", "", "'='", 4},
      {"sysctl value TuneD would run", "  - {name: kernel.core_pattern, domain: sysctl, type: choice, values: [core, \"${f:exec:/bin/sh:-c:id}\"], default: core}\n",
       "", "'${'", 4},
      {"cmdline value TuneD would expand", "  - {name: isolcpus, domain: cmdline, type: choice, values: [\"1\", \"${f:cpulist_invert:0}\"], default: \"1\"}\n",
       "", "'${'", 4},
      {"cmdline value with byte 0xA0", "  - {name: quiet, domain: cmdline, type: choice, values: [\"1\", \"a\\u00e0init=/bin/sh\"], default: \"1\"}\n",
       "", "non-ASCII", 4},
      {"sysfs value with U+2028", "  - {name: kernel/mm/x, domain: sysfs, type: choice, values: [a, \"a\\u2028[bootloader]\"], default: a}\n",
       "", "U+2028", 4},
      {"kconfig choice value", "  - {name: HZ, domain: kconfig, type: choice, values: [\"HZ_100\\n\"], default: \"HZ_100\\n\"}\n",
       "", "kconfig", 4},
      {"duplicate budget", x, "budget: {trials: 200}\n", "duplicate key 'budget' in recipe", 9},
      {"duplicate key in a nested map", x, "noise: {confirm_top: 1, confirm_top: 2}\n", "duplicate key 'confirm_top'", 9},
      {"malformed limit", x, "", "'limit' must look like", 0},
      {"metric name", x, "", "metric name", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string r = recipe(c.params, "[python3, bb.py]", 2, c.extra);
    if (c.what == "malformed limit") {
      const std::string from = "direction: minimize}";
      r.replace(r.find(from), from.size(), "direction: minimize, limit: \"<= [1\"}");
    }
    if (c.what == "metric name") {
      auto at = r.find("metric: y,");
      r.replace(at, 10, "metric: \"y\\e[2J\",");
    }
    kt_test::write(dir / "r.yaml", r);
    auto t = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
    EXPECT_EQ(t.code, 2) << t.err;
    EXPECT_NE(t.err.find(c.needle), npos) << t.err;
    EXPECT_NE(t.err.find("r.yaml:"), npos) << "not located: " << t.err;
    if (c.line > 0) {
      EXPECT_NE(t.err.find("r.yaml:" + std::to_string(c.line) + ":"), npos) << t.err;
    }
    expect_terminal_safe(t, c.what);
  }
  EXPECT_FALSE(fs::exists(dir / "k.db") && run_cli({"trials", "--db", dir / "k.db"}).code == 0)
      << "a refused recipe left a campaign behind";
  // Campaign names: from the recipe and from --name.
  kt_test::write(dir / "n.yaml", "name: \"evil\\nkernel.x = 1\"\n" + recipe(x, "[python3, bb.py]", 2).substr(14));
  auto n = run_cli({"tune", dir / "n.yaml", "--db", dir / "k.db"}, dir.path.string());
  EXPECT_EQ(n.code, 2) << n.err;
  EXPECT_NE(n.err.find("n.yaml:1:"), npos) << n.err;
  kt_test::write(dir / "ok.yaml", recipe(x, "[python3, bb.py]", 2));
  auto m = run_cli({"tune", dir / "ok.yaml", "--db", dir / "k.db", "--name", "a\nb"}, dir.path.string());
  EXPECT_EQ(m.code, 2) << m.err;
  EXPECT_NE(m.err.find("--name"), npos) << m.err;
}

TEST(Hostile, FlatExpressionsOfFiftyThousandTermsLoadAndDeepNestingIsALocatedError) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", "print('KERNTUNE_METRIC y 1')\n");
  std::string sum = "x", ors = "x < 2";
  for (int i = 1; i < 50000; ++i) {
    sum += " + x";
    ors += " || x < 2";
  }
  std::string params = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n"
                       "  - {name: y2, domain: generic, type: int, range: [0, 3], default: 1, when: \"" + ors + "\"}\n";
  kt_test::write(dir / "r.yaml", recipe(params, "[python3, bb.py]", 2, "constraints: [\"" + sum + " < 100000\"]\n"));
  auto t = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  EXPECT_EQ(t.code, 0) << t.err.substr(0, 2000);
  std::string deep = std::string(50000, '(') + "x < 1" + std::string(50000, ')');
  kt_test::write(dir / "d.yaml", recipe(params.substr(0, params.find("  - {name: y2")), "[python3, bb.py]", 2,
                                        "constraints: [\"" + deep + "\"]\n"));
  auto d = run_cli({"tune", dir / "d.yaml", "--db", dir / "k2.db"}, dir.path.string());
  EXPECT_EQ(d.code, 2) << d.err.substr(0, 2000);
  EXPECT_NE(d.err.find("nested too deeply"), npos) << d.err.substr(0, 2000);
  EXPECT_NE(d.err.find("d.yaml:"), npos);
}

TEST(Hostile, SigintDuringATrialLeavesTheCampaignStoppedAndResumable) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py",
                 "import os, time\n"
                 "t = int(os.environ['KERNTUNE_TRIAL'])\n"
                 "if t == 1 and not os.path.exists('resumed'):\n"
                 "    open('in-trial', 'w').close()\n"
                 "    time.sleep(60)\n"
                 "print('KERNTUNE_METRIC y', t)\n");
  const std::string x = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n";
  kt_test::write(dir / "r.yaml", recipe(x, "[python3, bb.py]", 3));
  const std::string db = dir / "k.db";
  auto child = util::Child::spawn({{kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", db, "--progress", "quiet"},
                                   {}, dir.path.string(), false, true});
  ASSERT_TRUE(child) << child.error().message;
  auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(dir / "in-trial") && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(dir / "in-trial"));
  ::kill(child->pid(), SIGINT);
  ASSERT_TRUE(child->wait(std::chrono::seconds(20))) << "tune did not stop after SIGINT";
  EXPECT_EQ(child->exit_code(), 130);
  auto status = run_cli({"status", "--db", db, "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(json::parse(status.out)["state"], "stopped");
  auto watch = run_cli({"status", "--db", db, "--watch", "--interval", "0.2"}, "", std::chrono::seconds(20));
  EXPECT_EQ(watch.code, 0) << "status --watch did not end on a stopped campaign";
  kt_test::write(dir / "resumed", "");
  auto resume = run_cli({"tune", dir / "r.yaml", "--db", db, "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(resume.code, 0) << resume.err;
  auto trials = json::parse(run_cli({"trials", "--db", db, "--json"}).out);
  ASSERT_EQ(trials.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(trials[i]["seq"], i);
  EXPECT_EQ(json::parse(run_cli({"status", "--db", db, "--json"}).out)["state"], "finished");
}

TEST(Hostile, ASetsidChildHoldingStdoutNeitherHoldsTheTimeoutNorMakesATimeout) {
  kt_test::TempDir dir;
  // Trial 0 exits 0 leaving a setsid child on stdout; trial 1 hangs with one.
  kt_test::write(dir / "bb.sh",
                 "#!/bin/sh\n"
                 "setsid sleep 40 &\n"
                 "echo $! >> held.pids\n"
                 "echo KERNTUNE_METRIC y 1\n"
                 "[ \"$KERNTUNE_TRIAL\" = 0 ] && exit 0\n"
                 "sleep 60\n");
  fs::permissions(dir / "bb.sh", fs::perms::owner_all);
  const std::string x = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n";
  std::string r = recipe(x, "[./bb.sh]", 2);
  r.replace(r.find("timeout: 30s"), 12, "timeout: 3s");
  kt_test::write(dir / "r.yaml", r);
  rusage before{}, after{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto t0 = std::chrono::steady_clock::now();
  auto tune = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  getrusage(RUSAGE_CHILDREN, &after);
  double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
               1e-6 * ((after.ru_utime.tv_usec - before.ru_utime.tv_usec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec));
  ASSERT_EQ(tune.code, 0) << tune.err;
  EXPECT_LT(wall, 20.0) << "the 3 s timeout and the 2 s drain were held open by a setsid child";
  EXPECT_LT(cpu, 5.0) << "kerntune busy-looped while waiting";
  auto trials = json::parse(run_cli({"trials", "--db", dir / "k.db", "--json"}).out);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0]["status"], "ok") << trials[0].dump();
  EXPECT_EQ(trials[1]["failure"]["stage"], "timeout") << trials[1].dump();
  EXPECT_NE(tune.err.find("left 1 process"), npos) << tune.err;
  auto show = json::parse(run_cli({"show", "trial", "0", "--db", dir / "k.db", "--json"}).out);
  bool reported = false;
  for (const auto& a : show["artifacts"]) reported = reported || a["name"] == "leftovers";
  EXPECT_TRUE(reported);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (const auto& pid : util::split(*util::read_file(dir / "held.pids"), '\n')) {
    if (pid.empty()) continue;
    auto cmd = util::read_file("/proc/" + pid + "/cmdline");
    EXPECT_TRUE(!cmd || cmd->find("sleep") == npos) << "the setsid child " << pid << " survived the trial";
  }
}

TEST(Hostile, PrivateWorkFolderAndOutputsNeverFollowAPlantedSymlink) {
  kt_test::TempDir dir;
  const fs::path tmp = dir.path / "tmp", victim = dir.path / "victim";
  fs::create_directories(tmp);
  fs::create_directories(victim);
  // The old names: kerntune-<pid> for the next pids, each a symlink to the victim.
  for (int pid = getpid(); pid < getpid() + 400; ++pid)
    fs::create_directory_symlink(victim, tmp / ("kerntune-" + std::to_string(pid)));
  kt_test::write(dir / "bb.py",
                 "import os\n"
                 "d = os.path.dirname(os.environ['KERNTUNE_PARAMS'])\n"
                 "st = os.lstat(d)\n"
                 "open('seen', 'a').write('%s %o %d\\n' % (d, st.st_mode & 0o777, os.path.islink(d)))\n"
                 "print('KERNTUNE_METRIC y 1')\n");
  const std::string x = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n";
  kt_test::write(dir / "r.yaml", recipe(x, "[python3, bb.py]", 2));
  util::RunOptions o;
  o.argv = {kt_test::kerntune_bin(), "tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"};
  o.env = {{"TMPDIR", tmp.string()}};
  o.cwd = dir.path.string();
  o.timeout = std::chrono::minutes(2);
  auto r = util::run(o);
  ASSERT_TRUE(r && r->ok()) << (r ? r->err : r.error().message);
  EXPECT_TRUE(fs::is_empty(victim)) << "kerntune wrote through a planted symlink";
  auto seen = util::split(*util::read_file(dir / "seen"), '\n');
  ASSERT_GE(seen.size(), 2u);
  auto f = util::split(seen[0], ' ');
  EXPECT_TRUE(f[0].starts_with((tmp / "kerntune-").string())) << f[0];
  EXPECT_EQ(f[1], "700");
  EXPECT_EQ(f[2], "0");
  EXPECT_FALSE(fs::exists(f[0])) << "the work folder was left behind";
  // report -o: an existing file or symlink is never replaced without --force.
  kt_test::write(dir / "victim/target.html", "precious");
  fs::create_symlink(victim / "target.html", dir.path / "link.html");
  kt_test::write(dir / "old.html", "old");
  for (const char* out : {"link.html", "old.html"}) {
    auto rep = run_cli({"report", "--db", dir / "k.db", "-o", dir / out});
    EXPECT_EQ(rep.code, 2) << out << ": " << rep.err;
    EXPECT_NE(rep.err.find("--force"), npos) << rep.err;
  }
  EXPECT_EQ(*util::read_file(dir / "old.html"), "old");
  auto forced = run_cli({"report", "--db", dir / "k.db", "-o", dir / "link.html", "--force"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_FALSE(fs::is_symlink(dir.path / "link.html")) << "--force replaces the link itself";
  EXPECT_EQ(*util::read_file(dir / "victim/target.html"), "precious") << "report wrote through a symlink";
  EXPECT_EQ(leftovers_in(dir.path, ".tmp.").size(), 0u);
  // A failed report (no such campaign) leaves nothing behind either.
  EXPECT_EQ(run_cli({"report", "--db", dir / "k.db", "--campaign", "nope", "-o", dir / "new.html"}).code, 2);
  EXPECT_FALSE(fs::exists(dir / "new.html"));
  EXPECT_EQ(leftovers_in(dir.path, ".tmp.").size(), 0u);
}

TEST(Hostile, DbThroughASymlinkWorksForTheWholeCampaign) {
  kt_test::TempDir dir;
  kt_test::write(dir / "bb.py", "print('KERNTUNE_METRIC y 1')\n");
  const std::string x = "  - {name: x, domain: generic, type: real, range: [0, 1], default: 0.5}\n";
  kt_test::write(dir / "r.yaml", recipe(x, "[python3, bb.py]", 3));
  fs::create_directories(dir / "real");
  fs::create_symlink(dir / "real/k.db", dir / "k.db");  // dangling until the store is created
  auto tune = run_cli({"tune", dir / "r.yaml", "--db", dir / "k.db", "--progress", "quiet"}, dir.path.string());
  ASSERT_EQ(tune.code, 0) << tune.err;
  EXPECT_NE(tune.out.find("recommended"), npos) << tune.out;
  EXPECT_TRUE(fs::is_symlink(dir.path / "k.db"));
  for (const std::string& db : std::vector<std::string>{dir / "k.db", dir / "real/k.db"}) {
    auto t = run_cli({"trials", "--db", db, "--json"});
    ASSERT_EQ(t.code, 0) << db << ": " << t.err;
    EXPECT_EQ(json::parse(t.out).size(), 3u);
  }
}
