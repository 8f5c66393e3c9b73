// The expression language of `when:` and `constraints:`: parsing, type checks
// with located errors, and evaluation (including undefined = inactive).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "kerntune/space/expr.hpp"

namespace kerntune::space {
namespace {

Parameter param(std::string name, Type type, double lo = 0, double hi = 0, std::vector<std::string> values = {}) {
  Parameter p;
  p.name = std::move(name);
  p.type = type;
  p.lo = lo;
  p.hi = hi;
  p.values = std::move(values);
  if (type == Type::tristate) p.values = {"n", "m", "y"};
  return p;
}

class ExprTest : public ::testing::Test {
 protected:
  ExprTest() {
    params_ = {param("fast", Type::boolean),
               param("a", Type::integer, 0, 100),
               param("b", Type::integer, 0, 100),
               param("x", Type::real, -1, 1),
               param("level", Type::tristate),
               param("preempt", Type::choice, 0, 0, {"none", "voluntary", "full"}),
               param("hz", Type::choice, 0, 0, {"100", "250", "1000"}),
               param("vm.dirty_ratio", Type::integer, 0, 100),
               param("kernel/mm/thp", Type::choice, 0, 0, {"always", "never"}),
               param("a-b", Type::integer, 0, 100),
               param("8250.nr_uarts", Type::integer, 0, 32)};
    for (std::size_t i = 0; i < params_.size(); ++i) index_[params_[i].name] = i;
    set("fast", false);
    set("a", 1LL);
    set("b", 3LL);
    set("x", 0.5);
    set("level", std::string("m"));
    set("preempt", std::string("voluntary"));
    set("hz", std::string("250"));
    set("vm.dirty_ratio", 20LL);
    set("kernel/mm/thp", std::string("always"));
    set("a-b", 50LL);
    set("8250.nr_uarts", 4LL);
  }

  void set(const std::string& name, Value v) { values_[index_.at(name)] = std::move(v); }
  void deactivate(const std::string& name) { inactive_.insert(index_.at(name)); }

  util::Result<std::shared_ptr<const Expr>> parse(const std::string& text) {
    return Expr::parse(text, ExprScope{params_, index_}, SourcePos{"f.yaml", 3, 10});
  }
  bool eval(const std::string& text) {
    auto e = parse(text);
    if (!e) {
      ADD_FAILURE() << text << ": " << e.error().format();
      return false;
    }
    std::vector<const Value*> ptrs(params_.size(), nullptr);
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (!inactive_.contains(i) && values_.contains(i)) ptrs[i] = &values_.at(i);
    return (*e)->holds(ptrs);
  }
  util::Error error(const std::string& text) {
    auto e = parse(text);
    if (e) {
      ADD_FAILURE() << text << " parsed but should not";
      return {};
    }
    return e.error();
  }

  std::vector<Parameter> params_;
  std::unordered_map<std::string, std::size_t> index_;
  std::map<std::size_t, Value> values_;
  std::set<std::size_t> inactive_;
};

TEST_F(ExprTest, ArithmeticAndPrecedence) {
  EXPECT_TRUE(eval("a + b * 2 == 7"));
  EXPECT_TRUE(eval("(a + b) * 2 == 8"));
  EXPECT_TRUE(eval("b - a - 1 == 1"));  // left associative
  EXPECT_TRUE(eval("b / 2 == 1.5"));
  EXPECT_TRUE(eval("-a + 1 == 0"));
  EXPECT_TRUE(eval("x <= 0.5 && x >= 5e-1"));
  EXPECT_FALSE(eval("a > b"));
  EXPECT_TRUE(eval("a < b || fast"));
  EXPECT_FALSE(eval("a < b && fast"));
  EXPECT_TRUE(eval("!fast && a != b"));
  EXPECT_TRUE(eval("!(a == b)"));
}

TEST_F(ExprTest, BoolsTristatesAndChoices) {
  EXPECT_TRUE(eval("fast == false"));
  EXPECT_TRUE(eval("fast != true"));
  EXPECT_FALSE(eval("fast"));
  set("fast", true);
  EXPECT_TRUE(eval("fast"));
  EXPECT_TRUE(eval("level == m"));
  EXPECT_TRUE(eval("level >= m && level < y && level > n"));
  EXPECT_TRUE(eval("level != 'y'"));
  EXPECT_TRUE(eval("preempt != none"));
  EXPECT_TRUE(eval("preempt == \"voluntary\""));
  EXPECT_TRUE(eval("hz >= 250 && hz < 1000"));  // numeric choice compares as a number
  EXPECT_TRUE(eval("hz == 250"));
  EXPECT_TRUE(eval("preempt != none && hz >= 250"));  // the example
}

TEST_F(ExprTest, NamesWithDotsDashesSlashes) {
  EXPECT_TRUE(eval("vm.dirty_ratio == 20"));
  EXPECT_TRUE(eval("kernel/mm/thp == always"));
  EXPECT_TRUE(eval("`kernel/mm/thp` != never"));
  EXPECT_TRUE(eval("a-b == 50"));     // the longest parameter name wins
  EXPECT_TRUE(eval("a - b == -2"));   // spaced: arithmetic
  EXPECT_TRUE(eval("`a`-b == -2"));
  EXPECT_TRUE(eval("8250.nr_uarts >= 4"));
}

TEST_F(ExprTest, InactiveParametersMakeComparisonsFalse) {
  deactivate("a");
  EXPECT_FALSE(eval("a == 1"));
  EXPECT_FALSE(eval("a != 1"));
  EXPECT_FALSE(eval("a + 1 > 0"));
  EXPECT_TRUE(eval("!(a == 1)"));
  EXPECT_TRUE(eval("a == 1 || b == 3"));
  deactivate("fast");
  set("fast", true);
  EXPECT_FALSE(eval("fast"));
  EXPECT_TRUE(eval("!fast"));
  EXPECT_FALSE(eval("a / 0 == 1"));
  EXPECT_FALSE(eval("b / 0 != 1"));  // division by zero is undefined too
}

TEST_F(ExprTest, ReferencesAreCollected) {
  auto e = parse("b > a && a > 0 && fast");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)->references(), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ((*e)->text(), "b > a && a > 0 && fast");
}

TEST_F(ExprTest, UnknownNameIsLocatedWithSuggestion) {
  util::Error e = error("fats == true");
  EXPECT_EQ(e.message, "unknown parameter 'fats' (did you mean 'fast'?)");
  EXPECT_EQ(e.file, "f.yaml");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.column, 10);
  e = error("a < 3 && zzzzzz_q > 1");
  EXPECT_NE(e.message.find("unknown parameter 'zzzzzz_q'"), std::string::npos);
  EXPECT_EQ(e.column, 19);
  e = error("`nope` == 1");
  EXPECT_NE(e.message.find("unknown parameter 'nope'"), std::string::npos);
}

