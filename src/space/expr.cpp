#include "kerntune/space/expr.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "kerntune/util/text.hpp"

namespace kerntune::space {

struct Expr::Node {
  /// `chain`: a left-associative run of one precedence level (a || b || …,
  /// a + b - c …), held flat so that tens of thousands of terms need no
  /// recursion to evaluate or destroy; `binary` is a comparison.
  enum class Kind { boolean, number, string, word, param, logic_not, negate, binary, chain };
  enum class Op { lor, land, eq, ne, lt, le, gt, ge, add, sub, mul, div };
  /// Static type; `word` is a bare word that is not a parameter (yet untyped).
  enum class Type { boolean, number, string, word };

  Kind kind = Kind::boolean;
  Type type = Type::boolean;
  Op op = Op::lor;
  bool flag = false;        ///< boolean literal value
  double num = 0;           ///< number literal value
  std::string str;          ///< string literal / word text / parameter name
  std::size_t param = 0;    ///< parameter index
  bool as_number = false;   ///< param: a choice with numeric values, compared as a number
  bool tristate_order = false;  ///< binary: ordering of n < m < y
  std::size_t pos = 0;      ///< offset of the node's first character in the text
  std::unique_ptr<Node> lhs, rhs;
  std::vector<std::unique_ptr<Node>> items;  ///< chain: the operands
  std::vector<Op> ops;                       ///< chain: ops[i] joins items[i] and items[i + 1]
};

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

namespace {

using Node = Expr::Node;
using NodePtr = std::unique_ptr<Node>;

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }
/// Characters a parameter name may hold outside backticks when it is a known name.
bool is_run_char(char c) { return is_name_char(c) || c == '-' || c == '/' || c == ':'; }

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

int tristate_rank(const std::string& s) { return s == "n" ? 0 : s == "m" ? 1 : s == "y" ? 2 : -1; }

struct Token {
  enum class Kind { end, number, string, name, op };
  Kind kind = Kind::end;
  std::string text;
  std::size_t pos = 0;
  bool quoted_name = false;  ///< name written in backticks: must be a parameter
  double num = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const ExprScope& scope, const SourcePos& where)
      : text_(text), scope_(scope), where_(where) {
    for (const auto& p : scope.params) longest_name_ = std::max(longest_name_, p.name.size());
  }

  util::Result<NodePtr> run() {
    KT_TRY_STATUS(lex());
    KT_TRY(NodePtr root, parse_or());
    if (peek().kind != Token::Kind::end)
      return fail(peek().pos, fmt::format("unexpected '{}' after the end of the expression", peek().text));
    KT_TRY_STATUS(need_bool(*root));
    return root;
  }
  std::vector<std::size_t> refs;

 private:
  std::string_view text_;
  const ExprScope& scope_;
  const SourcePos& where_;
  std::vector<Token> tokens_;
  std::size_t at_ = 0;
  int depth_ = 0;
  std::size_t longest_name_ = 0;  ///< bounds the known-name lookup per token (no quadratic lexing)

  std::unexpected<util::Error> fail(std::size_t pos, std::string message) const {
    int line = where_.line, col = 0;
    std::size_t last_nl = std::string_view::npos;
    for (std::size_t i = 0; i < pos && i < text_.size(); ++i)
      if (text_[i] == '\n') {
        ++line;
        last_nl = i;
      }
    if (last_nl == std::string_view::npos) col = where_.column > 0 ? where_.column + static_cast<int>(pos) : 0;
    else col = static_cast<int>(pos - last_nl);
    if (where_.line <= 0) line = 0;
    return util::fail_at(where_.file, line, line > 0 ? col : 0, std::move(message));
  }

  const Token& peek() const { return tokens_[at_]; }
  bool accept_op(std::string_view op) {
    if (peek().kind == Token::Kind::op && peek().text == op) {
      ++at_;
      return true;
    }
    return false;
  }

  std::optional<std::size_t> lookup(std::string_view name) const {
    auto it = scope_.index.find(std::string(name));
    if (it == scope_.index.end()) return std::nullopt;
    return it->second;
  }

