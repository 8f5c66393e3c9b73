// Loading workload files: fields, defaults, search dirs and located errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kw = kerntune::workloads;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("kt-workloads-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& rel, const std::string& text) const {
    auto p = path_ / rel;
    fs::create_directories(p.parent_path());
    EXPECT_TRUE(kerntune::util::write_file(p.string(), text));
    return p.string();
  }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

const char* kGood = R"(name: demo
description: a demo
binaries: [hackbench, sysbench]
modules: [tcp_bbr]
setup:
  - [redis-server, --daemonize, "yes", --save, ""]
  - [sleep, "1"]
command: [hackbench, -g, "4"]
repeats: 7
warmup: 2
timeout: 1m30s
metrics:
  - name: time
    regex: '^Time: (?<value>[0-9.]+)'
    unit: s
  - name: rps
    kerntune_metric: true
    direction: maximize
    scale: 0.001
)";

// Parses `text` and expects an error at `line`:`col` whose message holds `needle`.
void expect_error(const std::string& text, int line, int col, const std::string& needle) {
  auto r = kw::parse_workload(text, "w.yaml");
  ASSERT_FALSE(r) << "parsed, but expected: " << needle;
  EXPECT_EQ(r.error().file, "w.yaml");
  EXPECT_EQ(r.error().line, line) << r.error().format();
  if (col) {
    EXPECT_EQ(r.error().column, col) << r.error().format();
  }
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().format();
}

}  // namespace

TEST(LoadWorkload, ReadsEveryField) {
  auto r = kw::parse_workload(kGood, "demo.yaml");
  ASSERT_TRUE(r) << r.error().format();
  const auto& w = *r;
  EXPECT_EQ(w.name, "demo");
  EXPECT_EQ(w.file, "demo.yaml");
  EXPECT_EQ(w.description, "a demo");
  EXPECT_EQ(w.binaries, (std::vector<std::string>{"hackbench", "sysbench"}));
  EXPECT_EQ(w.modules, (std::vector<std::string>{"tcp_bbr"}));
  ASSERT_EQ(w.setup.size(), 2u);
  EXPECT_EQ(w.setup[0], (std::vector<std::string>{"redis-server", "--daemonize", "yes", "--save", ""}));
  EXPECT_EQ(w.command, (std::vector<std::string>{"hackbench", "-g", "4"}));
  EXPECT_EQ(w.repeats, 7);
  EXPECT_EQ(w.warmup, 2);
  EXPECT_EQ(w.timeout.count(), 90000);
  ASSERT_EQ(w.metrics.size(), 2u);
  EXPECT_EQ(w.metrics[0].source, kw::MetricSpec::Source::regex);
  EXPECT_EQ(w.metrics[0].direction, "minimize");
  EXPECT_EQ(w.metrics[0].unit, "s");
  EXPECT_TRUE(w.metrics[0].compiled);
  EXPECT_EQ(w.metrics[1].source, kw::MetricSpec::Source::kerntune_metric);
  EXPECT_EQ(w.metrics[1].direction, "maximize");
  EXPECT_DOUBLE_EQ(w.metrics[1].scale, 0.001);
  ASSERT_NE(w.find_metric("rps"), nullptr);
  EXPECT_EQ(w.find_metric("nope"), nullptr);

  auto m = kw::extract_metrics(w, "Time: 2.5\nKERNTUNE_METRIC rps 5000\n");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_DOUBLE_EQ(m->at("time"), 2.5);
  EXPECT_DOUBLE_EQ(m->at("rps"), 5.0);
}

TEST(LoadWorkload, DefaultsAndNameFromFile) {
  auto r = kw::parse_workload("command: [true]\nmetrics: [{name: x, kerntune_metric: true}]\n",
                              "/some/dir/my-load.yaml");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(r->name, "my-load");
  EXPECT_EQ(r->repeats, 5);
  EXPECT_EQ(r->warmup, 1);
  EXPECT_EQ(r->timeout.count(), 60000);
  EXPECT_TRUE(r->setup.empty());
}

TEST(LoadWorkload, LocatedErrors) {
  const std::string metrics = "metrics: [{name: x, kerntune_metric: true}]\n";
  expect_error("command: [a]\nrepeat: 3\n" + metrics, 2, 1, "did you mean 'repeats'");
  expect_error("name: x\n" + metrics, 1, 1, "needs a 'command'");
  expect_error("command: hackbench -g 4\n" + metrics, 1, 10, "not a string");
  expect_error("command: []\n" + metrics, 1, 10, "must name a program");
  expect_error("command: [a, [b]]\n" + metrics, 1, 14, "must be a string");
  expect_error("command: [a]\ntimeout: 5 minutes\n" + metrics, 2, 10, "timeout");
  expect_error("command: [a]\ntimeout: 0s\n" + metrics, 2, 10, "positive");
  expect_error("command: [a]\nrepeats: 0\n" + metrics, 2, 10, "repeats");
  expect_error("command: [a]\nwarmup: two\n" + metrics, 2, 9, "integer");
  expect_error("command: [a]\nsetup: [sleep, 1]\n" + metrics, 2, 9, "not a string");
  expect_error("command: [a]\n", 1, 1, "needs 'metrics'");
  expect_error("command: [a]\nmetrics: []\n", 2, 10, "needs 'metrics'");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    regex: 'Time: (?<value>[0-9.+)'\n", 4, 12,
               "unterminated character class");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    regex: '(?<value>[0-9]+){2,1}'\n", 4, 12,
               "invalid regex");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    regex: 'Time: ([0-9.]+)'\n", 4, 12,
               "(?<value>");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    kerntune_metric: true\n    direction: maximise\n", 5,
               16, "did you mean 'maximize'");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    kerntune_metric: true\n    scael: 2\n", 5, 5,
               "did you mean 'scale'");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    kerntune_metric: true\n    scale: 0\n", 5, 12,
               "non-zero");
  expect_error("command: [a]\nmetrics:\n  - name: t\n    unit: s\n", 3, 5, "needs a 'regex'");
  expect_error("command: [a]\nmetrics:\n  - {name: t, kerntune_metric: true}\n  - {name: t, kerntune_metric: true}\n",
               4, 12, "defined twice");
  expect_error("command: [a]\nmetrics:\n  - {name: 'a b', kerntune_metric: true}\n", 3, 12, "may hold only");
  expect_error("command: [a]\nmetrics:\n  - {name: t, kerntune_metric: true, regex: '(?<value>1)'}\n", 3, 45,
               "use one");
  expect_error("- a\n- b\n", 1, 1, "must be a mapping");
}

