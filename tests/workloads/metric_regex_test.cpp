// Named groups on std::regex, last-match rules and number parsing.
#include <gtest/gtest.h>

#include "kerntune/workloads/metric_regex.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kw = kerntune::workloads;

TEST(MetricRegex, NamedGroupIsRenumberedPastOtherGroups) {
  auto r = kw::compile_metric_regex(R"((a|b)(?:x)(?<unit>[a-z]+)=(?<value>[0-9.]+)([(]))");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->value_group, 3u);
  EXPECT_EQ(r->groups.at("unit"), 2u);
  auto v = kw::last_value_match(*r, "axms=12.5(");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "12.5");
}

TEST(MetricRegex, ParenthesisInsideClassOrEscapedIsNotAGroup) {
  auto r = kw::compile_metric_regex(R"([(\]]\((?<value>\d+)\))");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->value_group, 1u);
  EXPECT_EQ(*kw::last_value_match(*r, "x((42)"), "42");
}

TEST(MetricRegex, NamedBackReference) {
  auto r = kw::compile_metric_regex(R"((?<q>['"])(?<value>\d+)\k<q>)");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*kw::last_value_match(*r, R"(a '7" b "9")"), "9");
  EXPECT_FALSE(kw::last_value_match(*r, R"('7")"));
}

TEST(MetricRegex, RejectsMissingValueGroupBadSyntaxAndLookbehind) {
  auto none = kw::compile_metric_regex(R"(Time: ([0-9.]+))");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("(?<value>"), std::string::npos);
  auto bad = kw::compile_metric_regex(R"((?<value>[0-9.+))");
  ASSERT_FALSE(bad);
  auto unbalanced = kw::compile_metric_regex(R"((?<value>\d+)))");
  ASSERT_FALSE(unbalanced);
  EXPECT_NE(unbalanced.error().message.find("invalid regex"), std::string::npos);
  EXPECT_FALSE(kw::compile_metric_regex(R"((?<=x)(?<value>\d))"));
  EXPECT_FALSE(kw::compile_metric_regex(R"((?<value>\d)(?<value>\d))"));
  EXPECT_FALSE(kw::compile_metric_regex(R"((?<9x>\d))"));
  EXPECT_FALSE(kw::compile_metric_regex("(?<value>\\d)\\"));
}

TEST(MetricRegex, LastMatchWinsAcrossLinesAndWithinALine) {
  auto r = kw::compile_metric_regex(R"(v=(?<value>\d+))");
  ASSERT_TRUE(r);
  EXPECT_EQ(*kw::last_value_match(*r, "v=1\nv=2 v=3\nnothing here\n"), "3");
  // '\r' ends a line too: progress output overwritten in place.
  EXPECT_EQ(*kw::last_value_match(*r, "v=1\rv=5\r\n"), "5");
  EXPECT_FALSE(kw::last_value_match(*r, "v=\n"));
}

TEST(MetricRegex, AnchorsWorkPerLine) {
  auto r = kw::compile_metric_regex(R"(^Time: (?<value>[0-9.]+)$)");
  ASSERT_TRUE(r);
  EXPECT_EQ(*kw::last_value_match(*r, "noise\nTime: 1.5\r\nxTime: 9\n"), "1.5");
}

TEST(MetricRegex, OptionalValueGroupThatDidNotTakePartIsNoMatch) {
  auto r = kw::compile_metric_regex(R"(ok(?:=(?<value>\d+))?)");
  ASSERT_TRUE(r);
  EXPECT_EQ(*kw::last_value_match(*r, "ok=4\nok\n"), "4");
}

TEST(ParseNumber, AcceptsWhatToolsPrint) {
  EXPECT_DOUBLE_EQ(*kw::parse_number("42"), 42);
  EXPECT_DOUBLE_EQ(*kw::parse_number(" -1.25 "), -1.25);
  EXPECT_DOUBLE_EQ(*kw::parse_number("+3"), 3);
  EXPECT_DOUBLE_EQ(*kw::parse_number(".5"), 0.5);
  EXPECT_DOUBLE_EQ(*kw::parse_number("1.5e+10"), 1.5e10);
  EXPECT_DOUBLE_EQ(*kw::parse_number("1,234"), 1234);
  EXPECT_DOUBLE_EQ(*kw::parse_number("12,345,678.25"), 12345678.25);
}

TEST(ParseNumber, RejectsAmbiguousAndNonNumbers) {
  for (const char* bad : {"", "abc", "1,23", "1,2345", ",123", "1.5,000", "12abc", "nan", "-nan", "inf",
                          "1e999", "--1", "1,234,56"})
    EXPECT_FALSE(kw::parse_number(bad)) << bad;
}
