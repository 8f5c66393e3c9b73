// `kerntune dashboard` (docs/dashboard.md): the real server on a real store
// written by the real `kerntune tune`; bad requests over a raw socket; the
// store left untouched; the page rendered live by a real headless Chromium.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>
#include <regex>
#include <thread>

#include "../integration/cli.hpp"
#include "../report/chromium.hpp"
#include "kerntune/dashboard/dashboard.hpp"
#include "kerntune/util/text.hpp"

using kt_test::run_cli;
using nlohmann::json;
namespace dash = kerntune::dashboard;

namespace {

// A two-objective black box that fails for mode=full with x > 6; SLEEP
// seconds per run (0 for the stored campaign, more for the live one).
constexpr const char* kEval = R"py(import json, math, os, sys, time
p = json.load(open(os.environ["KERNTUNE_PARAMS"]))
time.sleep(float(os.environ.get("KT_SLEEP", "0")))
if p["mode"] == "full" and p["x"] > 0:
    print("simulated crash: mode=full with x > 0", file=sys.stderr)
    sys.exit(3)
y = (p["x"] - 2.5) ** 2 / 4.0 + {"none": 1.0, "voluntary": 0.0, "full": 0.5}[p["mode"]]
print("KERNTUNE_METRIC y %.6f s" % (y + 0.5))
print("KERNTUNE_METRIC mem %.3f MB" % (100 + 3 * p["x"]))
)py";

std::string recipe(const std::string& name, int trials, double sleep) {
  return "name: " + name + "\nseed: 4\nparameters:\n"
         "  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}\n"
         "  - {name: mode, domain: generic, type: choice, values: [none, voluntary, full], default: none}\n"
         "target:\n  kind: command\n  argv: [python3, eval.py]\n  timeout: 60s\n"
         "  env: {KT_SLEEP: \"" + fmt::format("{}", sleep) + "\"}\n"
         "objectives:\n  - {metric: y, direction: minimize}\n  - {metric: mem, direction: minimize}\n"
         "budget:\n  trials: " + std::to_string(trials) + "\n";
}

struct Stored {
  kt_test::TempDir dir;
  std::string db;
};
/// A finished campaign (12 trials, some failed), made once.
const Stored& stored() {
  static Stored* s = [] {
    auto* st = new Stored;
    kt_test::write(st->dir / "eval.py", kEval);
    kt_test::write(st->dir / "recipe.yaml", recipe("dash", 12, 0));
    st->db = st->dir / "kt.db";
    auto r = run_cli({"tune", "recipe.yaml", "--db", st->db, "--progress", "lines"}, st->dir.path.string());
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    return st;
  }();
  return *s;
}

struct Http {
  int status = 0;
  std::string head, body;
};
/// Sends `request` as bytes to 127.0.0.1:port and reads the whole answer
/// (the request asks for Connection: close).
Http raw_http(int port, const std::string& request) {
  Http h;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return h;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{6, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) { ::close(fd); return h; }
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on an oversized request; its answer is still read
    sent += static_cast<std::size_t>(n);
  }
  std::string all;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto split = all.find("\r\n\r\n");
  h.head = all.substr(0, split);
  if (split != std::string::npos) h.body = all.substr(split + 4);
  if (all.starts_with("HTTP/1.")) h.status = std::atoi(all.c_str() + 9);
  return h;
}
Http get(int port, const std::string& target, const std::string& method = "GET", const std::string& host = "127.0.0.1") {
  return raw_http(port, method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
}
json get_json(int port, const std::string& target) {
  auto h = get(port, target);
  EXPECT_EQ(h.status, 200) << target << "\n" << h.head << "\n" << h.body.substr(0, 300);
  return json::parse(h.body, nullptr, false);
}

dash::Options options_for(const std::string& db) {
  dash::Options o;
  o.db = db;
  o.port = 0;
  return o;
}

std::string file_bytes(const std::string& path) { return kerntune::util::read_file(path).value_or(""); }

}  // namespace

