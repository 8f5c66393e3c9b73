// Kconfig statements (scripts/kconfig/parser.y of Linux 6.1) as a recursive
// descent parser building KconfigTree's symbols and menu tree.
#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "kconfig_lexer.hpp"
#include "kerntune/kbuild/kconfig.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

using detail::Lexer;
using detail::Preprocessor;
using detail::Tok;
using detail::Token;
namespace fs = std::filesystem;

class KconfigParser {
 public:
  KconfigParser(KconfigTree& tree, const KconfigOptions& options, Preprocessor& pp)
      : tree_(tree), options_(options), pp_(pp) {}

  util::Status parse_file(const std::string& rel, KMenu& parent, int depth) {
    if (depth > 64) return util::invalid_input("Kconfig: source nesting deeper than 64 at " + rel);
    fs::path full = fs::path(options_.source_dir) / rel;
    auto text = util::read_file(full.string());
    if (!text) return util::io_error("cannot read Kconfig file " + full.string() + ": " + text.error().message);
    tree_.files_.push_back(rel);
    Lexer lex(rel, std::move(*text), pp_);
    KT_TRY_STATUS(stmt_list(lex, parent, false, Tok::eof, depth));
    return {};
  }

 private:
  using Status = util::Status;

  std::unexpected<util::Error> err(const Lexer& lex, int line, const std::string& m) {
    return std::unexpected(lex.error(line, m));
  }

  Status expect(Lexer& lex, Tok kind, const char* what) {
    KT_TRY(Token t, lex.next());
    if (t.kind != kind) return err(lex, t.line, fmt::format("expected {}", what));
    return {};
  }
  Status expect_eol(Lexer& lex) {
    KT_TRY(Token t, lex.next());
    if (t.kind != Tok::eol && t.kind != Tok::eof) return err(lex, t.line, "unexpected text at end of line");
    return {};
  }

  KMenu& add_child(KMenu& parent, KMenu::Kind kind, const Lexer& lex, int line) {
    auto m = std::make_unique<KMenu>();
    m->kind = kind;
    m->parent = &parent;
    m->where = {lex.file(), line};
    parent.children.push_back(std::move(m));
    return *parent.children.back();
  }

  // ---- expressions: or < and < comparison < not
  util::Result<int> symbol(Lexer& lex) {
    KT_TRY(Token t, lex.next());
    if (t.kind == Tok::word) return tree_.lookup(t.text);
    if (t.kind == Tok::word_quote) return tree_.lookup_const(t.text);
    return err(lex, t.line, "expected a symbol in expression");
  }
  util::Result<KExprPtr> primary(Lexer& lex) {
    KT_TRY(Token t, lex.peek());
    if (t.kind == Tok::op_not) {
      (void)lex.next();
      KT_TRY(KExprPtr e, primary(lex));
      return expr_not(e);
    }
    if (t.kind == Tok::op_open) {
      (void)lex.next();
      KT_TRY(KExprPtr e, or_expr(lex));
      KT_TRY_STATUS(expect(lex, Tok::op_close, "')'"));
      return e;
    }
    KT_TRY(int a, symbol(lex));
    KT_TRY(Token op, lex.peek());
    KExpr::Op o;
    switch (op.kind) {
      case Tok::op_equal: o = KExpr::Op::eq; break;
      case Tok::op_unequal: o = KExpr::Op::neq; break;
      case Tok::op_less: o = KExpr::Op::lt; break;
      case Tok::op_less_equal: o = KExpr::Op::le; break;
      case Tok::op_greater: o = KExpr::Op::gt; break;
      case Tok::op_greater_equal: o = KExpr::Op::ge; break;
      default: return expr_sym(a);
    }
    (void)lex.next();
    KT_TRY(int b, symbol(lex));
    auto e = std::make_shared<KExpr>();
    e->op = o;
    e->sym = a;
    e->sym2 = b;
    return KExprPtr(e);
  }
  util::Result<KExprPtr> and_expr(Lexer& lex) {
    KT_TRY(KExprPtr l, primary(lex));
    for (;;) {
      KT_TRY(Token t, lex.peek());
      if (t.kind != Tok::op_and) return l;
      (void)lex.next();
      KT_TRY(KExprPtr r, primary(lex));
      l = expr_and(l, r);
    }
  }
  util::Result<KExprPtr> or_expr(Lexer& lex) {
    KT_TRY(KExprPtr l, and_expr(lex));
    for (;;) {
      KT_TRY(Token t, lex.peek());
      if (t.kind != Tok::op_or) return l;
      (void)lex.next();
      KT_TRY(KExprPtr r, and_expr(lex));
      auto e = std::make_shared<KExpr>();
      e->op = KExpr::Op::or_;
      e->left = l;
      e->right = r;
      l = e;
    }
  }
  /// Optional `if EXPR` before the end of line.
  util::Result<KExprPtr> if_expr(Lexer& lex) {
    KT_TRY(Token t, lex.peek());
    if (t.kind != Tok::kw_if) return KExprPtr();
    (void)lex.next();
    return or_expr(lex);
  }

