// Loading real search-space files: every bad-input case is a located error
// (FILE:LINE[:COL]: message) and every shipped file loads.
#include <gtest/gtest.h>

#include <filesystem>

#include "kerntune/space/space.hpp"

namespace kerntune::space {
namespace {

std::string fixture(const std::string& name) { return std::string(KERNTUNE_SOURCE_DIR) + "/tests/data/space/" + name; }

struct BadCase {
  std::string file;
  int line;    ///< expected 1-based line (0: no line)
  int column;  ///< expected column, 0: not checked
  std::string message;  ///< expected substring
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.file; }

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, IsLocatedError) {
  const BadCase& c = GetParam();
  auto s = Space::load_file(fixture(c.file));
  ASSERT_FALSE(s.has_value()) << c.file << " loaded but should not";
  const util::Error& e = s.error();
  EXPECT_EQ(e.kind, util::Error::Kind::invalid_input) << e.format();
  EXPECT_EQ(e.file, fixture(c.file));
  EXPECT_EQ(e.line, c.line) << e.format();
  if (c.column > 0) {
    EXPECT_EQ(e.column, c.column) << e.format();
  }
  EXPECT_NE(e.message.find(c.message), std::string::npos) << "message: " << e.format() << "\nexpected: " << c.message;
  if (c.line > 0) {
    EXPECT_TRUE(e.format().starts_with(fixture(c.file) + ":" + std::to_string(c.line) + ":")) << e.format();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Space, BadInput,
    ::testing::Values(
        BadCase{"yaml_syntax.yaml", 6, 0, "YAML syntax error"},
        BadCase{"unknown_key.yaml", 5, 5, "unknown key 'rnage' in parameter (did you mean 'range'?)"},
        BadCase{"reversed_range.yaml", 5, 12, "reversed range [10, 1] for 'x'"},
        BadCase{"default_outside_range.yaml", 7, 14, "default 5000 of 'n' is outside its range [1, 4096]"},
        BadCase{"duplicate_name.yaml", 4, 12, "duplicate parameter 'x' (first defined at line 2)"},
        BadCase{"when_unknown.yaml", 8, 12, "unknown parameter 'fats' (did you mean 'fast'?)"},
        BadCase{"empty_choice.yaml", 5, 13, "choice parameter 'mode' has no values"},
        BadCase{"log_zero.yaml", 6, 12, "log scale needs a range above 0, but 'n' has [0, 100]"},
        BadCase{"log_negative.yaml", 6, 12, "log scale needs a range above 0, but 'r' has [-1.0, 1.0]"},
        BadCase{"unknown_type.yaml", 4, 11, "unknown parameter type 'flaot' (one of bool, tristate, int, real, choice)"},
        BadCase{"unknown_domain.yaml", 3, 13, "unknown domain 'sysctrl' (one of kconfig, cmdline, sysctl, sysfs, generic); did you mean 'sysctl'?"},
        BadCase{"bad_tristate.yaml", 5, 14, "bad tristate value 'yes' for 'level' (one of n, m, y)"},
        BadCase{"int_range_reals.yaml", 5, 13, "int parameter 'x' needs an integer range, got '1.5'"},
        BadCase{"missing_range.yaml", 3, 5, "real parameter 'x' needs 'range: [lo, hi]'"},
        BadCase{"empty.yaml", 1, 0, "file is empty"},
        BadCase{"only_comment.yaml", 1, 0, "holds no YAML document"},
        BadCase{"binary.yaml", 0, 0, "not a text file"},
        BadCase{"does_not_exist.yaml", 0, 0, "file not found"},
        BadCase{"choice_default.yaml", 6, 14, "default 'ful' of 'preempt' is not one of its values (none, voluntary, full); did you mean 'full'?"},
        BadCase{"non_string_constraint.yaml", 6, 5, "each constraint must be a string expression"},
        BadCase{"when_cycle.yaml", 2, 51, "cycle in 'when:' conditions: a -> c -> b -> a"},
        BadCase{"defaults_violate_constraint.yaml", 5, 6,
                "the defaults violate this constraint: 'vm.dirty_background_ratio < vm.dirty_ratio' does not hold "
                "(vm.dirty_background_ratio=30, vm.dirty_ratio=20)"},
        BadCase{"missing_default.yaml", 2, 5, "parameter 'x' has no 'default'"},
        BadCase{"constraint_syntax.yaml", 6, 16, "expected ')' but found 'end of expression'"},
        BadCase{"duplicate_key.yaml", 7, 5, "duplicate key 'default' in parameter"},
        BadCase{"not_a_space.yaml", 1, 1, "a search-space file must be a mapping with 'parameters:'"},
        BadCase{"unknown_top_key.yaml", 3, 1, "unknown key 'constraint' in search-space file (did you mean 'constraints'?)"},
        BadCase{"when_bad_value.yaml", 3, 88, "'nonee' is not a value of choice 'preempt' (values: none, voluntary, full); did you mean 'none'?"},
        BadCase{"range_outside_safe_range.yaml", 6, 17,
                "range [1024, 131072] of 'vm.min_free_kbytes' leaves its safe_range [45056, 131072]"},
        BadCase{"safe_range_choice.yaml", 6, 17, "'safe_range' is only for int and real parameters ('mode' is choice)"},
        BadCase{"sysfs_absolute.yaml", 2, 11, "sysfs names are relative to /sys: write 'kernel/mm/transparent_hugepage/enabled'"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return p.param.file.substr(0, p.param.file.find('.')); });

TEST(SpaceFiles, GoodMixedFixtureLoads) {
  auto s = Space::load_file(fixture("good_mixed.yaml"));
  ASSERT_TRUE(s.has_value()) << s.error().format();
  EXPECT_EQ(s->size(), 10u);
  EXPECT_EQ(s->constraints().size(), 2u);
  EXPECT_EQ(s->description(), "test fixture");
  EXPECT_EQ(s->kernel(), "6.1");
  const Parameter* thp = s->find("kernel/mm/transparent_hugepage/enabled");
  ASSERT_NE(thp, nullptr);
  EXPECT_EQ(thp->domain, Domain::sysfs);
  EXPECT_EQ(thp->description, "THP policy");
  EXPECT_EQ(thp->line, 27);
  const Parameter* depth = s->find("depth");
  ASSERT_NE(depth, nullptr);
  EXPECT_TRUE(depth->log_scale);
  EXPECT_EQ(depth->when_line, 39);
  Assignment d = s->defaults();
  EXPECT_FALSE(d.contains("depth"));  // fast defaults to false
  EXPECT_FALSE(d.contains("width"));  // chained: depth is inactive
  EXPECT_EQ(std::get<std::string>(d.at("CONFIG_HZ")), "250");
  EXPECT_TRUE(d.contains("latency"));  // voluntary and 250 >= 250
  EXPECT_TRUE(s->validate(d).has_value());
}

TEST(SpaceFiles, EveryShippedSearchSpaceLoadsAndSamples) {
  std::filesystem::path dir = std::string(KERNTUNE_SOURCE_DIR) + "/search-spaces";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    auto s = Space::load_file(entry.path().string());
    ASSERT_TRUE(s.has_value()) << s.error().format();
    EXPECT_TRUE(s->validate(s->defaults()).has_value()) << entry.path();
    std::mt19937_64 rng(7);
    for (int i = 0; i < 200; ++i) {
      auto a = s->sample(rng);
      ASSERT_TRUE(a.has_value()) << a.error().format();
      ASSERT_TRUE(s->validate(*a).has_value()) << entry.path() << ": " << s->validate(*a).error().format();
    }
  }
  EXPECT_GE(count, 1) << "search-spaces/example-generic.yaml is missing";
}

}  // namespace
}  // namespace kerntune::space
