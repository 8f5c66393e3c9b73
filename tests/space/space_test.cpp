// Space semantics: inline parameters, activity chains, validation, defaults,
// JSON input, merging, and the optimizer encoding of single values.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "kerntune/space/expr.hpp"
#include "kerntune/space/space.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::space {
namespace {

Space load(const std::string& text) {
  auto s = Space::load_string(text, "mem.yaml");
  if (!s) throw std::runtime_error(s.error().format());
  return std::move(*s);
}

// The issue's demo recipe parameters, inline (as a recipe holds them).
const char* kDemo = R"y(
name: demo
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}
  - {name: n, domain: generic, type: int, range: [1, 4096], scale: log, default: 64}
  - {name: mode, domain: generic, type: choice, values: [none, voluntary, full], default: none}
  - {name: fast, domain: generic, type: bool, default: false}
  - {name: level, domain: generic, type: tristate, default: m}
  - {name: depth, domain: generic, type: int, range: [1, 64], default: 4, when: "fast == true"}
)y";

TEST(Space, InlineRecipeParametersUseFromYaml) {
  auto recipe = util::load_yaml_string(kDemo, "recipe.yaml");
  ASSERT_TRUE(recipe.has_value());
  auto s = Space::from_yaml((*recipe)["parameters"], (*recipe)["constraints"], "recipe.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().format();
  ASSERT_EQ(s->size(), 6u);
  const Parameter& n = *s->find("n");
  EXPECT_EQ(n.type, Type::integer);
  EXPECT_TRUE(n.log_scale);
  EXPECT_EQ(n.lo, 1);
  EXPECT_EQ(n.hi, 4096);
  EXPECT_EQ(std::get<long long>(n.default_value), 64);
  EXPECT_EQ(n.file, "recipe.yaml");
  EXPECT_EQ(n.line, 5);
  EXPECT_EQ(s->find("level")->values, (std::vector<std::string>{"n", "m", "y"}));
  EXPECT_EQ(s->find("nope"), nullptr);

  Assignment d = s->defaults();
  EXPECT_EQ(d.size(), 5u);  // depth is inactive: fast defaults to false
  EXPECT_FALSE(d.contains("depth"));
  EXPECT_EQ(to_json(d).dump(), R"y({"fast":false,"level":"m","mode":"none","n":64,"x":0.0})y");
}

TEST(Space, InlineParametersErrorsAreLocatedInTheRecipe) {
  auto recipe = util::load_yaml_string("name: r\nparameters:\n  - {name: x, domain: generic, type: int, range: [5, 1], default: 2}\n", "r.yaml");
  ASSERT_TRUE(recipe.has_value());
  auto s = Space::from_yaml((*recipe)["parameters"], YAML::Node(), "r.yaml");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().format().substr(0, 12), "r.yaml:3:50:");
  auto empty = util::load_yaml_string("parameters: []\n", "r.yaml");
  EXPECT_NE(Space::from_yaml((*empty)["parameters"], YAML::Node(), "r.yaml").error().message.find("empty"), std::string::npos);
}

TEST(Space, BareListFileIsAccepted) {
  Space s = load("- {name: a, domain: generic, type: bool}\n- {name: b, domain: generic, type: bool, default: true}\n");
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(std::get<bool>(s.defaults().at("a")), false);
  EXPECT_EQ(std::get<bool>(s.defaults().at("b")), true);
  EXPECT_TRUE(s.constraints().empty());
}

const char* kChain = R"y(
parameters:
  - {name: a, domain: generic, type: bool}
  - {name: b, domain: generic, type: bool, when: "a"}
  - {name: c, domain: generic, type: int, range: [0, 9], default: 1, when: "b == true"}
  - {name: d, domain: generic, type: int, range: [0, 9], default: 1, when: "!(b == true)"}
)y";

TEST(Space, ConditionsChain) {
  Space s = load(kChain);
  const Parameter& b = *s.find("b");
  const Parameter& c = *s.find("c");
  const Parameter& d = *s.find("d");
  Assignment x = {{"a", false}, {"b", true}, {"c", 3LL}, {"d", 2LL}};
  EXPECT_FALSE(s.is_active(b, x));
  EXPECT_FALSE(s.is_active(c, x));  // b holds true but is itself inactive
  EXPECT_TRUE(s.is_active(d, x));   // a comparison on an inactive parameter is false
  EXPECT_EQ(s.active_mask(x), (std::vector<bool>{true, false, false, true}));
  x["a"] = true;
  EXPECT_TRUE(s.is_active(b, x));
  EXPECT_TRUE(s.is_active(c, x));
  EXPECT_FALSE(s.is_active(d, x));
  EXPECT_EQ(s.active_mask(x), (std::vector<bool>{true, true, true, false}));
  Parameter copy = c;  // found by name when not an element of the space
  EXPECT_TRUE(s.is_active(copy, x));
  copy.name = "zz";
  EXPECT_THROW((void)s.is_active(copy, x), std::invalid_argument);
}

