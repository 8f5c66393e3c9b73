// KconfigTree storage, expression helpers and dependency propagation
// (scripts/kconfig/menu.c: menu_finalize of Linux 6.1).
#include <fmt/format.h>

#include "kerntune/kbuild/kconfig.hpp"

namespace kerntune::kbuild {

std::string to_string(SymType t) {
  switch (t) {
    case SymType::unknown: return "unknown";
    case SymType::boolean: return "bool";
    case SymType::tristate: return "tristate";
    case SymType::integer: return "int";
    case SymType::hex: return "hex";
    case SymType::string: return "string";
  }
  return "unknown";
}

char to_char(Tri t) { return t == Tri::y ? 'y' : t == Tri::m ? 'm' : 'n'; }

KExprPtr expr_sym(int sym) {
  auto e = std::make_shared<KExpr>();
  e->op = KExpr::Op::symbol;
  e->sym = sym;
  return e;
}
KExprPtr expr_and(KExprPtr a, KExprPtr b) {
  if (!a) return b;
  if (!b) return a;
  auto e = std::make_shared<KExpr>();
  e->op = KExpr::Op::and_;
  e->left = std::move(a);
  e->right = std::move(b);
  return e;
}
KExprPtr expr_or(KExprPtr a, KExprPtr b) {
  if (!a) return b;
  if (!b) return a;
  auto e = std::make_shared<KExpr>();
  e->op = KExpr::Op::or_;
  e->left = std::move(a);
  e->right = std::move(b);
  return e;
}
KExprPtr expr_not(KExprPtr a) {
  auto e = std::make_shared<KExpr>();
  e->op = KExpr::Op::not_;
  e->left = std::move(a);
  return e;
}

KconfigTree::KconfigTree() : root_(std::make_unique<KMenu>()) {
  for (const char* c : {"n", "m", "y"}) {
    KSymbol s;
    s.name = c;
    s.is_const = true;
    s.type = SymType::tristate;
    consts_[c] = static_cast<int>(symbols_.size());
    symbols_.push_back(std::move(s));
  }
}
KconfigTree::KconfigTree(KconfigTree&&) noexcept = default;
KconfigTree& KconfigTree::operator=(KconfigTree&&) noexcept = default;
KconfigTree::~KconfigTree() = default;

int KconfigTree::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int KconfigTree::lookup(const std::string& name) {
  if (auto c = consts_.find(name); c != consts_.end() && c->second <= kYes) return c->second;
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  KSymbol s;
  s.name = name;
  int id = static_cast<int>(symbols_.size());
  symbols_.push_back(std::move(s));
  by_name_[name] = id;
  return id;
}

int KconfigTree::lookup_const(const std::string& value) {
  if (auto it = consts_.find(value); it != consts_.end()) return it->second;
  KSymbol s;
  s.name = value;
  s.is_const = true;
  int id = static_cast<int>(symbols_.size());
  symbols_.push_back(std::move(s));
  consts_[value] = id;
  return id;
}

int KconfigTree::new_choice() {
  KSymbol s;
  s.name = fmt::format("<choice#{}>", symbols_.size());
  s.is_choice = true;
  int id = static_cast<int>(symbols_.size());
  symbols_.push_back(std::move(s));
  return id;
}

namespace {

KExprPtr rewrite_m(const KExprPtr& e, int modules) {
  if (!e) return e;
  switch (e->op) {
    case KExpr::Op::not_: return expr_not(rewrite_m(e->left, modules));
    case KExpr::Op::and_: return expr_and(rewrite_m(e->left, modules), rewrite_m(e->right, modules));
    case KExpr::Op::or_: return expr_or(rewrite_m(e->left, modules), rewrite_m(e->right, modules));
    case KExpr::Op::symbol:
      if (e->sym == KconfigTree::kMod) return expr_and(e, expr_sym(modules >= 0 ? modules : KconfigTree::kNo));
      return e;
    default: return e;
  }
}

/// Children of a choice, looking through `if` blocks (menu.c flattens them).
void choice_members(KMenu& m, std::vector<KMenu*>& out) {
  for (auto& c : m.children) {
    if (c->kind == KMenu::Kind::if_) choice_members(*c, out);
    else if (c->sym >= 0) out.push_back(c.get());
  }
}

}  // namespace

void KconfigTree::finalize() { finalize_menu(*root_); }

void KconfigTree::finalize_menu(KMenu& parent) {
  int psym = parent.sym;
  if (!parent.children.empty()) {
    KExprPtr parentdep;
    if (parent.kind == KMenu::Kind::choice && psym >= 0) {
      KSymbol& cs = symbols_[static_cast<std::size_t>(psym)];
      std::vector<KMenu*> members;
      choice_members(parent, members);
      if (cs.type == SymType::unknown)
        for (KMenu* m : members)
          if (symbols_[static_cast<std::size_t>(m->sym)].type != SymType::unknown) {
            cs.type = symbols_[static_cast<std::size_t>(m->sym)].type;
            break;
          }
      for (KMenu* m : members) {
        KSymbol& ms = symbols_[static_cast<std::size_t>(m->sym)];
        if (ms.type == SymType::unknown) ms.type = cs.type;
      }
      parentdep = expr_sym(psym);
    } else {
      parentdep = parent.dep;
    }
    for (auto& child : parent.children) {
      KExprPtr basedep = expr_and(parentdep, rewrite_m(child->dep, modules_sym_));
      child->dep = basedep;
      if (child->sym < 0) continue;
      KSymbol& s = symbols_[static_cast<std::size_t>(child->sym)];
      for (std::size_t i = child->prop_begin; i < child->prop_end && i < s.props.size(); ++i) {
        KProperty& p = s.props[i];
        p.cond = expr_and(basedep, rewrite_m(p.cond, modules_sym_));
        if (p.kind == KProperty::Kind::select) {
          KSymbol& t = symbols_[static_cast<std::size_t>(p.target)];
          t.rev_dep = expr_or(t.rev_dep, expr_and(expr_sym(child->sym), p.cond ? p.cond : expr_sym(kYes)));
        } else if (p.kind == KProperty::Kind::imply) {
          KSymbol& t = symbols_[static_cast<std::size_t>(p.target)];
          t.implied = expr_or(t.implied, expr_and(expr_sym(child->sym), p.cond ? p.cond : expr_sym(kYes)));
        }
      }
    }
    for (auto& child : parent.children) finalize_menu(*child);
  } else if (psym >= 0) {
    KSymbol& s = symbols_[static_cast<std::size_t>(psym)];
    s.dir_dep = expr_or(s.dir_dep, parent.dep);
  }
  if (parent.kind == KMenu::Kind::choice && psym >= 0) {
    std::vector<KMenu*> members;
    choice_members(parent, members);
    for (KMenu* m : members) {
      KSymbol& ms = symbols_[static_cast<std::size_t>(m->sym)];
      if (ms.is_choice_value) continue;
      ms.is_choice_value = true;
      ms.choice = psym;
      symbols_[static_cast<std::size_t>(psym)].members.push_back(m->sym);
      // Non-tristate values of a tristate choice need the choice at y.
      if (symbols_[static_cast<std::size_t>(psym)].type == SymType::tristate && ms.type != SymType::tristate) {
        auto eq = std::make_shared<KExpr>();
        eq->op = KExpr::Op::eq;
        eq->sym = psym;
        eq->sym2 = kYes;
        m->dep = expr_and(eq, m->dep);
        for (std::size_t i = m->prop_begin; i < m->prop_end && i < ms.props.size(); ++i)
          ms.props[i].cond = expr_and(eq, ms.props[i].cond);
      }
    }
    // A non-optional choice cannot be set to n while visible: rev_dep |= (visibility && m).
    KSymbol& cs = symbols_[static_cast<std::size_t>(psym)];
    if (!cs.optional) {
      for (std::size_t i = parent.prop_begin; i < parent.prop_end && i < cs.props.size(); ++i) {
        if (cs.props[i].kind != KProperty::Kind::prompt) continue;
        KExprPtr vis = cs.props[i].cond ? cs.props[i].cond : expr_sym(kYes);
        cs.rev_dep = expr_or(cs.rev_dep, expr_and(vis, expr_sym(kMod)));
        break;
      }
    }
  }
}

std::string KconfigTree::expr_text(const KExprPtr& e) const {
  if (!e) return "y";
  auto name = [&](int id) {
    const KSymbol& s = symbol(id);
    if (s.is_const && id > kYes) return "\"" + s.name + "\"";
    return s.name;
  };
  auto paren = [&](const KExprPtr& sub, KExpr::Op parent_op) {
    std::string t = expr_text(sub);
    bool need = (sub->op == KExpr::Op::or_ && parent_op != KExpr::Op::or_) ||
                (sub->op == KExpr::Op::and_ && parent_op == KExpr::Op::not_);
    return need ? "(" + t + ")" : t;
  };
  switch (e->op) {
    case KExpr::Op::symbol: return name(e->sym);
    case KExpr::Op::not_: return "!" + paren(e->left, KExpr::Op::not_);
    case KExpr::Op::and_: return paren(e->left, KExpr::Op::and_) + " && " + paren(e->right, KExpr::Op::and_);
    case KExpr::Op::or_: return expr_text(e->left) + " || " + expr_text(e->right);
    case KExpr::Op::eq: return name(e->sym) + "=" + name(e->sym2);
    case KExpr::Op::neq: return name(e->sym) + "!=" + name(e->sym2);
    case KExpr::Op::lt: return name(e->sym) + "<" + name(e->sym2);
    case KExpr::Op::le: return name(e->sym) + "<=" + name(e->sym2);
    case KExpr::Op::gt: return name(e->sym) + ">" + name(e->sym2);
    case KExpr::Op::ge: return name(e->sym) + ">=" + name(e->sym2);
  }
  return "?";
}

}  // namespace kerntune::kbuild
