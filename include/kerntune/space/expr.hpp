#pragma once
// Expressions of `when:` conditions and `constraints:` (docs/search-spaces.md,
// "Expressions"). A small recursive-descent parser, type-checked against the
// parameters of a space at parse time, so a typo or a type mismatch is a
// located error when the file loads, never a surprise during a campaign.
//
// Grammar (lowest precedence first):
//   or      := and ('||' and)*
//   and     := not ('&&' not)*
//   not     := '!' not | compare
//   compare := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
//   sum     := product (('+'|'-') product)*
//   product := unary (('*'|'/') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER | STRING | 'true' | 'false' | NAME | '`' any '`' | '(' or ')'
//
// Names: [A-Za-z_][A-Za-z0-9_.]* (so `vm.dirty_ratio` needs no quoting). A name
// holding other characters (`-`, `/`, `:`; e.g. sysfs paths) is written in
// backticks, or bare when it is the longest parameter name that starts there.
// A name that is not a parameter is a *bare word*: allowed only as the other
// side of a comparison with a choice/tristate parameter (`preempt != none`).
//
// Evaluation: a reference to an inactive (or absent) parameter is undefined;
// every comparison involving an undefined value is false, a bare bool
// parameter that is undefined counts as false, arithmetic propagates it, and
// division by zero is undefined.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kerntune/space/space.hpp"
#include "kerntune/util/result.hpp"

namespace kerntune::space {

/// Where an expression's first character sits in its file (1-based; 0 = unknown).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

/// The parameters an expression may name: `index` maps a name to its position in `params`.
struct ExprScope {
  const std::vector<Parameter>& params;
  const std::unordered_map<std::string, std::size_t>& index;
};

class Expr {
 public:
  struct Node;
  ~Expr();
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;

  /// Longest expression text parsed (1 MiB: a 50,000-term chain is under
  /// 1 MB). The tokens take ~50 bytes per byte of text, so a bound on the
  /// text bounds the memory (fuzz_expr allocated 2 GiB for 41 MB).
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 20;

  /// Parses and type-checks `text` as a condition (its value must be true/false).
  /// Errors are Kind::invalid_input, located at `where` plus the offset of the fault;
  /// a text longer than kMaxBytes is refused before it is read.
  static util::Result<std::shared_ptr<const Expr>> parse(std::string_view text, const ExprScope& scope,
                                                         const SourcePos& where);

  /// Evaluates with `values[i]` the value of parameter i of the scope the
  /// expression was parsed in, nullptr when that parameter is inactive/absent.
  bool holds(std::span<const Value* const> values) const;

  /// Indices (into the scope's parameters) of the parameters named, sorted, unique.
  const std::vector<std::size_t>& references() const { return refs_; }
  const std::string& text() const { return text_; }

 private:
  Expr();
  std::unique_ptr<Node> root_;
  std::vector<std::size_t> refs_;
  std::string text_;
};

}  // namespace kerntune::space