TEST(Dashboard, ApiAnswersFromTheStoreWithTheRecommendationAndTheTrials) {
  const auto& s = stored();
  auto server = dash::Server::start(options_for(s.db));
  ASSERT_TRUE(server.has_value()) << server.error().message;
  int port = (*server)->port();
  EXPECT_GT(port, 0);
  EXPECT_EQ((*server)->url(), fmt::format("http://127.0.0.1:{}/", port));

  json list = get_json(port, "/api/campaigns");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "dash");
  EXPECT_EQ(list[0]["status"], "finished");

  json c = get_json(port, "/api/campaign/dash");
  EXPECT_EQ(c["status"]["done"], 12);
  EXPECT_EQ(c["status"]["state"], "finished");
  // The recommendation is `best --json`'s, the same trial.
  json best = json::parse(run_cli({"best", "--db", s.db, "--json"}).out);
  EXPECT_EQ(c["recommendation"]["seq"], best["seq"]);
  EXPECT_EQ(c["marks"]["pick"], best["seq"]);
  EXPECT_EQ(c["marks"]["front"].size(), best["front"].size());
  EXPECT_EQ(c["parallel"]["axes"].size(), 2u);

  json all = get_json(port, "/api/trials?campaign=dash");
  ASSERT_EQ(all["trials"].size(), 12u);
  EXPECT_EQ(all["last_seq"], 11);
  json later = get_json(port, "/api/trials?campaign=dash&since=8");
  ASSERT_EQ(later["trials"].size(), 3u);
  EXPECT_EQ(later["trials"][0]["seq"], 9);

  // A failed trial's page: its failure and its stderr among the logs.
  int failed_seq = -1;
  for (const auto& t : all["trials"])
    if (t["status"] == "failed") { failed_seq = t["seq"]; break; }
  ASSERT_GE(failed_seq, 0) << "the campaign had no failed trial";
  json f = get_json(port, fmt::format("/api/trial?campaign=dash&seq={}", failed_seq));
  EXPECT_EQ(f["failure"]["stage"], "workload");
  bool log = false;
  for (const auto& a : f["artifacts"]) log = log || a["content"].get<std::string>().find("simulated crash") != std::string::npos;
  EXPECT_TRUE(log) << f["artifacts"].dump().substr(0, 400);
  // An ok trial's page: the effective values the target reported.
  json t0 = get_json(port, "/api/trial?campaign=dash&seq=0");
  EXPECT_EQ(t0["kind"], "baseline");
  EXPECT_TRUE(t0["effective"].contains("x")) << t0["effective"].dump();

  auto page = get(port, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"/chart.js\">"), std::string::npos);
  EXPECT_NE(page.head.find("Content-Security-Policy: default-src 'none'; script-src 'self'; connect-src 'self'"), std::string::npos)
      << page.head;
  auto chart = get(port, "/chart.js");
  EXPECT_EQ(chart.status, 200);
  EXPECT_NE(chart.body.find("Chart.js v"), std::string::npos);
}