  static std::optional<SymType> type_of(Tok t) {
    switch (t) {
      case Tok::kw_bool: return SymType::boolean;
      case Tok::kw_tristate: return SymType::tristate;
      case Tok::kw_int: return SymType::integer;
      case Tok::kw_hex: return SymType::hex;
      case Tok::kw_string: return SymType::string;
      default: return std::nullopt;
    }
  }

  void set_type(KSymbol& s, SymType t, const Lexer& lex, int line) {
    if (s.type == t) return;
    if (s.type == SymType::unknown) {
      s.type = t;
      return;
    }
    tree_.warnings_.push_back(fmt::format("{}:{}: ignoring type redefinition of '{}'", lex.file(), line, s.name));
  }

  void add_prompt(KMenu& entry, KSymbol* s, const std::string& text, KExprPtr cond, const Lexer& lex, int line) {
    // Upper menus' `visible if` apply to the prompt (menu.c: menu_add_prompt).
    for (KMenu* m = entry.parent; m; m = m->parent)
      if (m->visibility) cond = expr_and(cond, m->visibility);
    entry.title = text;
    if (s) {
      KProperty p;
      p.kind = KProperty::Kind::prompt;
      p.text = text;
      p.cond = cond;
      p.where = {lex.file(), line};
      s->props.push_back(std::move(p));
    }
  }