  util::Status lex() {
    std::size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.pos = i;
      if (is_name_char(c)) {
        // The longest known parameter name starting here wins over the plain token.
        std::size_t run = i;
        while (run < text_.size() && is_run_char(text_[run])) ++run;
        std::size_t known = 0;
        for (std::size_t len = std::min(run - i, longest_name_); len > 0; --len)
          if (lookup(text_.substr(i, len))) {
            known = len;
            break;
          }
        std::size_t plain = i;
        if (is_name_start(c)) {
          while (plain < text_.size() && is_name_char(text_[plain])) ++plain;
        } else {
          while (plain < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[plain])) || text_[plain] == '.'))
            ++plain;
          if (plain < text_.size() && (text_[plain] == 'e' || text_[plain] == 'E')) {
            std::size_t e = plain + 1;
            if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
            if (e < text_.size() && std::isdigit(static_cast<unsigned char>(text_[e]))) {
              plain = e;
              while (plain < text_.size() && std::isdigit(static_cast<unsigned char>(text_[plain]))) ++plain;
            }
          }
        }
        if (known > plain - i) {
          t.kind = Token::Kind::name;
          t.text = std::string(text_.substr(i, known));
          i += known;
        } else if (is_name_start(c)) {
          t.kind = Token::Kind::name;
          t.text = std::string(text_.substr(i, plain - i));
          i = plain;
        } else {
          t.text = std::string(text_.substr(i, plain - i));
          auto v = parse_number(t.text);
          if (!v || (plain < text_.size() && is_name_char(text_[plain])))
            return fail(i, fmt::format("bad number '{}'", std::string(text_.substr(i, std::max(plain, run) - i))));
          t.kind = Token::Kind::number;
          t.num = *v;
          i = plain;
        }
      } else if (c == '`' || c == '"' || c == '\'') {
        std::size_t close = text_.find(c, i + 1);
        if (close == std::string_view::npos)
          return fail(i, c == '`' ? "unterminated `name`" : fmt::format("unterminated string (missing closing {})", c));
        t.text = std::string(text_.substr(i + 1, close - i - 1));
        t.kind = c == '`' ? Token::Kind::name : Token::Kind::string;
        t.quoted_name = c == '`';
        i = close + 1;
      } else {
        static constexpr std::string_view two[] = {"==", "!=", "<=", ">=", "&&", "||"};
        std::string_view rest = text_.substr(i);
        t.kind = Token::Kind::op;
        for (auto op : two)
          if (rest.starts_with(op)) t.text = std::string(op);
        if (t.text.empty()) {
          if (c == '=') return fail(i, "use '==' to compare ('=' alone is not an operator)");
          if (c == '&') return fail(i, "use '&&' for 'and'");
          if (c == '|') return fail(i, "use '||' for 'or'");
          if (std::string_view("<>!+-*/()").find(c) == std::string_view::npos)
            return fail(i, fmt::format("unexpected character '{}'", c));
          t.text = std::string(1, c);
        }
        i += t.text.size();
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.pos = text_.size();
    end.text = "end of expression";
    tokens_.push_back(end);
    return {};
  }

  // ---- type checks -------------------------------------------------------

  std::string describe(const Node& n) const {
    switch (n.kind) {
      case Node::Kind::param: {
        const Parameter& p = scope_.params[n.param];
        return fmt::format("'{}' ({})", p.name, to_string(p.type));
      }
      case Node::Kind::boolean: return n.flag ? "true" : "false";
      case Node::Kind::number: return fmt::format("the number {}", n.num);
      case Node::Kind::string: return fmt::format("the string '{}'", n.str);
      default:
        switch (n.type) {
          case Node::Type::boolean: return "a condition";
          case Node::Type::number: return "a number";
          default: return "a value";
        }
    }
  }

  std::unexpected<util::Error> unknown_name(const Node& n) const {
    std::vector<std::string> names;
    names.reserve(scope_.params.size());
    for (const auto& p : scope_.params) names.push_back(p.name);
    std::string msg = fmt::format("unknown parameter '{}'", n.str);
    if (auto c = util::closest(n.str, names)) msg += fmt::format(" (did you mean '{}'?)", *c);
    else if (n.str.find_first_of("-/:") != std::string::npos || !scope_.params.empty())
      msg += " (names holding '-', '/' or ':' can be written in backticks: `a-b`)";
    return fail(n.pos, msg);
  }

  util::Status need_bool(const Node& n) const {
    if (n.type == Node::Type::word) return unknown_name(n);
    if (n.type == Node::Type::boolean) return {};
    if (n.kind == Node::Kind::param && scope_.params[n.param].type == Type::tristate)
      return fail(n.pos, fmt::format("'{0}' is a tristate: compare it, e.g. '{0} != n'", n.str));
    if (n.kind == Node::Kind::param && scope_.params[n.param].type == Type::choice)
      return fail(n.pos, fmt::format("'{0}' is a choice: compare it, e.g. '{0} == {1}'", n.str,
                                     scope_.params[n.param].values.empty() ? "value" : scope_.params[n.param].values[0]));
    return fail(n.pos, fmt::format("expected a condition (true/false) here, got {}", describe(n)));
  }

  bool numeric_choice(const Node& n) const {
    if (n.kind != Node::Kind::param) return false;
    const Parameter& p = scope_.params[n.param];
    if (p.type != Type::choice || p.values.empty()) return false;
    return std::all_of(p.values.begin(), p.values.end(), [](const std::string& v) { return parse_number(v).has_value(); });
  }

  util::Status need_number(Node& n) const {
    if (n.type == Node::Type::word) return unknown_name(n);
    if (n.type == Node::Type::number) return {};
    if (numeric_choice(n)) {
      n.as_number = true;
      n.type = Node::Type::number;
      return {};
    }
    return fail(n.pos, fmt::format("expected a number here, got {}", describe(n)));
  }

  /// A literal compared with a choice/tristate parameter must be one of its values.
  util::Status check_member(const Node& param, const Node& lit) const {
    if (param.kind != Node::Kind::param) return {};
    const Parameter& p = scope_.params[param.param];
    std::string text = lit.kind == Node::Kind::number ? fmt::format("{}", lit.num) : lit.str;
    if (p.type == Type::choice && lit.kind == Node::Kind::number) {
      for (const auto& v : p.values)
        if (parse_number(v) == lit.num) return {};
    } else if (std::find(p.values.begin(), p.values.end(), text) != p.values.end()) {
      return {};
    }
    std::string msg = fmt::format("'{}' is not a value of {} '{}' (values: {})", text, to_string(p.type), p.name,
                                  fmt::join(p.values, ", "));
    if (auto c = util::closest(text, p.values)) msg += fmt::format("; did you mean '{}'?", *c);
    return fail(lit.pos, msg);
  }

  util::Status check_compare(Node& cmp) {
    Node& a = *cmp.lhs;
    Node& b = *cmp.rhs;
    const bool ordering = cmp.op != Node::Op::eq && cmp.op != Node::Op::ne;
    auto is_string_side = [](const Node& n) { return n.type == Node::Type::string; };
    // A bare word next to a string-valued side is a value, not a name.
    if (a.type == Node::Type::word && b.type == Node::Type::word) return unknown_name(a);
    for (auto [w, other] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      if (w->type != Node::Type::word) continue;
      if (other->type == Node::Type::boolean && other->kind == Node::Kind::param)
        return fail(w->pos, fmt::format("'{}' is a bool: compare it with true or false, not '{}'",
                                        scope_.params[other->param].name, w->str));
      if (!is_string_side(*other)) return unknown_name(*w);
      w->kind = Node::Kind::string;
      w->type = Node::Type::string;
    }
    // Numeric choice against a number literal or numeric side: compare as numbers.
    if (a.type == Node::Type::number || b.type == Node::Type::number) {
      Node& other = a.type == Node::Type::number ? b : a;
      Node& num = a.type == Node::Type::number ? a : b;
      KT_TRY_STATUS(need_number(other));
      if (!ordering && num.kind == Node::Kind::number) KT_TRY_STATUS(check_member(other, num));
      return {};
    }
    if (a.type != b.type)
      return fail(cmp.pos, fmt::format("cannot compare {} with {}", describe(a), describe(b)));
    if (a.type == Node::Type::string) {
      for (auto [p, lit] : {std::pair{&a, &b}, std::pair{&b, &a}})
        if (p->kind == Node::Kind::param && lit->kind == Node::Kind::string) KT_TRY_STATUS(check_member(*p, *lit));
      if (ordering) {
        auto tri = [&](const Node& n) {
          return (n.kind == Node::Kind::param && scope_.params[n.param].type == Type::tristate) ||
                 (n.kind == Node::Kind::string && tristate_rank(n.str) >= 0);
        };
        if (!tri(a) || !tri(b))
          return fail(cmp.pos, "'<', '<=', '>' and '>=' need numbers (or tristates: n < m < y)");
        cmp.tristate_order = true;
      }
      return {};
    }
    if (ordering) return fail(cmp.pos, "'<', '<=', '>' and '>=' need numbers (or tristates: n < m < y)");
    return {};
  }

  // ---- grammar -----------------------------------------------------------

  static NodePtr binary(Node::Op op, NodePtr l, NodePtr r, Node::Type type) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::binary;
    n->op = op;
    n->type = type;
    n->pos = l->pos;
    n->lhs = std::move(l);
    n->rhs = std::move(r);
    return n;
  }

  /// Appends `r` to the chain `l` with `op` (making `l` a chain first).
  static NodePtr extend(NodePtr l, Node::Op op, NodePtr r, Node::Type type) {
    if (l->kind != Node::Kind::chain || l->type != type || !same_level(l->ops.front(), op)) {
      auto c = std::make_unique<Node>();
      c->kind = Node::Kind::chain;
      c->type = type;
      c->pos = l->pos;
      c->items.push_back(std::move(l));
      l = std::move(c);
    }
    l->ops.push_back(op);
    l->items.push_back(std::move(r));
    return l;
  }
  static bool same_level(Node::Op a, Node::Op b) {
    auto level = [](Node::Op o) {
      return o == Node::Op::lor ? 0 : o == Node::Op::land ? 1 : (o == Node::Op::add || o == Node::Op::sub) ? 2 : 3;
    };
    return level(a) == level(b);
  }

  util::Result<NodePtr> parse_or() {
    KT_TRY(NodePtr l, parse_and());
    while (accept_op("||")) {
      KT_TRY(NodePtr r, parse_and());
      KT_TRY_STATUS(need_bool(*l));
      KT_TRY_STATUS(need_bool(*r));
      l = extend(std::move(l), Node::Op::lor, std::move(r), Node::Type::boolean);
    }
    return l;
  }

  util::Result<NodePtr> parse_and() {
    KT_TRY(NodePtr l, parse_not());
    while (accept_op("&&")) {
      KT_TRY(NodePtr r, parse_not());
      KT_TRY_STATUS(need_bool(*l));
      KT_TRY_STATUS(need_bool(*r));
      l = extend(std::move(l), Node::Op::land, std::move(r), Node::Type::boolean);
    }
    return l;
  }

  util::Result<NodePtr> parse_not() {
    std::size_t pos = peek().pos;
    if (accept_op("!")) {
      if (++depth_ > 200) return fail(pos, "expression nested too deeply");
      KT_TRY(NodePtr inner, parse_not());
      --depth_;
      KT_TRY_STATUS(need_bool(*inner));
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::logic_not;
      n->type = Node::Type::boolean;
      n->pos = pos;
      n->lhs = std::move(inner);
      return n;
    }
    return parse_compare();
  }

  util::Result<NodePtr> parse_compare() {
    KT_TRY(NodePtr l, parse_sum());
    static const std::pair<std::string_view, Node::Op> ops[] = {
        {"==", Node::Op::eq}, {"!=", Node::Op::ne}, {"<=", Node::Op::le},
        {">=", Node::Op::ge}, {"<", Node::Op::lt},  {">", Node::Op::gt}};
    for (auto [text, op] : ops) {
      std::size_t pos = peek().pos;
      if (!accept_op(text)) continue;
      KT_TRY(NodePtr r, parse_sum());
      auto n = binary(op, std::move(l), std::move(r), Node::Type::boolean);
      n->pos = pos;
      KT_TRY_STATUS(check_compare(*n));
      n->pos = n->lhs->pos;
      if (peek().kind == Token::Kind::op)
        for (auto [t2, op2] : ops)
          if (peek().text == t2)
            return fail(peek().pos, "comparisons do not chain: write 'a < b && b < c'");
      return n;
    }
    return l;
  }

  util::Result<NodePtr> parse_sum() {
    KT_TRY(NodePtr l, parse_product());
    while (peek().kind == Token::Kind::op && (peek().text == "+" || peek().text == "-")) {
      Node::Op op = peek().text == "+" ? Node::Op::add : Node::Op::sub;
      ++at_;
      KT_TRY(NodePtr r, parse_product());
      KT_TRY_STATUS(need_number(*l));
      KT_TRY_STATUS(need_number(*r));
      l = extend(std::move(l), op, std::move(r), Node::Type::number);
    }
    return l;
  }

  util::Result<NodePtr> parse_product() {
    KT_TRY(NodePtr l, parse_unary());
    while (peek().kind == Token::Kind::op && (peek().text == "*" || peek().text == "/")) {
      Node::Op op = peek().text == "*" ? Node::Op::mul : Node::Op::div;
      ++at_;
      KT_TRY(NodePtr r, parse_unary());
      KT_TRY_STATUS(need_number(*l));
      KT_TRY_STATUS(need_number(*r));
      l = extend(std::move(l), op, std::move(r), Node::Type::number);
    }
    return l;
  }

  util::Result<NodePtr> parse_unary() {
    std::size_t pos = peek().pos;
    if (accept_op("-")) {
      if (++depth_ > 200) return fail(pos, "expression nested too deeply");
      KT_TRY(NodePtr inner, parse_unary());
      --depth_;
      KT_TRY_STATUS(need_number(*inner));
      if (inner->kind == Node::Kind::number) {  // fold "-5" into a literal
        inner->num = -inner->num;
        inner->pos = pos;
        return inner;
      }
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::negate;
      n->type = Node::Type::number;
      n->pos = pos;
      n->lhs = std::move(inner);
      return n;
    }
    return parse_primary();
  }

  util::Result<NodePtr> parse_primary() {
    const Token& t = peek();
    auto n = std::make_unique<Node>();
    n->pos = t.pos;
    switch (t.kind) {
      case Token::Kind::number:
        n->kind = Node::Kind::number;
        n->type = Node::Type::number;
        n->num = t.num;
        break;
      case Token::Kind::string:
        n->kind = Node::Kind::string;
        n->type = Node::Type::string;
        n->str = t.text;
        break;
      case Token::Kind::name:
        if (!t.quoted_name && (t.text == "true" || t.text == "false")) {
          n->kind = Node::Kind::boolean;
          n->type = Node::Type::boolean;
          n->flag = t.text == "true";
        } else if (auto idx = lookup(t.text)) {
          n->kind = Node::Kind::param;
          n->param = *idx;
          n->str = t.text;
          switch (scope_.params[*idx].type) {
            case Type::boolean: n->type = Node::Type::boolean; break;
            case Type::integer:
            case Type::real: n->type = Node::Type::number; break;
            default: n->type = Node::Type::string;
          }
          refs.push_back(*idx);
        } else {
          n->kind = Node::Kind::word;
          n->type = Node::Type::word;
          n->str = t.text;
          if (t.quoted_name) return unknown_name(*n);
        }
        break;
      case Token::Kind::op:
        if (t.text == "(") {
          if (++depth_ > 200) return fail(t.pos, "expression nested too deeply");
          ++at_;
          KT_TRY(NodePtr inner, parse_or());
          --depth_;
          if (!accept_op(")"))
            return fail(peek().pos, fmt::format("expected ')' but found '{}'", peek().text));
          return inner;
        }
        return fail(t.pos, fmt::format("expected a value or a parameter name but found '{}'", t.text));
      case Token::Kind::end:
        return fail(t.pos, at_ == 0 ? "empty expression" : "expression ends too early");
    }
    ++at_;
    return n;
  }
};

