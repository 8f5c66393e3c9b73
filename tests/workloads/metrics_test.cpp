// extract_metrics and the KERNTUNE_METRIC protocol.
#include <gtest/gtest.h>

#include "kerntune/workloads/workload.hpp"

namespace kw = kerntune::workloads;

namespace {
kw::Workload with_metrics(std::vector<kw::MetricSpec> m) {
  kw::Workload w;
  w.name = "t";
  w.command = {"true"};
  w.metrics = std::move(m);
  return w;
}
kw::MetricSpec regex_metric(std::string name, std::string regex, double scale = 1) {
  kw::MetricSpec m;
  m.name = std::move(name);
  m.regex = std::move(regex);
  m.scale = scale;
  return m;
}
kw::MetricSpec protocol_metric(std::string name) {
  kw::MetricSpec m;
  m.name = std::move(name);
  m.source = kw::MetricSpec::Source::kerntune_metric;
  return m;
}
}  // namespace

TEST(MetricLines, ToleratesWhitespaceCrlfAndSkipsBadNumbers) {
  auto m = kw::parse_metric_lines(
      "hello\n"
      "  KERNTUNE_METRIC\tlatency   1.5  ms \r\n"
      "KERNTUNE_METRIC rps 1,200\r\n"
      "KERNTUNE_METRIC broken 12abc ms\n"
      "KERNTUNE_METRIC nanny nan\n"
      "KERNTUNE_METRIC short\n"
      "prefix KERNTUNE_METRIC ignored 3\n"
      "KERNTUNE_METRIC latency 2.5 ms\n"
      "progress 10%\rKERNTUNE_METRIC mem 512 MiB\n"
      "KERNTUNE_METRIC multi 7 bytes per op");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_DOUBLE_EQ(m.at("latency").first, 2.5);  // the later line wins
  EXPECT_EQ(m.at("latency").second, "ms");
  EXPECT_DOUBLE_EQ(m.at("rps").first, 1200);
  EXPECT_EQ(m.at("rps").second, "");
  EXPECT_DOUBLE_EQ(m.at("mem").first, 512);
  EXPECT_EQ(m.at("multi").second, "bytes per op");
  EXPECT_FALSE(m.contains("broken"));
  EXPECT_FALSE(m.contains("nanny"));
  EXPECT_FALSE(m.contains("ignored"));
}

TEST(ExtractMetrics, AppliesScaleAndCompilesHandBuiltSpecs) {
  auto w = with_metrics({regex_metric("t_ms", R"(Time: (?<value>[0-9.]+))", 1000.0), protocol_metric("mem")});
  auto r = kw::extract_metrics(w, "Time: 0.5\nTime: 0.25\nKERNTUNE_METRIC mem 64 MiB\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_DOUBLE_EQ(r->at("t_ms"), 250.0);
  EXPECT_DOUBLE_EQ(r->at("mem"), 64.0);
}

TEST(ExtractMetrics, MissingMetricNamesItAndShowsTheTail) {
  std::string out;
  for (int i = 1; i <= 30; ++i) out += "line " + std::to_string(i) + "\n";
  auto w = with_metrics({regex_metric("time", R"(Time: (?<value>[0-9.]+))")});
  auto r = kw::extract_metrics(w, out);
  ASSERT_FALSE(r);
  const auto& msg = r.error().message;
  EXPECT_NE(msg.find("metric 'time'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 30"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 21"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("line 20\n"), std::string::npos) << msg;  // only the last 10 lines

  auto p = kw::extract_metrics(with_metrics({protocol_metric("rps")}), "KERNTUNE_METRIC rps oops\n");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("KERNTUNE_METRIC rps"), std::string::npos);
  EXPECT_NE(p.error().message.find("| KERNTUNE_METRIC rps oops"), std::string::npos);

  auto empty = kw::extract_metrics(w, "");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("output is empty"), std::string::npos);
}

TEST(ExtractMetrics, CapturedTextThatIsNotANumberFails) {
  auto w = with_metrics({regex_metric("x", R"(x=(?<value>\S+))")});
  auto r = kw::extract_metrics(w, "x=1,23\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'1,23'"), std::string::npos) << r.error().message;
  auto bad_regex = kw::extract_metrics(with_metrics({regex_metric("y", "(")}), "y");
  ASSERT_FALSE(bad_regex);
  EXPECT_NE(bad_regex.error().message.find("metric 'y'"), std::string::npos);
}