TEST(Space, ValidateExplainsWhatIsWrong) {
  Space s = load(kChain);
  auto why = [&](const Assignment& a) {
    auto st = s.validate(a);
    return st ? std::string("ok") : st.error().message;
  };
  EXPECT_EQ(why({{"a", false}, {"d", 2LL}}), "ok");
  EXPECT_EQ(why({{"a", true}, {"b", true}, {"c", 9LL}}), "ok");
  EXPECT_EQ(why({{"a", false}}), "active parameter 'd' has no value");
  EXPECT_EQ(why({{"a", false}, {"d", 2LL}, {"c", 1LL}}), "parameter 'c' is inactive (when: b == true) but has a value");
  EXPECT_EQ(why({{"a", false}, {"d", 10LL}}), "'d' = 10 is outside its range [0, 9]");
  EXPECT_EQ(why({{"a", false}, {"d", 2.0}}), "'d' must be an integer");
  EXPECT_EQ(why({{"a", 1LL}, {"d", 2LL}}), "'a' must be true or false");
  EXPECT_TRUE(why({{"a", false}, {"d", 2LL}, {"e", 1LL}}).starts_with("unknown parameter 'e'"));
}

const char* kConstrained = R"y(
parameters:
  - {name: vm.dirty_background_ratio, domain: sysctl, type: int, range: [0, 100], default: 10}
  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [0, 100], default: 20}
  - {name: on, domain: generic, type: bool}
  - {name: extra, domain: generic, type: real, range: [0, 50], default: 1, when: on}
constraints:
  - "vm.dirty_background_ratio < vm.dirty_ratio"
  - "vm.dirty_ratio + extra <= 100"
)y";

TEST(Space, ConstraintsHoldOrAreVacuousWhenInactive) {
  Space s = load(kConstrained);
  ASSERT_EQ(s.constraints().size(), 2u);
  EXPECT_EQ(s.constraints()[1].line, 9);
  Assignment a = {{"vm.dirty_background_ratio", 30LL}, {"vm.dirty_ratio", 20LL}, {"on", false}};
  auto st = s.validate(a);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("'vm.dirty_background_ratio < vm.dirty_ratio' does not hold"), std::string::npos);
  a["vm.dirty_background_ratio"] = 5LL;
  a["vm.dirty_ratio"] = 95LL;
  EXPECT_TRUE(s.validate(a).has_value());  // extra inactive: the second constraint does not apply
  a["on"] = true;
  a["extra"] = 10.0;
  EXPECT_FALSE(s.validate(a).has_value());
  a["extra"] = 5.0;
  EXPECT_TRUE(s.validate(a).has_value());
}

TEST(Space, FromJsonChecksTypes) {
  Space s = load(R"y(
parameters:
  - {name: f, domain: generic, type: bool}
  - {name: i, domain: generic, type: int, range: [0, 10], default: 1}
  - {name: r, domain: generic, type: real, range: [0, 1], default: 0.5}
  - {name: t, domain: kconfig, type: tristate, default: n}
  - {name: hz, domain: kconfig, type: choice, values: [100, 250], default: 250}
)y");
  auto a = s.from_json(nlohmann::json::parse(R"y({"f": true, "i": 3.0, "r": 1, "t": "y", "hz": 100})y"));
  ASSERT_TRUE(a.has_value()) << a.error().format();
  EXPECT_EQ(std::get<bool>(a->at("f")), true);
  EXPECT_EQ(std::get<long long>(a->at("i")), 3);
  EXPECT_EQ(std::get<double>(a->at("r")), 1.0);
  EXPECT_EQ(std::get<std::string>(a->at("t")), "y");
  EXPECT_EQ(std::get<std::string>(a->at("hz")), "100");
  EXPECT_TRUE(s.validate(*a).has_value());
  auto msg = [&](const char* text) { return s.from_json(nlohmann::json::parse(text)).error().message; };
  EXPECT_EQ(msg(R"y({"f": 1})y"), "'f' must be true or false, got 1");
  EXPECT_EQ(msg(R"y({"i": 2.5})y"), "'i' must be an integer, got 2.5");
  EXPECT_EQ(msg(R"y({"i": 11})y"), "'i' = 11 is outside its range [0, 10]");
  EXPECT_EQ(msg(R"y({"t": "x"})y"), "'t' must be one of n, m, y, got 'x'");
  EXPECT_EQ(msg(R"y({"hz": 300})y"), "'hz' must be one of 100, 250, got '300'");
  EXPECT_EQ(msg(R"y({"ii": 1})y"), "unknown parameter 'ii' (did you mean 'i'?)");
  EXPECT_EQ(msg(R"y([1])y"), "an assignment must be a JSON object {\"name\": value, ...}");
}

