// Effective values: kernel text parsed to each parameter's type, proposals
// compared with what the kernel holds, and the assignment an optimizer learns.
#include "kerntune/space/effective.hpp"

#include <gtest/gtest.h>

namespace kerntune::space {
namespace {

Space knobs() {
  auto s = Space::load_string(R"y(
parameters:
  - {name: fs.pipe-max-size, domain: sysctl, type: int, range: [4096, 1048576], default: 1048576}
  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 300], default: 60}
  - {name: kernel.sched_autogroup_enabled, domain: sysctl, type: bool, default: true}
  - {name: kernel/mm/transparent_hugepage/enabled, domain: sysfs, type: choice, values: [always, madvise, never], default: madvise}
  - {name: hz, domain: kconfig, type: choice, values: ["100", "250", "1000"], default: "250"}
  - {name: ratio, domain: generic, type: real, range: [0.0, 1.0], default: 0.5}
)y", "knobs.yaml");
  if (!s) throw std::runtime_error(s.error().format());
  return std::move(*s);
}

TEST(Effective, KernelTextParsesToEachType) {
  Space s = knobs();
  auto parse = [&](const char* name, nlohmann::json v) { return parse_reported(*s.find(name), v); };
  EXPECT_EQ(parse("fs.pipe-max-size", "131072\n").value(), Value(131072LL));
  EXPECT_EQ(parse("fs.pipe-max-size", 131072).value(), Value(131072LL));
  EXPECT_EQ(parse("fs.pipe-max-size", 131072.0).value(), Value(131072LL));
  EXPECT_EQ(parse("kernel.sched_autogroup_enabled", "0").value(), Value(false));
  EXPECT_EQ(parse("kernel.sched_autogroup_enabled", " 1 ").value(), Value(true));
  EXPECT_EQ(parse("kernel.sched_autogroup_enabled", true).value(), Value(true));
  EXPECT_EQ(parse("kernel.sched_autogroup_enabled", "Y").value(), Value(true));
  EXPECT_EQ(parse("kernel/mm/transparent_hugepage/enabled", "never").value(), Value(std::string("never")));
  EXPECT_EQ(parse("hz", 1000).value(), Value(std::string("1000")));
  EXPECT_EQ(parse("ratio", "0.25").value(), Value(0.25));
  // The range is the space's, not the kernel's: a value outside it parses.
  EXPECT_EQ(parse("vm.swappiness", "500").value(), Value(500LL));
}