struct V {
  enum class K { undef, boolean, number, string };
  K k = K::undef;
  bool b = false;
  double d = 0;
  const std::string* s = nullptr;
};

V eval(const Node& n, std::span<const Value* const> values);
V eval_chain(const Node& n, std::span<const Value* const> values);

bool truthy(const Node& n, std::span<const Value* const> values) {
  V v = eval(n, values);
  return v.k == V::K::boolean && v.b;
}

/// A chain left to right, in a loop: || and && short-circuit; arithmetic
/// propagates an undefined operand and makes division by zero undefined.
V eval_chain(const Node& n, std::span<const Value* const> values) {
  V out;
  if (n.ops.front() == Node::Op::lor || n.ops.front() == Node::Op::land) {
    const bool any = n.ops.front() == Node::Op::lor;
    out.k = V::K::boolean;
    out.b = !any;
    for (const auto& item : n.items)
      if (truthy(*item, values) == any) {
        out.b = any;
        break;
      }
    return out;
  }
  V acc = eval(*n.items.front(), values);
  for (std::size_t i = 1; i < n.items.size() && acc.k == V::K::number; ++i) {
    V b = eval(*n.items[i], values);
    const Node::Op op = n.ops[i - 1];
    if (b.k != V::K::number || (op == Node::Op::div && b.d == 0)) return out;
    acc.d = op == Node::Op::add ? acc.d + b.d : op == Node::Op::sub ? acc.d - b.d : op == Node::Op::mul ? acc.d * b.d : acc.d / b.d;
  }
  return acc.k == V::K::number ? acc : out;
}