TEST(Space, MergeAndRecipeConstraints) {
  Space a = load("parameters:\n  - {name: p, domain: generic, type: int, range: [0, 10], default: 1}\n");
  Space b = load("parameters:\n  - {name: q, domain: generic, type: int, range: [0, 10], default: 5}\n");
  ASSERT_TRUE(a.merge(b).has_value());
  EXPECT_EQ(a.size(), 2u);
  auto dup = a.merge(b);
  ASSERT_FALSE(dup.has_value());
  EXPECT_NE(dup.error().message.find("duplicate parameter 'q'"), std::string::npos);
  EXPECT_EQ(a.size(), 2u);  // unchanged on failure
  auto recipe = util::load_yaml_string("constraints:\n  - \"p < q\"\n  - \"p + q <= 12\"\n", "recipe.yaml");
  ASSERT_TRUE(a.add_constraints((*recipe)["constraints"], "recipe.yaml").has_value());
  EXPECT_EQ(a.constraints().size(), 2u);
  EXPECT_FALSE(a.validate({{"p", 6LL}, {"q", 5LL}}).has_value());
  auto bad = util::load_yaml_string("constraints:\n  - \"p < qq\"\n", "recipe.yaml");
  auto st = a.add_constraints((*bad)["constraints"], "recipe.yaml");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().format(), "recipe.yaml:2:10: unknown parameter 'qq' (did you mean 'q'?)");
  EXPECT_EQ(a.constraints().size(), 2u);
}

TEST(Space, MakeFromCode) {
  Parameter p;
  p.name = "k";
  p.type = Type::integer;
  p.lo = 1;
  p.hi = 8;
  p.default_value = 2LL;
  Parameter q;
  q.name = "m";
  q.type = Type::tristate;
  q.default_value = std::string("y");
  q.when_text = "k > 1";
  auto s = Space::make({p, q}, {Constraint{"k <= 4", nullptr, "code", 0, 0}});
  ASSERT_TRUE(s.has_value()) << s.error().format();
  EXPECT_EQ(s->defaults().size(), 2u);
  EXPECT_FALSE(s->validate({{"k", 5LL}, {"m", std::string("y")}}).has_value());
  p.default_value = 9LL;
  EXPECT_FALSE(Space::make({p}).has_value());
}

TEST(Space, ValueText) {
  EXPECT_EQ(to_string(Value{true}), "true");
  EXPECT_EQ(to_string(Value{42LL}), "42");
  EXPECT_EQ(to_string(Value{0.5}), "0.5");
  EXPECT_EQ(to_string(Value{std::string("full")}), "full");
  EXPECT_EQ(to_string(Domain::sysfs), "sysfs");
  EXPECT_EQ(to_string(Type::tristate), "tristate");
  EXPECT_EQ(to_json(Value{42LL}).dump(), "42");
}

TEST(Space, EncodingOfSingleValues) {
  Space s = load(R"y(
parameters:
  - {name: b, domain: generic, type: bool}
  - {name: t, domain: generic, type: tristate, default: y}
  - {name: c, domain: generic, type: choice, values: [x, y, z, w], default: z}
  - {name: i, domain: generic, type: int, range: [0, 9], default: 0}
  - {name: l, domain: generic, type: int, range: [1, 1024], scale: log, default: 32}
  - {name: r, domain: generic, type: real, range: [-1, 3], default: 0}
  - {name: g, domain: generic, type: real, range: [0.01, 100], scale: log, default: 1}
  - {name: w, domain: generic, type: real, range: [0, 1], default: 0.5, when: "b"}
)y");
  auto dims = s.encoding();
  ASSERT_EQ(dims.size(), 8u);
  EXPECT_EQ(dims[0].kind, EncodedDim::Kind::categorical);
  EXPECT_EQ(dims[0].categories, 2);
  EXPECT_EQ(dims[1].categories, 3);
  EXPECT_EQ(dims[2].categories, 4);
  EXPECT_EQ(dims[3].kind, EncodedDim::Kind::integer);
  EXPECT_EQ(dims[3].levels, 10);
  EXPECT_EQ(dims[4].levels, 1024);
  EXPECT_EQ(dims[5].kind, EncodedDim::Kind::continuous);
  auto x = s.encode(s.defaults());
  EXPECT_EQ(x[0], 0);
  EXPECT_EQ(x[1], 2);
  EXPECT_EQ(x[2], 2);
  EXPECT_DOUBLE_EQ(x[3], 0.05);  // centre of the first of 10 bins
  EXPECT_DOUBLE_EQ(x[5], 0.25);
  EXPECT_DOUBLE_EQ(x[6], 0.5);   // log scale: 1 is the geometric middle of [0.01, 100]
  EXPECT_TRUE(std::isnan(x[7]));  // inactive
  Assignment back = s.decode(x);
  EXPECT_EQ(back, s.defaults());
  x[7] = 0.3;  // a value for an inactive coordinate is dropped
  EXPECT_FALSE(s.decode(x).contains("w"));
  x[0] = 0.8;  // rounds to true: w becomes active; NaN would give its default
  x[7] = std::nan("");
  Assignment on = s.decode(x);
  EXPECT_EQ(std::get<bool>(on.at("b")), true);
  EXPECT_EQ(std::get<double>(on.at("w")), 0.5);
  x[3] = 1.0;  // the top edge decodes to hi
  x[4] = 0.0;
  x[2] = 7;    // categorical index clamps
  on = s.decode(x);
  EXPECT_EQ(std::get<long long>(on.at("i")), 9);
  EXPECT_EQ(std::get<long long>(on.at("l")), 1);
  EXPECT_EQ(std::get<std::string>(on.at("c")), "w");
  EXPECT_THROW((void)s.decode({0.5}), std::invalid_argument);
}

