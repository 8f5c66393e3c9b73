#include "kerntune/util/yaml.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace kerntune::util;

TEST(Yaml, SyntaxErrorIsLocated) {
  auto r = load_yaml_string("a: 1\nb: [1, 2\nc: 3\n", "f.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "f.yaml");
  EXPECT_GE(r.error().line, 2);
  EXPECT_NE(r.error().message.find("YAML syntax error"), std::string::npos);
}

TEST(Yaml, EmptyAndBinaryAndMissing) {
  EXPECT_NE(load_yaml_string("", "e.yaml").error().message.find("empty"), std::string::npos);
  EXPECT_NE(load_yaml_string("# only a comment\n", "c.yaml").error().message.find("no YAML document"), std::string::npos);
  EXPECT_NE(load_yaml_string(std::string("a: \0\x01", 5), "b.yaml").error().message.find("not a text file"), std::string::npos);
  auto m = load_yaml_file("/nonexistent/kerntune.yaml");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().file, "/nonexistent/kerntune.yaml");
  EXPECT_NE(m.error().message.find("not found"), std::string::npos);
}

TEST(Yaml, UnknownKeyWithDidYouMeanAtItsLine) {
  auto n = *load_yaml_string("name: x\nrnage: [1, 2]\n", "k.yaml");
  auto s = check_keys(n, "k.yaml", {"name", "range"}, "parameter");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().line, 2);
  EXPECT_EQ(s.error().column, 1);
  EXPECT_NE(s.error().message.find("did you mean 'range'"), std::string::npos);
  EXPECT_EQ(s.error().format(), "k.yaml:2:1: unknown key 'rnage' in parameter (did you mean 'range'?)");
}

TEST(Yaml, ScalarConversions) {
  auto n = *load_yaml_string("i: 42\nr: 1.5\nb: true\ns: [1]\n", "s.yaml");
  EXPECT_EQ(*as_int(n["i"], "s.yaml", "i"), 42);
  EXPECT_FALSE(as_int(n["r"], "s.yaml", "r"));
  EXPECT_DOUBLE_EQ(*as_double(n["r"], "s.yaml", "r"), 1.5);
  EXPECT_TRUE(*as_bool(n["b"], "s.yaml", "b"));
  EXPECT_FALSE(as_string(n["s"], "s.yaml", "s"));
  EXPECT_EQ(as_int(n["r"], "s.yaml", "r").error().line, 2);
}