V eval(const Node& n, std::span<const Value* const> values) {
  V out;
  switch (n.kind) {
    case Node::Kind::boolean: out.k = V::K::boolean; out.b = n.flag; return out;
    case Node::Kind::number: out.k = V::K::number; out.d = n.num; return out;
    case Node::Kind::string:
    case Node::Kind::word: out.k = V::K::string; out.s = &n.str; return out;
    case Node::Kind::param: {
      const Value* v = n.param < values.size() ? values[n.param] : nullptr;
      if (!v) return out;
      if (auto* b = std::get_if<bool>(v)) { out.k = V::K::boolean; out.b = *b; }
      else if (auto* i = std::get_if<long long>(v)) { out.k = V::K::number; out.d = static_cast<double>(*i); }
      else if (auto* d = std::get_if<double>(v)) { out.k = V::K::number; out.d = *d; }
      else if (auto* s = std::get_if<std::string>(v)) {
        if (n.as_number) {
          if (auto x = parse_number(*s)) { out.k = V::K::number; out.d = *x; }
        } else {
          out.k = V::K::string;
          out.s = s;
        }
      }
      return out;
    }
    case Node::Kind::logic_not: out.k = V::K::boolean; out.b = !truthy(*n.lhs, values); return out;
    case Node::Kind::negate: {
      V x = eval(*n.lhs, values);
      if (x.k == V::K::number) { out.k = V::K::number; out.d = -x.d; }
      return out;
    }
    case Node::Kind::chain: return eval_chain(n, values);
    case Node::Kind::binary: break;
  }
  out.k = V::K::boolean;
  V a = eval(*n.lhs, values), b = eval(*n.rhs, values);
  if (a.k == V::K::undef || b.k == V::K::undef || a.k != b.k) {
    out.b = false;
    return out;
  }
  int c = 0;  // three-way comparison
  if (a.k == V::K::number) c = a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
  else if (a.k == V::K::boolean) c = a.b == b.b ? 0 : 1;
  else if (n.tristate_order) c = tristate_rank(*a.s) - tristate_rank(*b.s);
  else c = *a.s == *b.s ? 0 : 1;
  switch (n.op) {
    case Node::Op::eq: out.b = c == 0; break;
    case Node::Op::ne: out.b = c != 0; break;
    case Node::Op::lt: out.b = c < 0; break;
    case Node::Op::le: out.b = c <= 0; break;
    case Node::Op::gt: out.b = c > 0; break;
    case Node::Op::ge: out.b = c >= 0; break;
    default: break;
  }
  return out;
}

}  // namespace

util::Result<std::shared_ptr<const Expr>> Expr::parse(std::string_view text, const ExprScope& scope,
                                                      const SourcePos& where) {
  if (text.size() > kMaxBytes)
    return util::fail_at(where.file, where.line, where.column,
                         fmt::format("the expression is {} bytes long (at most {})", text.size(), kMaxBytes));
  Parser parser(text, scope, where);
  KT_TRY(NodePtr root, parser.run());
  std::shared_ptr<Expr> e(new Expr());
  e->root_ = std::move(root);
  e->refs_ = std::move(parser.refs);
  std::sort(e->refs_.begin(), e->refs_.end());
  e->refs_.erase(std::unique(e->refs_.begin(), e->refs_.end()), e->refs_.end());
  e->text_ = std::string(text);
  return std::shared_ptr<const Expr>(std::move(e));
}

bool Expr::holds(std::span<const Value* const> values) const { return truthy(*root_, values); }

}  // namespace kerntune::space