TEST(Effective, AValueTheTypeCannotHoldIsALocatedError) {
  Space s = knobs();
  const Parameter& b = *s.find("kernel.sched_autogroup_enabled");
  for (nlohmann::json bad : {nlohmann::json("2"), nlohmann::json("yes please"), nlohmann::json(nullptr)}) {
    auto r = parse_reported(b, bad);
    ASSERT_FALSE(r) << bad.dump();
    EXPECT_EQ(r.error().kind, util::Error::Kind::invalid_input);
    EXPECT_EQ(r.error().file, "knobs.yaml");
    EXPECT_EQ(r.error().line, 5);
    EXPECT_NE(r.error().message.find("'kernel.sched_autogroup_enabled' (bool)"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("expected 1 or 0"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_reported(*s.find("vm.swappiness"), "60 61"));
  EXPECT_FALSE(parse_reported(*s.find("vm.swappiness"), "6O"));
  EXPECT_FALSE(parse_reported(*s.find("vm.swappiness"), 60.5));
  EXPECT_FALSE(parse_reported(*s.find("ratio"), "nan"));
  auto c = parse_reported(*s.find("kernel/mm/transparent_hugepage/enabled"), "always [madvise] never");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("one of always, madvise, never"), std::string::npos) << c.error().message;
}

TEST(Effective, ComparisonNamesClampedRefusedAndUnreadableParameters) {
  Space s = knobs();
  Assignment proposed = {{"fs.pipe-max-size", 100000LL}, {"vm.swappiness", 250LL},
                         {"kernel.sched_autogroup_enabled", true},
                         {"kernel/mm/transparent_hugepage/enabled", std::string("never")},
                         {"hz", std::string("250")}, {"ratio", 0.5}};
  nlohmann::json reported = {{"fs.pipe-max-size", "131072"}, {"vm.swappiness", "60"},
                             {"kernel.sched_autogroup_enabled", "2"},
                             {"kernel/mm/transparent_hugepage/enabled", "never"}, {"cmdline", "console=ttyS0"}};
  Effective e = compare_effective(s, proposed, reported, {{"vm.swappiness", "write error: Invalid argument"}});
  // Every proposed parameter, typed: what the kernel holds, else the proposal.
  EXPECT_EQ(e.values.size(), proposed.size());
  EXPECT_EQ(e.values.at("fs.pipe-max-size"), Value(131072LL));
  EXPECT_EQ(e.values.at("vm.swappiness"), Value(60LL));
  EXPECT_EQ(e.values.at("kernel.sched_autogroup_enabled"), Value(true));  // unreadable: the proposal
  EXPECT_EQ(e.values.at("hz"), Value(std::string("250")));                // not reported: the proposal
  ASSERT_EQ(e.adjusted.size(), 3u);
  EXPECT_EQ(to_json(e.adjusted[0]), (nlohmann::json{{"parameter", "fs.pipe-max-size"}, {"proposed", 100000},
                                                    {"effective", 131072}, {"how", "clamped"}}));
  EXPECT_EQ(to_json(e.adjusted[1]),
            (nlohmann::json{{"parameter", "vm.swappiness"}, {"proposed", 250}, {"effective", 60}, {"how", "refused"},
                            {"reason", "write error: Invalid argument"}}));
  EXPECT_EQ(e.adjusted[2].how, Adjustment::How::unreadable);
  EXPECT_EQ(e.adjusted[2].effective, "2");
  EXPECT_NE(e.adjusted[2].reason.find("knobs.yaml:5"), std::string::npos) << e.adjusted[2].reason;
  EXPECT_EQ(describe_adjustment(to_json(e.adjusted[0])), "fs.pipe-max-size 100000 → 131072 (clamped)");
  EXPECT_EQ(describe_adjustment(to_json(e.adjusted[1])),
            "vm.swappiness 250 refused, kept 60 (write error: Invalid argument)");
  // Nothing reported, nothing refused: no adjustment, the proposal stands.
  Effective same = compare_effective(s, proposed, nlohmann::json::object());
  EXPECT_TRUE(same.adjusted.empty());
  EXPECT_EQ(same.values, proposed);
}

TEST(Effective, TheOptimizerLearnsTheEffectivePointInsideTheSpace) {
  Space s = knobs();
  nlohmann::json params = {{"fs.pipe-max-size", 100000}, {"vm.swappiness", 250}, {"kernel.sched_autogroup_enabled", true},
                           {"kernel/mm/transparent_hugepage/enabled", "never"}, {"hz", "250"}, {"ratio", 0.5}};
  // As stored: typed values, an unreadable one as the kernel printed it, the target's own keys.
  nlohmann::json effective = {{"fs.pipe-max-size", 131072}, {"vm.swappiness", 60},
                              {"kernel.sched_autogroup_enabled", "2"}, {"cmdline", "console=ttyS0"},
                              {"adjusted", nlohmann::json::array()}};
  auto a = learned_assignment(s, params, effective);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->at("fs.pipe-max-size"), Value(131072LL));
  EXPECT_EQ(a->at("vm.swappiness"), Value(60LL));
  EXPECT_EQ(a->at("kernel.sched_autogroup_enabled"), Value(true));  // unreadable: learned at the proposal
  auto proposed = s.from_json(params);
  ASSERT_TRUE(proposed);
  EXPECT_NE(s.encode(*a), s.encode(*proposed));
  Assignment expected = *proposed;
  expected["fs.pipe-max-size"] = 131072LL;
  expected["vm.swappiness"] = 60LL;
  EXPECT_EQ(s.encode(*a), s.encode(expected));
  // Older stores hold kernel text: it parses the same way.
  auto old = learned_assignment(s, params, {{"fs.pipe-max-size", "131072"}, {"vm.swappiness", "60"}});
  ASSERT_TRUE(old);
  EXPECT_EQ(s.encode(*old), s.encode(expected));
  // A value the kernel holds outside the space's range is learned at the range's end.
  auto beyond = learned_assignment(s, params, {{"vm.swappiness", 400}, {"fs.pipe-max-size", 16}});
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->at("vm.swappiness"), Value(300LL));
  EXPECT_EQ(beyond->at("fs.pipe-max-size"), Value(4096LL));
  for (double c : s.encode(*beyond))
    if (!std::isnan(c)) {
      EXPECT_TRUE(c >= 0 && c <= 2) << c;
    }
  // A proposal of another space: nothing to learn from.
  EXPECT_FALSE(learned_assignment(s, {{"no.such", 1}}, effective));
}

}  // namespace
}  // namespace kerntune::space
