// extract_metrics and the KERNTUNE_METRIC protocol.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// ---- distribution metrics: a percentile of all repeats' requests pooled ----

namespace {
kw::MetricSpec distribution_metric(std::string name, double percentile, bool cumulative = true) {
  kw::MetricSpec m;
  m.name = std::move(name);
  m.source = kw::MetricSpec::Source::distribution;
  m.regex = R"(^(?<percent>[0-9.]+)% <= (?<value>[0-9.]+) milliseconds \(cumulative count (?<count>[0-9]+)\))";
  if (!cumulative) m.regex = R"(^bucket <= (?<value>[0-9.]+) ms: (?<count>[0-9]+))";
  m.percentile = percentile;
  m.cumulative = cumulative;
  return m;
}

// The exact cumulative distribution of raw observations: one point per distinct value.
kw::Distribution exact(std::vector<double> raw) {
  std::sort(raw.begin(), raw.end());
  kw::Distribution d;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (i + 1 == raw.size() || raw[i + 1] != raw[i]) d.push_back({raw[i], static_cast<double>(i + 1)});
  return d;
}
}  // namespace

TEST(PooledPercentile, OfExactDistributionsIsTheOrderStatisticOfAllObservationsPooled) {
  std::vector<double> a, b, all;
  for (int i = 0; i < 500; ++i) a.push_back(1.0 + 0.01 * ((i * 37) % 500));
  for (int i = 0; i < 700; ++i) b.push_back(2.0 + 0.013 * ((i * 53) % 700));
  all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  std::vector<kw::Distribution> parts{exact(a), exact(b)};
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    SCOPED_TRACE(p);
    auto q = kw::pooled_percentile(parts, p);
    ASSERT_TRUE(q);
    const double rank = p / 100.0 * static_cast<double>(all.size());  // 1-based rank reached
    const auto k = static_cast<std::size_t>(std::ceil(rank));
    EXPECT_DOUBLE_EQ(*q, all[k - 1]);
  }
  EXPECT_DOUBLE_EQ(*kw::pooled_percentile(parts, 100), all.back());
  std::vector<kw::Distribution> none;
  EXPECT_FALSE(kw::pooled_percentile(none, 99));
}

TEST(PooledPercentile, SeesATailThatOneRepeatInThreeHoldsWhereTheMedianOfRepeatsDoesNot) {
  // Two repeats of 1000 requests at 1 ms; a third with 60 of its 1000 at 10 ms
  // (a stall): 2% of all requests are slow, so the pooled p99 lies in the tail,
  // while the median of the three per-repeat p99s is the fast repeats' 1 ms.
  kw::Distribution fast{{1.0, 1000}};
  kw::Distribution stalled{{1.0, 940}, {10.0, 1000}};
  std::vector<double> per_repeat;
  for (const auto* d : {&fast, &fast, &stalled}) {
    std::vector<kw::Distribution> one{*d};
    per_repeat.push_back(*kw::pooled_percentile(one, 99));
  }
  std::sort(per_repeat.begin(), per_repeat.end());
  EXPECT_DOUBLE_EQ(per_repeat[1], 1.0);
  std::vector<kw::Distribution> parts{fast, fast, stalled};
  auto pooled = kw::pooled_percentile(parts, 99);
  ASSERT_TRUE(pooled);
  // Rank 2970 of 3000: 2940 at or below 1 ms, so the pooled p99 is the stall's 10 ms.
  EXPECT_DOUBLE_EQ(*pooled, 10.0);
}

TEST(DistributionMetric, ReadsARedisBenchmarkRunAndGivesThatRunsPercentile) {
  const std::string out =
      "Latency by percentile distribution:\n"
      "0.000% <= 0.055 milliseconds (cumulative count 2)\n"
      "50.000% <= 0.159 milliseconds (cumulative count 1071)\n"
      "98.438% <= 0.335 milliseconds (cumulative count 1971)\n"
      "99.219% <= 0.383 milliseconds (cumulative count 1985)\n"
      "100.000% <= 0.775 milliseconds (cumulative count 2000)\n"
      "\nCumulative distribution of latencies:\n"
      "26.100% <= 0.103 milliseconds (cumulative count 522)\n"  // the second table: same points' CDF
      "100.000% <= 0.807 milliseconds (cumulative count 2000)\n";
  auto m = distribution_metric("p99", 99);
  auto d = kw::extract_distribution(m, out, "t");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->size(), 7u);
  EXPECT_DOUBLE_EQ(d->front().value, 0.055);
  EXPECT_DOUBLE_EQ(d->back().count, 2000);
  auto v = kw::extract_metrics(with_metrics({m}), out);
  ASSERT_TRUE(v) << v.error().message;
  // Rank 1980: 1971 at or below 0.335 ms, 1985 at or below 0.383 ms.
  EXPECT_DOUBLE_EQ(v->at("p99"), 0.383);
  auto p50 = distribution_metric("p50", 50);
  EXPECT_DOUBLE_EQ(kw::extract_metrics(with_metrics({p50}), out)->at("p50"), 0.159);  // the tool's own 50% line
  // scale applies to every point's value
  m.scale = 1000;
  EXPECT_NEAR(kw::extract_metrics(with_metrics({m}), out)->at("p99"), 383, 1e-9);
}

TEST(DistributionMetric, BucketCountsAreSummedAndFaultsAreNamed) {
  auto buckets = distribution_metric("p90", 90, /*cumulative=*/false);
  auto b = kw::extract_metrics(with_metrics({buckets}), "bucket <= 1 ms: 50\nbucket <= 2 ms: 40\nbucket <= 4 ms: 10\n");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_DOUBLE_EQ(b->at("p90"), 2.0);  // 90 of 100 at or below 2 ms
  auto m = distribution_metric("p99", 99);
  auto none = kw::extract_metrics(with_metrics({m}), "no distribution here\n");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("metric 'p99' of workload 't' is missing"), std::string::npos)
      << none.error().message;
  auto falling = kw::extract_metrics(with_metrics({m}), "50.000% <= 1.0 milliseconds (cumulative count 50)\n"
                                                         "99.000% <= 2.0 milliseconds (cumulative count 40)\n");
  ASSERT_FALSE(falling);
  EXPECT_NE(falling.error().message.find("not a cumulative distribution"), std::string::npos)
      << falling.error().message;
}