TEST(Dashboard, BadRequestsGetCleanClientErrorsAndTheServerStaysUp) {
  const auto& s = stored();
  auto server = dash::Server::start(options_for(s.db));
  ASSERT_TRUE(server.has_value()) << server.error().message;
  int port = (*server)->port();
  const std::string huge(20000, 'a');
  struct Case {
    std::string target;
    int want;
  };
  const std::vector<Case> cases = {
      {"/nope", 404},
      {"/../../etc/passwd", 404},
      {"/%2e%2e/%2e%2e/etc/passwd", 404},
      {"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 404},
      {"/chart.js/../../../etc/passwd", 404},
      {"/api/campaign/..%2f..%2fetc%2fpasswd", 404},
      {"/api/campaign/%2e%2e", 404},
      {"/api/campaign/nosuch", 404},
      {"/api/campaign/", 400},
      {"/api/campaign/" + std::string(300, 'n'), 400},
      {"/api/campaign/a%00b", 400},
      {"/api/campaign/dash?x=1", 400},
      {"/api/trials", 400},
      {"/api/trials?campaign=dash&since=abc", 400},
      {"/api/trials?campaign=dash&since=1e3", 400},
      {"/api/trials?campaign=dash&since=-5", 400},
      {"/api/trials?campaign=dash&since=99999999999999999999999", 400},
      {"/api/trials?campaign=dash&since=1&since=2", 400},
      {"/api/trials?campaign=dash&evil=1", 400},
      {"/api/trials?campaign=%ff%fe", 400},
      {"/api/trials?campaign=dash&since=%", 400},
      {"/api/trials?&&&==&campaign=dash", 200},  // empty pairs are dropped: a lenient parse, not an error
      {"/api/trial?campaign=dash", 400},
      {"/api/trial?campaign=dash&seq=999", 404},
      {"/api/trials?campaign=" + huge, 414},
      {"/?" + huge, 414},
  };
  for (const auto& c : cases) {
    auto h = get(port, c.target);
    EXPECT_EQ(h.status, c.want) << c.target.substr(0, 80) << "\n" << h.head;
    if (h.status >= 400 && h.status < 500 && c.want != 414) {
      auto j = json::parse(h.body, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("error")) << c.target.substr(0, 80) << ": " << h.body.substr(0, 200);
    }
  }
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH"}) EXPECT_EQ(get(port, "/api/campaigns", m).status, 405) << m;
  // A page elsewhere reaching the loopback server through a DNS name: refused.
  EXPECT_EQ(get(port, "/api/campaigns", "GET", "evil.example:80").status, 421);
  // Malformed requests below HTTP: a 4xx or a closed connection, never a crash.
  for (const std::string& raw : {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
                                "GET /" + std::string(100000, 'x') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                std::string("\x00\x01\x02\xff\r\n\r\n", 8)}) {
    auto h = raw_http(port, raw);
    EXPECT_TRUE(h.status == 0 || (h.status >= 400 && h.status < 500)) << h.head;
  }
  // A GET announcing a 100 GB body: httplib answers the GET without reading it (or refuses it), never a crash.
  int big = raw_http(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n").status;
  EXPECT_TRUE(big == 200 || (big >= 400 && big < 500)) << big;
  // An unknown HTTP version: httplib answers (200 or 400), never a crash.
  int v99 = raw_http(port, "GET /api/campaigns HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").status;
  EXPECT_TRUE(v99 == 200 || v99 == 400) << v99;
  // Still serving.
  EXPECT_EQ(get_json(port, "/api/campaigns").size(), 1u);
}

TEST(Dashboard, TheStoreIsLeftByteForByteAndTheConnectionIsReadOnly) {
  const auto& s = stored();
  const std::string before = file_bytes(s.db);
  ASSERT_FALSE(before.empty());
  struct stat st0{};
  ASSERT_EQ(::stat(s.db.c_str(), &st0), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    auto server = dash::Server::start(options_for(s.db));
    ASSERT_TRUE(server.has_value()) << server.error().message;
    int port = (*server)->port();
    for (const char* t : {"/", "/api/campaigns", "/api/campaign/dash", "/api/trials?campaign=dash", "/api/trial?campaign=dash&seq=0",
                          "/api/campaign/dash"})
      EXPECT_EQ(get(port, t).status, 200) << t;
  }
  struct stat st1{};
  ASSERT_EQ(::stat(s.db.c_str(), &st1), 0);
  EXPECT_EQ(file_bytes(s.db), before);
  EXPECT_EQ(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);
  EXPECT_EQ(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);

  // The connection every request opens: SQLite says it is read-only, and a write through it fails.
  auto store = dash::open_store(options_for(s.db));
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(sqlite3_db_readonly(store->handle(), "main"), 1);
  auto campaigns = store->campaigns();
  ASSERT_TRUE(campaigns.has_value());
  EXPECT_FALSE(store->add_event(campaigns->front().id, "info", "written by the dashboard?").has_value());
  EXPECT_NE(sqlite3_exec(store->handle(), "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(file_bytes(s.db), before);
  // A missing store is not created.
  kt_test::TempDir d;
  EXPECT_FALSE(dash::open_store(options_for(d / "none.db")).has_value());
  EXPECT_FALSE(std::filesystem::exists(d / "none.db"));
  EXPECT_FALSE(dash::Server::start(options_for(d / "none.db")).has_value());
}

// A missing store is the user's mistake; a missing Chart.js is the machine's
// (an uninstalled package): io, exit 1 (docs/cli.md).
TEST(Dashboard, MissingChartJsIsAnIoFailureAndAMissingStoreBadInput) {
  kt_test::TempDir d;
  auto nostore = dash::Server::start(options_for(d / "none.db"));
  ASSERT_FALSE(nostore.has_value());
  EXPECT_EQ(nostore.error().kind, kerntune::util::Error::Kind::invalid_input);
  dash::Options o = options_for(stored().db);
  o.chart_js = d / "chart.umd.min.js";
  auto nochart = dash::Server::start(o);
  ASSERT_FALSE(nochart.has_value());
  EXPECT_EQ(nochart.error().kind, kerntune::util::Error::Kind::io) << nochart.error().format();
  EXPECT_EQ(nochart.error().file, o.chart_js);
  EXPECT_NE(nochart.error().message.find("cannot read Chart.js"), std::string::npos) << nochart.error().message;
}

TEST(Dashboard, CliHelpAndBadInput) {
  auto help = run_cli({"dashboard", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* want : {"--db", "--campaign", "--bind", "--port", "read-only", "127.0.0.1", "docs/dashboard.md", "Examples:"})
    EXPECT_NE(help.out.find(want), std::string::npos) << want;
  kt_test::TempDir d;
  auto missing = run_cli({"dashboard", "--db", d / "none.db", "--port", "0"});
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_NE(missing.err.find("database not found"), std::string::npos) << missing.err;
  auto nocampaign = run_cli({"dashboard", "--db", stored().db, "--campaign", "nosuch", "--port", "0"});
  EXPECT_EQ(nocampaign.code, 2) << nocampaign.err;
  EXPECT_NE(nocampaign.err.find("no campaign named 'nosuch'"), std::string::npos) << nocampaign.err;
  auto badport = run_cli({"dashboard", "--db", stored().db, "--port", "70000"});
  EXPECT_EQ(badport.code, 2) << badport.err;
  // A port in use: exit 1 with a hint.
  auto server = dash::Server::start(options_for(stored().db));
  ASSERT_TRUE(server.has_value());
  auto taken = run_cli({"dashboard", "--db", stored().db, "--port", std::to_string((*server)->port())});
  EXPECT_EQ(taken.code, 1) << taken.err;
  EXPECT_NE(taken.err.find("cannot listen"), std::string::npos) << taken.err;
}

namespace {

/// The rows of the trial table in a DOM Chromium dumped.
std::set<int> dom_rows(const std::string& dom) {
  std::set<int> seqs;
  std::regex row(R"re(<tr[^>]*data-seq="(\d+)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it)
    seqs.insert(std::stoi((*it)[1].str()));
  return seqs;
}

int stored_trials(int port, const std::string& campaign) {
  auto h = get(port, "/api/trials?campaign=" + campaign);
  auto j = json::parse(h.body, nullptr, false);
  return h.status == 200 && j.contains("trials") ? static_cast<int>(j["trials"].size()) : 0;
}

}  // namespace

TEST(Dashboard, HeadlessChromiumFollowsARunningCampaignAndRequestsOnlyLoopback) {
  auto bin = kt_test::chromium();
  if (!bin) GTEST_SKIP() << "LOUD SKIP: chromium is not installed (apt-get install -y chromium); the dashboard was not rendered";
  kt_test::TempDir dir;
  kt_test::write(dir / "eval.py", kEval);
  kt_test::write(dir / "recipe.yaml", recipe("live", 14, 1.2));
  const std::string db = dir / "kt.db";
  auto tune = kerntune::util::Child::spawn({.argv = {kt_test::kerntune_bin(), "tune", "recipe.yaml", "--db", db, "--progress", "lines"},
                                            .cwd = dir.path.string(), .pipe_stdin = false, .merge_stderr = true});
  ASSERT_TRUE(tune.has_value()) << tune.error().message;
  // The dashboard as a user starts it, on any free port; it prints the URL.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(db) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto server = kerntune::util::Child::spawn({.argv = {kt_test::kerntune_bin(), "dashboard", "--db", db, "--port", "0", "--poll", "300"},
                                              .pipe_stdin = false, .merge_stderr = false});
  ASSERT_TRUE(server.has_value()) << server.error().message;
  std::string out, url;
  while (url.empty() && std::chrono::steady_clock::now() < deadline) {
    auto chunk = server->read_some(std::chrono::milliseconds(200));
    if (!chunk) break;
    out += *chunk;
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/\n)"))) url = m[0].str().substr(0, m[0].length() - 1);
  }
  ASSERT_FALSE(url.empty()) << out;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));

  auto dump_dom = [&](const std::string& profile) {
    kerntune::util::RunOptions o;
    o.argv = kt_test::chromium_argv(*bin, dir / profile);
    o.argv.insert(o.argv.end(), {"--virtual-time-budget=3000", "--dump-dom", url});
    o.timeout = std::chrono::minutes(2);
    auto r = kerntune::util::run(o);
    EXPECT_TRUE(r.has_value() && r->ok()) << (r ? r->describe() + r->err : r.error().message);
    return r ? r->out : std::string();
  };
  auto wait_for_trials = [&](int n) {
    while (stored_trials(port, "live") < n && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return stored_trials(port, "live");
  };

  // First look: some trials stored, the campaign still running.
  int n1 = wait_for_trials(2);
  ASSERT_GE(n1, 2);
  std::string dom1 = dump_dom("profile-1");
  auto rows1 = dom_rows(dom1);
  EXPECT_GE(static_cast<int>(rows1.size()), n1) << dom1.substr(0, 3000);
  EXPECT_NE(dom1.find("data-ready=\"1\""), std::string::npos);
  EXPECT_NE(dom1.find(">running<"), std::string::npos) << "the campaign was not running at the first look";
  // Second look, at least one trial later: the new trials are in the table.
  int n2 = wait_for_trials(static_cast<int>(rows1.size()) + 1);
  ASSERT_GT(n2, static_cast<int>(rows1.size()));
  std::string dom2 = dump_dom("profile-2");
  auto rows2 = dom_rows(dom2);
  EXPECT_GE(static_cast<int>(rows2.size()), n2);
  EXPECT_GT(rows2.size(), rows1.size());
  for (int seq : rows1) EXPECT_TRUE(rows2.contains(seq)) << seq;
  // Chart.js drew into the four canvases (it sizes each one it attaches to).
  for (const char* id : {"convergence", "parallel", "importance", "pareto"})
    EXPECT_TRUE(std::regex_search(dom2, std::regex(fmt::format(R"re(<canvas id="{}"[^>]*height="\d+")re", id)))) << id;

  // A screenshot with the network log: the charts render, and every request the page made went to the dashboard.
  std::string png = dir / "dashboard.png", netlog = dir / "net.json";
  kerntune::util::RunOptions o;
  o.argv = kt_test::chromium_argv(*bin, dir / "profile-shot");
  o.argv.insert(o.argv.end(), {"--virtual-time-budget=3000", "--screenshot=" + png, "--window-size=1200,1600",
                               "--log-net-log=" + netlog, url});
  o.timeout = std::chrono::minutes(2);
  auto shot = kerntune::util::run(o);
  ASSERT_TRUE(shot.has_value() && shot->ok()) << (shot ? shot->describe() + shot->err : shot.error().message);
  ASSERT_TRUE(std::filesystem::exists(png));
  // A blank 1200×1600 page compresses to a few kB; charts, text and a table do not.
  EXPECT_GT(std::filesystem::file_size(png), 60000u);
  if (const char* keep = std::getenv("KT_KEEP_SCREENSHOT")) std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
  auto urls = kt_test::page_request_urls(*kerntune::util::read_file(netlog));
  EXPECT_FALSE(urls.empty()) << "the net log recorded none of the page's requests";
  bool api = false;
  for (const auto& u : urls) {
    EXPECT_TRUE(u.starts_with(url)) << "a request left the dashboard: " << u;
    api = api || u.find("/api/trials?") != std::string::npos;
  }
  EXPECT_TRUE(api) << "the page did not poll the trials";

  server->terminate();
  tune->terminate();
}