  /// Attributes of a config/menuconfig/choice entry, up to the next statement.
  Status entry_options(Lexer& lex, KMenu& entry, bool is_choice) {
    int id = entry.sym;
    for (;;) {
      KT_TRY(Token t, lex.peek());
      if (t.kind == Tok::eol) {
        (void)lex.next();
        continue;
      }
      KSymbol& s = tree_.mutable_symbol(id);
      pp_.clear_shell_used();
      bool consumed = true;
      int line = t.line;
      if (auto ty = type_of(t.kind)) {
        (void)lex.next();
        if (is_choice && *ty != SymType::boolean && *ty != SymType::tristate)
          return err(lex, line, "a choice can only be bool or tristate");
        set_type(s, *ty, lex, line);
        KT_TRY(Token p, lex.peek());
        if (p.kind == Tok::word_quote) {
          (void)lex.next();
          KT_TRY(KExprPtr c, if_expr(lex));
          add_prompt(entry, &tree_.mutable_symbol(id), p.text, c, lex, line);
        }
        KT_TRY_STATUS(expect_eol(lex));
      } else if (t.kind == Tok::kw_prompt) {
        (void)lex.next();
        KT_TRY(Token p, lex.next());
        if (p.kind != Tok::word_quote) return err(lex, line, "expected a quoted prompt");
        KT_TRY(KExprPtr c, if_expr(lex));
        add_prompt(entry, &tree_.mutable_symbol(id), p.text, c, lex, line);
        KT_TRY_STATUS(expect_eol(lex));
      } else if (t.kind == Tok::kw_default || t.kind == Tok::kw_def_bool || t.kind == Tok::kw_def_tristate) {
        (void)lex.next();
        KProperty p;
        p.kind = KProperty::Kind::default_;
        p.where = {lex.file(), line};
        if (is_choice) {
          if (t.kind != Tok::kw_default) return err(lex, line, "a choice takes `default SYMBOL`");
          KT_TRY(Token w, lex.next());
          if (w.kind != Tok::word) return err(lex, line, "expected the default choice member");
          p.target = tree_.lookup(w.text);
        } else {
          KT_TRY(KExprPtr e, or_expr(lex));
          p.expr = e;
        }
        KT_TRY(KExprPtr c, if_expr(lex));
        p.cond = c;
        KT_TRY_STATUS(expect_eol(lex));
        tree_.mutable_symbol(id).props.push_back(std::move(p));
        if (t.kind == Tok::kw_def_bool) set_type(tree_.mutable_symbol(id), SymType::boolean, lex, line);
        if (t.kind == Tok::kw_def_tristate) set_type(tree_.mutable_symbol(id), SymType::tristate, lex, line);
      } else if (!is_choice && (t.kind == Tok::kw_select || t.kind == Tok::kw_imply)) {
        (void)lex.next();
        KT_TRY(Token w, lex.next());
        if (w.kind != Tok::word) return err(lex, line, "expected a symbol to select/imply");
        KProperty p;
        p.kind = t.kind == Tok::kw_select ? KProperty::Kind::select : KProperty::Kind::imply;
        p.target = tree_.lookup(w.text);
        KT_TRY(KExprPtr c, if_expr(lex));
        p.cond = c;
        p.where = {lex.file(), line};
        KT_TRY_STATUS(expect_eol(lex));
        tree_.mutable_symbol(id).props.push_back(std::move(p));
      } else if (!is_choice && t.kind == Tok::kw_range) {
        (void)lex.next();
        KProperty p;
        p.kind = KProperty::Kind::range;
        KT_TRY(int lo, symbol(lex));
        KT_TRY(int hi, symbol(lex));
        p.target = lo;
        p.target2 = hi;
        KT_TRY(KExprPtr c, if_expr(lex));
        p.cond = c;
        p.where = {lex.file(), line};
        KT_TRY_STATUS(expect_eol(lex));
        tree_.mutable_symbol(id).props.push_back(std::move(p));
      } else if (!is_choice && t.kind == Tok::kw_modules) {
        (void)lex.next();
        KT_TRY_STATUS(expect_eol(lex));
        if (tree_.modules_sym_ >= 0 && tree_.modules_sym_ != id)
          return err(lex, line, "option 'modules' defined twice");
        tree_.modules_sym_ = id;
      } else if (is_choice && t.kind == Tok::kw_optional) {
        (void)lex.next();
        KT_TRY_STATUS(expect_eol(lex));
        tree_.mutable_symbol(id).optional = true;
      } else if (t.kind == Tok::kw_depends) {
        KT_TRY_STATUS(depends(lex, entry));
      } else if (t.kind == Tok::kw_help) {
        (void)lex.next();
        KT_TRY_STATUS(expect(lex, Tok::eol, "end of line after 'help'"));
        tree_.mutable_symbol(id).help = lex.read_help();
      } else {
        consumed = false;
      }
      if (!consumed) return {};
      if (pp_.shell_used()) tree_.mutable_symbol(id).uses_shell = true;
    }
  }

  Status depends(Lexer& lex, KMenu& entry) {
    KT_TRY(Token d, lex.next());
    KT_TRY_STATUS(expect(lex, Tok::kw_on, "'on' after 'depends'"));
    KT_TRY(KExprPtr e, or_expr(lex));
    KT_TRY_STATUS(expect_eol(lex));
    (void)d;
    entry.dep = expr_and(entry.dep, e);
    return {};
  }