TEST(Space, LargeSpaceLoadsFast) {
  std::string text = "parameters:\n";
  for (int i = 0; i < 3000; ++i) {
    text += "  - {name: P" + std::to_string(i) + ", domain: kconfig, type: tristate, default: n";
    if (i > 0) text += ", when: \"P" + std::to_string(i - 1) + " != n\"";
    text += "}\n";
  }
  auto t0 = std::chrono::steady_clock::now();
  Space s = load(text);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.size(), 3000u);
  EXPECT_EQ(s.defaults().size(), 1u);  // a chain of 3000: only P0 is active
  EXPECT_LT(seconds, 30.0);  // generous for a loaded shared machine; ~0.1 s normally
  std::mt19937_64 rng(1);
  auto a = s.sample(rng);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(s.validate(*a).has_value());
}

}  // namespace
}  // namespace kerntune::space

namespace kerntune::space {
namespace {

// Robustness: mutated files and random expressions give a Result (a value or a
// located error), never an exception or a crash.
TEST(Robustness, MutatedFilesNeverThrow) {
  const std::string base = R"y(description: fuzz base
parameters:
  - {name: CONFIG_HZ, domain: kconfig, type: choice, values: [100, 250, 1000], default: 250}
  - {name: preempt, domain: cmdline, type: choice, values: [none, voluntary, full], default: none}
  - {name: level, domain: kconfig, type: tristate, default: m}
  - {name: fast, domain: generic, type: bool}
  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [1, 100], default: 20}
  - {name: vm.dirty_background_ratio, domain: sysctl, type: int, range: [0, 100], default: 10}
  - {name: depth, domain: generic, type: int, range: [1, 64], scale: log, default: 4, when: "fast == true"}
  - {name: w, domain: generic, type: real, range: [0.01, 10], scale: log, default: 1, when: "depth >= 8 || CONFIG_HZ > 100"}
constraints:
  - "vm.dirty_background_ratio < vm.dirty_ratio"
  - "depth * w <= 200 && preempt != full"
)y";
  const std::string alphabet = "{}[]:,-\"'`!=<>&|()+*/ \n\tabnmy0123456789.#";
  std::mt19937_64 rng(2024);
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0: text.erase(pos, 1 + rng() % 3); break;
        case 1: text.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        default: text[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    util::Result<Space> s = util::internal_error("unset");
    ASSERT_NO_THROW(s = Space::load_string(text, "fuzz.yaml")) << text;
    if (s) {
      ++loaded;
      std::mt19937_64 r2(i);
      auto a = s->sample(r2);
      if (a) {
        ASSERT_TRUE(s->validate(*a).has_value());
      }
    } else {
      EXPECT_FALSE(s.error().message.empty());
      EXPECT_EQ(s.error().file, "fuzz.yaml");
    }
  }
  EXPECT_GT(loaded, 0);  // some mutations (comments, spaces) keep the file valid
}

TEST(Robustness, RandomExpressionsNeverThrow) {
  Space s = load(kConstrained);
  const std::vector<std::string> pieces = {"vm.dirty_ratio", "on", "extra", "`on`", "(", ")", "!", "&&", "||", "==",
                                           "!=", "<", "<=", "+", "-", "*", "/", "1", "2.5", "true", "'x'", "foo", " "};
  std::mt19937_64 rng(7);
  auto recipe = [&](const std::string& expr) {
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(expr);
    return list;
  };
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string e;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) e += pieces[rng() % pieces.size()] + " ";
    Space copy = s;
    util::Status st;
    ASSERT_NO_THROW(st = copy.add_constraints(recipe(e), "r.yaml")) << e;
    accepted += st.has_value();
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace kerntune::space