TEST_F(ExprTest, SyntaxErrors) {
  EXPECT_NE(error("a = 1").message.find("use '=='"), std::string::npos);
  EXPECT_EQ(error("a = 1").column, 12);
  EXPECT_NE(error("a < (b + 1").message.find("expected ')'"), std::string::npos);
  EXPECT_NE(error("preempt == 'full").message.find("unterminated string"), std::string::npos);
  EXPECT_NE(error("a < b < 3").message.find("do not chain"), std::string::npos);
  EXPECT_NE(error("").message.find("empty expression"), std::string::npos);
  EXPECT_NE(error("a < ").message.find("ends too early"), std::string::npos);
  EXPECT_NE(error("a & b").message.find("'&&'"), std::string::npos);
  EXPECT_NE(error("a == 4k").message.find("bad number"), std::string::npos);
  EXPECT_NE(error("a == 1 b").message.find("unexpected 'b'"), std::string::npos);
  EXPECT_NE(error("a $ b").message.find("unexpected character '$'"), std::string::npos);
  std::string deep(500, '(');
  EXPECT_NE(error(deep + "fast" + std::string(500, ')')).message.find("nested too deeply"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 500; ++i) nots += "!";
  EXPECT_NE(error(nots + "fast").message.find("nested too deeply"), std::string::npos);
}

TEST_F(ExprTest, TextLongerThanTheBoundIsRefusedBeforeParsing) {
  // A chain just under the bound parses; one byte over is refused (fuzz_expr
  // once allocated 2 GiB of tokens for a 41 MB chain).
  std::string chain = "fast";
  while (chain.size() + 8 + 8 <= Expr::kMaxBytes) chain += " || fast";
  EXPECT_TRUE(parse(chain).has_value());
  chain += std::string(Expr::kMaxBytes - chain.size(), ' ') + " ";
  ASSERT_EQ(chain.size(), Expr::kMaxBytes + 1);
  util::Error e = error(chain);
  EXPECT_NE(e.message.find("1048577 bytes long (at most 1048576)"), std::string::npos) << e.message;
  EXPECT_EQ(e.kind, util::Error::Kind::invalid_input);
}

TEST_F(ExprTest, TypeErrors) {
  EXPECT_NE(error("fast < 3").message.find("expected a number"), std::string::npos);
  EXPECT_NE(error("a + 1").message.find("expected a condition"), std::string::npos);
  EXPECT_NE(error("level").message.find("'level' is a tristate: compare it"), std::string::npos);
  EXPECT_NE(error("preempt && fast").message.find("'preempt' is a choice"), std::string::npos);
  EXPECT_NE(error("preempt == nonee").message.find("'nonee' is not a value of choice 'preempt'"), std::string::npos);
  EXPECT_NE(error("preempt == nonee").message.find("did you mean 'none'?"), std::string::npos);
  EXPECT_EQ(error("preempt == nonee").column, 21);
  EXPECT_NE(error("hz == 251").message.find("'251' is not a value of choice 'hz'"), std::string::npos);
  EXPECT_NE(error("level == yes").message.find("not a value of tristate 'level'"), std::string::npos);
  EXPECT_NE(error("fast == yes").message.find("'fast' is a bool: compare it with true or false"), std::string::npos);
  EXPECT_NE(error("preempt < full").message.find("need numbers"), std::string::npos);
  EXPECT_NE(error("fast == a").message.find("expected a number here, got 'fast' (bool)"), std::string::npos);
  EXPECT_NE(error("fast == preempt").message.find("cannot compare 'fast' (bool) with 'preempt' (choice)"), std::string::npos);
  EXPECT_NE(error("preempt + 1 > 2").message.find("expected a number"), std::string::npos);
}

TEST_F(ExprTest, MultiLineTextLocatesTheRightLine) {
  util::Error e = error("a < 3 &&\n  nope > 1");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.column, 3);
}

}  // namespace
}  // namespace kerntune::space