  /// Statements until `end` (eof, endmenu, endif, endchoice).
  Status stmt_list(Lexer& lex, KMenu& parent, bool in_choice, Tok end, int depth) {
    for (;;) {
      KT_TRY(Token t, lex.next());
      int line = t.line;
      switch (t.kind) {
        case Tok::eol:
          continue;
        case Tok::eof:
          if (end != Tok::eof) return err(lex, line, "missing end statement (endmenu/endif/endchoice) in this file");
          return {};
        case Tok::kw_endmenu:
        case Tok::kw_endif:
        case Tok::kw_endchoice:
          if (t.kind != end) return err(lex, line, fmt::format("unexpected '{}'", t.text));
          return expect_eol(lex);
        case Tok::kw_mainmenu: {
          if (in_choice) break;
          KT_TRY(Token p, lex.next());
          if (p.kind != Tok::word_quote) return err(lex, line, "expected a quoted main menu title");
          KT_TRY_STATUS(expect_eol(lex));
          if (tree_.root_->title.empty()) tree_.root_->title = p.text;
          continue;
        }
        case Tok::kw_config:
        case Tok::kw_menuconfig: {
          KT_TRY(Token w, lex.next());
          if (w.kind != Tok::word) return err(lex, line, "expected a symbol name after 'config'");
          KT_TRY_STATUS(expect_eol(lex));
          int id = tree_.lookup(w.text);
          KMenu& entry = add_child(parent, KMenu::Kind::config, lex, line);
          entry.sym = id;
          tree_.mutable_symbol(id).defined_at.push_back({lex.file(), line});
          entry.prop_begin = tree_.symbol(id).props.size();
          KT_TRY_STATUS(entry_options(lex, entry, false));
          entry.prop_end = tree_.symbol(id).props.size();
          continue;
        }
        case Tok::kw_choice: {
          KT_TRY(Token w, lex.peek());
          std::string name;
          if (w.kind == Tok::word) {
            name = w.text;
            (void)lex.next();
          }
          KT_TRY_STATUS(expect_eol(lex));
          int id = name.empty() ? tree_.new_choice() : tree_.lookup(name);
          tree_.mutable_symbol(id).is_choice = true;
          tree_.mutable_symbol(id).defined_at.push_back({lex.file(), line});
          KMenu& entry = add_child(parent, KMenu::Kind::choice, lex, line);
          entry.sym = id;
          entry.prop_begin = tree_.symbol(id).props.size();
          KT_TRY_STATUS(entry_options(lex, entry, true));
          entry.prop_end = tree_.symbol(id).props.size();
          KT_TRY_STATUS(stmt_list(lex, entry, true, Tok::kw_endchoice, depth));
          continue;
        }
        case Tok::kw_comment: {
          KT_TRY(Token p, lex.next());
          if (p.kind != Tok::word_quote) return err(lex, line, "expected a quoted comment");
          KT_TRY_STATUS(expect_eol(lex));
          KMenu& entry = add_child(parent, KMenu::Kind::comment, lex, line);
          entry.title = p.text;
          for (;;) {
            KT_TRY(Token n, lex.peek());
            if (n.kind == Tok::eol) { (void)lex.next(); continue; }
            if (n.kind != Tok::kw_depends) break;
            KT_TRY_STATUS(depends(lex, entry));
          }
          continue;
        }
        case Tok::kw_if: {
          KT_TRY(KExprPtr e, or_expr(lex));
          KT_TRY_STATUS(expect_eol(lex));
          KMenu& entry = add_child(parent, KMenu::Kind::if_, lex, line);
          entry.dep = e;
          KT_TRY_STATUS(stmt_list(lex, entry, in_choice, Tok::kw_endif, depth));
          continue;
        }
        case Tok::kw_menu: {
          if (in_choice) break;
          KT_TRY(Token p, lex.next());
          if (p.kind != Tok::word_quote) return err(lex, line, "expected a quoted menu title");
          KT_TRY_STATUS(expect_eol(lex));
          KMenu& entry = add_child(parent, KMenu::Kind::menu, lex, line);
          entry.title = p.text;
          for (;;) {
            KT_TRY(Token n, lex.peek());
            if (n.kind == Tok::eol) { (void)lex.next(); continue; }
            if (n.kind == Tok::kw_depends) {
              KT_TRY_STATUS(depends(lex, entry));
            } else if (n.kind == Tok::kw_visible) {
              (void)lex.next();
              KT_TRY(KExprPtr v, if_expr(lex));
              KT_TRY_STATUS(expect_eol(lex));
              entry.visibility = expr_and(entry.visibility, v);
            } else {
              break;
            }
          }
          KT_TRY_STATUS(stmt_list(lex, entry, false, Tok::kw_endmenu, depth));
          continue;
        }
        case Tok::kw_source: {
          if (in_choice) break;
          KT_TRY(Token p, lex.next());
          if (p.kind != Tok::word_quote) return err(lex, line, "expected a quoted file name after 'source'");
          KT_TRY_STATUS(expect_eol(lex));
          if (!options_.follow_source) continue;
          if (!fs::exists(fs::path(options_.source_dir) / p.text))
            return err(lex, line, fmt::format("can't open file \"{}\"", p.text));
          for (const auto& f : stack_)
            if (f == p.text) return err(lex, line, fmt::format("recursive inclusion of \"{}\"", p.text));
          stack_.push_back(p.text);
          auto st = parse_file(p.text, parent, depth + 1);
          stack_.pop_back();
          if (!st) return st;
          continue;
        }
        case Tok::word: {
          if (in_choice) break;
          KT_TRY(Token op, lex.next());
          Preprocessor::Flavor f;
          if (op.kind == Tok::op_equal) f = Preprocessor::Flavor::recursive;
          else if (op.kind == Tok::op_colon_equal) f = Preprocessor::Flavor::simple;
          else if (op.kind == Tok::op_plus_equal) f = Preprocessor::Flavor::append;
          else return err(lex, line, fmt::format("unknown statement \"{}\"", t.text));
          std::string value = lex.rest_of_line();
          pp_.set_location(lex.file(), line);
          pp_.add_variable(t.text, value, f);
          continue;
        }
        default:
          break;
      }
      return err(lex, line, t.text.empty() ? "invalid statement" : fmt::format("invalid statement \"{}\"", t.text));
    }
  }

