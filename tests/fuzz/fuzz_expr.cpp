// Fuzz target: condition/constraint expressions (src/space/expr.cpp).
// Input: the expression text. It is parsed against a fixed scope holding one
// parameter of every type (names with dots, dashes and slashes as the shipped
// spaces use them) and, when it parses, evaluated under a few assignments,
// including inactive (null) values and division by zero.
//
// Flat chains: an input "#OC<term>" (O, C one byte each) is expanded to
// <term> joined by the operator ops[O % 6] repeated 1 + 200 * C times (up to
// 51,001 terms, or until the text passes Expr::kMaxBytes; arithmetic chains
// are compared with 0), so the evaluator's depth on flat chains is fuzzed far
// beyond libFuzzer's input length.
#include <algorithm>
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "fuzz_common.hpp"
#include "kerntune/space/expr.hpp"

using namespace kerntune;

namespace {

struct Scope {
  std::vector<space::Parameter> params;
  std::unordered_map<std::string, std::size_t> index;
  Scope() {
    auto add = [&](std::string name, space::Type type, std::vector<std::string> values = {}) {
      space::Parameter p;
      p.name = std::move(name);
      p.type = type;
      p.values = std::move(values);
      index.emplace(p.name, params.size());
      params.push_back(std::move(p));
    };
    add("flag", space::Type::boolean);
    add("CONFIG_X", space::Type::tristate, {"n", "m", "y"});
    add("vm.dirty_ratio", space::Type::integer);
    add("vm.dirty_background_ratio", space::Type::integer);
    add("x", space::Type::real);
    add("preempt", space::Type::choice, {"none", "voluntary", "full"});
    add("transparent_hugepage/enabled", space::Type::choice, {"always", "madvise", "never"});
    add("kernel-param", space::Type::integer);
  }
};

std::string expand_chain(std::string_view in) {
  static constexpr std::array<std::string_view, 6> ops = {" || ", " && ", " + ", " - ", " * ", " / "};
  const std::size_t op = static_cast<unsigned char>(in[1]) % ops.size();
  const std::string_view term = in.substr(3);
  // Past Expr::kMaxBytes the parser refuses the text: stop just beyond it.
  const std::size_t count = std::min(1 + 200 * static_cast<std::size_t>(static_cast<unsigned char>(in[2])),
                                     space::Expr::kMaxBytes / (term.size() + 4) + 2);
  std::string out = op >= 2 ? "(" : "";
  out.reserve((term.size() + 4) * count + 8);
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += ops[op];
    out += term;
  }
  if (op >= 2) out += ") > 0";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Scope scope;
  const space::ExprScope es{scope.params, scope.index};
  std::string text(fuzz::as_text(data, size));
  if (text.size() >= 3 && text[0] == '#') text = expand_chain(text);
  auto parsed = space::Expr::parse(text, es, {"fuzz", 1, 1});
  if (parsed && text.size() > space::Expr::kMaxBytes) __builtin_trap();  // the bound holds
  if (!parsed) {
    (void)parsed.error().format();
    return 0;
  }
  const space::Expr& e = **parsed;
  for (std::size_t r : e.references())
    if (r >= scope.params.size()) __builtin_trap();  // a reference outside the scope
  // Assignments: all set (two variants), all inactive, zeros (division by zero).
  const std::array<space::Value, 8> a = {true, std::string("m"), 20LL, 10LL, 0.5,
                                         std::string("full"), std::string("never"), 3LL};
  const std::array<space::Value, 8> b = {false, std::string("n"), 0LL, 0LL, 0.0,
                                         std::string("none"), std::string("always"), 0LL};
  std::array<const space::Value*, 8> pa{}, pb{}, none{}, mixed{};
  for (std::size_t i = 0; i < 8; ++i) {
    pa[i] = &a[i];
    pb[i] = &b[i];
    mixed[i] = i % 2 ? &a[i] : nullptr;
  }
  (void)e.holds(pa);
  (void)e.holds(pb);
  (void)e.holds(none);
  (void)e.holds(mixed);
  return 0;
}
