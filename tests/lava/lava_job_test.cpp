// Unit tests of the lava target's data side (no LAVA, no files): reading a job
// log as lava-run prints it and as the server's /logs/ returns it, the tests
// API page, LAVA's case names, and the plan's encoding.
#include <gtest/gtest.h>

#include "kerntune/targets/guest_protocol.hpp"
#include "targets/lava_job.hpp"
#include "kerntune/util/text.hpp"

namespace lava = kerntune::targets::lava;

TEST(LavaJob, LogLinesFromLavaRunAndFromTheServerAreRead) {
  // Lines as lava-run printed them in a real job (trimmed); the server's /logs/ prefixes "- ".
  const std::string run_log =
      R"({"dt": "2026-11-28T17:09:28.505717", "lvl": "results", "msg": {"case": "validate", "definition": "lava", "result": "pass"}}
{"dt": "2026-11-28T17:09:28.676802", "lvl": "results", "msg": {"case": "file-download", "definition": "lava", "extra": {"size": ! "8245760"}, "result": "pass"}}
{"dt": "2026-11-28T17:09:51.542952", "lvl": "target", "msg": "c\u001b[?7l\u001b[2J@@KT:READY 1.0 0.5"}
{"dt": "2026-11-28T17:09:51.555406", "lvl": "results", "msg": {"case": "metric_r1", "definition": "kerntune", "extra": {"test_case_id": "metric.r1"}, "level": "3.1", "measurement": "42.5", "result": "pass", "units": "ops"}}
not a log line
{"dt": "2026-11-28T17:09:51.851510", "lvl": "results", "msg": {"case": "job", "definition": "lava", "result": "fail", "error_type": "Infrastructure", "error_msg": "Connection closed"}}
)";
  for (const std::string& text : {run_log, [&] {
                                    std::string s;
                                    for (const auto& l : kerntune::util::split(run_log, '\n')) s += "- " + l + "\n";
                                    return s;
                                  }()}) {
    auto log = lava::parse_job_log(text);
    EXPECT_EQ(log.console, "@@KT:READY 1.0 0.5\n");  // terminal codes before the frame dropped
    ASSERT_EQ(log.results.size(), 4u);
    EXPECT_EQ(log.results[2].suite, "kerntune");
    EXPECT_EQ(log.results[2].name, "metric_r1");
    ASSERT_TRUE(log.results[2].measurement);
    EXPECT_DOUBLE_EQ(*log.results[2].measurement, 42.5);
    EXPECT_EQ(log.results[2].units, "ops");
    EXPECT_FALSE(log.finished_ok);
    EXPECT_EQ(log.error_type, "Infrastructure");
    EXPECT_EQ(log.error_msg, "Connection closed");
  }
}

TEST(LavaJob, TestsApiPageIsRead) {
  auto r = lava::parse_results_json(
      R"({"count": 2, "next": null, "results": [
           {"id": 5, "name": "swappiness_r1", "suite": 2, "result": "pass", "measurement": "37.0000000000", "unit": "pages"},
           {"id": 6, "name": "exit_r1", "suite": 2, "result": 2, "measurement": null, "unit": ""}]})");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "swappiness_r1");
  EXPECT_EQ((*r)[0].suite, "2");
  ASSERT_TRUE((*r)[0].measurement);
  EXPECT_DOUBLE_EQ(*(*r)[0].measurement, 37.0);
  EXPECT_EQ((*r)[0].units, "pages");
  EXPECT_EQ((*r)[1].result, "fail");
  EXPECT_FALSE((*r)[1].measurement);
  // The server's reply is not the user's input: an infrastructure error (exit 1, not 2).
  auto html = lava::parse_results_json("<html>502</html>");
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().kind, kerntune::util::Error::Kind::io);
  auto no_array = lava::parse_results_json(R"({"results": 3})");
  ASSERT_FALSE(no_array);
  EXPECT_EQ(no_array.error().kind, kerntune::util::Error::Kind::io);
}

TEST(LavaJob, CaseNamesFollowLava) {
  EXPECT_EQ(lava::case_name("metric.r1"), "metric_r1");
  EXPECT_EQ(lava::case_name("Sys.Elapsed..S/r2"), "sys_elapsed_s_r2");
  EXPECT_EQ(lava::case_name(" ops_per_s.r10 "), "ops_per_s_r10");
}

TEST(LavaJob, PlanCarriesValuesOnlyAsBase64AndEndsWithTheMarker) {
  kerntune::targets::TrialRequest req;
  req.sysctls = {{"kernel.domainname", "x $(touch /tmp/PWNED) `y`"}};
  auto plan = lava::make_plan(req);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].knob.path, "/proc/sys/kernel/domainname");
  EXPECT_EQ(plan->text.find("PWNED"), std::string::npos);
  EXPECT_EQ(plan->text.find("$("), std::string::npos);
  EXPECT_NE(plan->text.find(kerntune::targets::guest::base64_encode("x $(touch /tmp/PWNED) `y`")), std::string::npos);
  req.sysctls = {{"kernel/../../etc/passwd", "1"}};
  EXPECT_FALSE(lava::make_plan(req));
}