  KconfigTree& tree_;
  const KconfigOptions& options_;
  Preprocessor& pp_;
  std::vector<std::string> stack_;
};

util::Result<KconfigTree> KconfigTree::parse(const KconfigOptions& options) {
  std::error_code ec;
  fs::path dir(options.source_dir);
  if (options.source_dir.empty() || !fs::is_directory(dir, ec))
    return util::invalid_input(fmt::format("kernel source '{}' is not a folder", options.source_dir));
  if (!fs::exists(dir / options.top) ||
      (options.follow_source && (!fs::exists(dir / "Makefile") || !fs::exists(dir / "scripts" / "kconfig"))))
    return util::invalid_input(fmt::format("'{}' is not a Linux kernel tree (no {}, Makefile and scripts/kconfig/)",
                                           options.source_dir, options.top));
  KconfigTree tree;
  tree.source_dir_ = options.source_dir;
  std::map<std::string, std::string> env = {{"ARCH", options.arch},  {"SRCARCH", options.srcarch},
                                            {"srctree", options.source_dir}, {"CC", "gcc"},
                                            {"LD", "ld"},            {"HOSTCC", "gcc"},
                                            {"HOSTCXX", "g++"}};
  // $(KERNELVERSION) from the top Makefile (used by mainmenu)
  if (auto mk = util::read_file((dir / "Makefile").string())) {
    std::map<std::string, std::string> v;
    for (const auto& l : util::split(mk->substr(0, 2000), '\n')) {
      auto eq = l.find('=');
      if (eq != std::string::npos) v[util::trim(l.substr(0, eq))] = util::trim(l.substr(eq + 1));
    }
    env["KERNELVERSION"] = v["VERSION"] + "." + v["PATCHLEVEL"] + "." + v["SUBLEVEL"] + v["EXTRAVERSION"];
  }
  for (const auto& [k, val] : options.env) env[k] = val;
  Preprocessor pp(std::move(env));
  KconfigParser parser(tree, options, pp);
  for (const auto& f : options.preload) KT_TRY_STATUS(parser.parse_file(f, *tree.root_, 0));
  KT_TRY_STATUS(parser.parse_file(options.top, *tree.root_, 0));
  tree.finalize();
  return tree;
}

}  // namespace kerntune::kbuild