TEST(LoadWorkload, DistributionMetricsAndTheirFaults) {
  auto w = kw::parse_workload(
      "command: [a]\nmetrics:\n  - name: p99\n    unit: ms\n    distribution:\n"
      "      regex: '^(?<value>[0-9.]+) ms \\(count (?<count>[0-9]+)\\)'\n      percentile: 99.9\n"
      "      cumulative: false\n",
      "w.yaml");
  ASSERT_TRUE(w) << w.error().format();
  const auto& m = w->metrics.at(0);
  EXPECT_EQ(m.source, kw::MetricSpec::Source::distribution);
  EXPECT_DOUBLE_EQ(m.percentile, 99.9);
  EXPECT_FALSE(m.cumulative);
  ASSERT_TRUE(m.compiled);
  const std::string head = "command: [a]\nmetrics:\n  - name: t\n";
  expect_error(head + "    distribution: {regex: '(?<value>[0-9]+)', percentile: 99}\n", 4, 27, "(?<count>...)");
  expect_error(head + "    distribution: {regex: '(?<value>[0-9]+) (?<count>[0-9]+)', percentile: 0}\n", 4, 76,
               "above 0 and at most 100");
  expect_error(head + "    distribution: {regex: '(?<value>[0-9]+) (?<count>[0-9]+)', percentile: 101}\n", 4, 76,
               "above 0 and at most 100");
  expect_error(head + "    distribution: {regex: '(?<value>[0-9]+) (?<count>[0-9]+)'}\n", 4, 19, "needs a 'percentile'");
  expect_error(head + "    distribution: {regex: '(?<value>1) (?<count>1)', percentile: 99, cumulativ: true}\n", 4, 0,
               "did you mean 'cumulative'");
  expect_error(head + "    regex: '(?<value>1)'\n    distribution: {regex: '(?<value>1) (?<count>1)', percentile: 99}\n",
               5, 19, "use one");
  expect_error(head + "    scale: -1\n    distribution: {regex: '(?<value>1) (?<count>1)', percentile: 99}\n", 4, 12,
               "must be positive");
  expect_error(head + "    distribution: 99\n", 4, 19, "must be a mapping");
}

TEST(LoadWorkload, SearchDirsPathsAndDidYouMean) {
  TempDir dir;
  const std::string body = "command: [true]\nmetrics: [{name: x, kerntune_metric: true}]\n";
  dir.write("recipes/workloads/alpha.yaml", body);
  dir.write("other/beta.yml", body);
  dir.write("recipes/campaign.yaml", "target: qemu\n");  // a recipe beside workloads/: never a workload
  std::vector<std::string> dirs{dir.str() + "/recipes", dir.str() + "/other"};

  auto a = kw::load_workload("alpha", dirs);  // found under DIR/workloads/
  ASSERT_TRUE(a) << a.error().format();
  EXPECT_EQ(a->file, dir.str() + "/recipes/workloads/alpha.yaml");
  auto b = kw::load_workload("beta", dirs);
  ASSERT_TRUE(b) << b.error().format();
  EXPECT_EQ(b->name, "beta");
  auto by_path = kw::load_workload(dir.str() + "/other/beta.yml", {});
  ASSERT_TRUE(by_path) << by_path.error().format();

  auto miss = kw::load_workload("alpah", dirs);
  ASSERT_FALSE(miss);
  EXPECT_NE(miss.error().message.find("did you mean 'alpha'"), std::string::npos) << miss.error().message;
  EXPECT_NE(miss.error().message.find("available: alpha, beta"), std::string::npos) << miss.error().message;
  auto no_file = kw::load_workload(dir.str() + "/nope.yaml", dirs);
  ASSERT_FALSE(no_file);
  EXPECT_NE(no_file.error().format().find("file not found"), std::string::npos);
  EXPECT_EQ(kw::available_workloads(dirs), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_FALSE(kw::load_workload("campaign", dirs));

  // Errors from a file carry its path.
  auto bad = dir.write("recipes/workloads/bad.yaml", "command: [a]\nmetrics: [{name: x}]\n");
  auto r = kw::load_workload("bad", dirs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, bad);
  EXPECT_EQ(r.error().line, 2);
}
