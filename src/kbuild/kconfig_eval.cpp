// Symbol evaluation after scripts/kconfig/symbol.c and expr.c (Linux 6.1).
#include "kerntune/kbuild/kconfig_eval.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace kerntune::kbuild {

namespace {

bool valid_int(const std::string& s) {
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}
bool valid_hex(const std::string& s) {
  std::size_t i = (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

enum class Kind { string, signed_, unsigned_ };
struct Num {
  Kind kind = Kind::string;
  long long s = 0;
  unsigned long long u = 0;
};

// expr.c: expr_parse_string
Num parse_num(const std::string& str, SymType type) {
  Num n;
  if (type == SymType::boolean || type == SymType::tristate) {
    n.kind = Kind::signed_;
    n.s = str == "n" ? 0 : str == "m" ? 1 : str == "y" ? 2 : -1;
    return n;
  }
  char* tail = nullptr;
  errno = 0;
  if (type == SymType::hex) {
    n.u = std::strtoull(str.c_str(), &tail, 16);
    n.kind = Kind::unsigned_;
  } else {
    n.s = std::strtoll(str.c_str(), &tail, type == SymType::integer ? 10 : 0);
    n.kind = Kind::signed_;
  }
  bool ok = errno == 0 && tail && *tail == 0 && tail > str.c_str() &&
            std::isxdigit(static_cast<unsigned char>(tail[-1]));
  if (!ok) n.kind = Kind::string;
  return n;
}

}  // namespace

KconfigEval::KconfigEval(const KconfigTree& tree, ConfigFile user)
    : tree_(tree), user_(std::move(user)), st_(tree.symbols().size()) {}

Tri KconfigEval::modules() {
  int m = tree_.modules_symbol();
  return m < 0 ? Tri::n : tri(m);
}

SymType KconfigEval::effective_type(int sym) {
  const KSymbol& s = tree_.symbol(sym);
  if (s.type == SymType::tristate && !s.is_const) {
    if (s.is_choice_value && visible(sym) == Tri::y) return SymType::boolean;
    if (sym != tree_.modules_symbol() && modules() == Tri::n) return SymType::boolean;
  }
  return s.type;
}

std::optional<Tri> KconfigEval::user_tri(int sym) const {
  const KSymbol& s = tree_.symbol(sym);
  auto v = user_.get(s.name);
  if (!v) return std::nullopt;
  if (*v == "y") return Tri::y;
  if (*v == "n") return Tri::n;
  if (*v == "m" && s.type == SymType::tristate) return Tri::m;
  return std::nullopt;
}

bool KconfigEval::has_user(int sym) const {
  const KSymbol& s = tree_.symbol(sym);
  if (s.is_choice) return false;  // handled in calc_choice / calc
  auto v = user_.get(s.name);
  if (!v) return false;
  switch (s.type) {
    case SymType::boolean:
    case SymType::tristate: return user_tri(sym).has_value();
    case SymType::integer: return valid_int(*v);
    case SymType::hex: return valid_hex(*v);
    case SymType::string: return true;
    default: return false;
  }
}

void KconfigEval::calc_visibility(int sym) {
  State& S = st_[static_cast<std::size_t>(sym)];
  if (S.vis_stage != 0) return;
  const KSymbol& s = tree_.symbol(sym);
  // A member's visibility depends on its choice's mode: settle the choice first
  // (symbol.c computes the choice before its values).
  if (s.is_choice_value) calc(s.choice);
  if (st_[static_cast<std::size_t>(sym)].vis_stage != 0) return;
  st_[static_cast<std::size_t>(sym)].vis_stage = 1;
  Tri v = Tri::n;
  for (const auto& p : s.props) {
    if (p.kind != KProperty::Kind::prompt) continue;
    Tri pv = eval(p.cond);
    if (s.is_choice_value && s.type == SymType::tristate && pv == Tri::m && tri(s.choice) == Tri::y) pv = Tri::n;
    v = tri_or(v, pv);
  }
  if (v == Tri::m && (s.type != SymType::tristate || (sym != tree_.modules_symbol() && modules() == Tri::n)))
    v = Tri::y;
  st_[static_cast<std::size_t>(sym)].vis = v;
  st_[static_cast<std::size_t>(sym)].vis_stage = 2;
}

Tri KconfigEval::visible(int sym) {
  calc_visibility(sym);
  return st_[static_cast<std::size_t>(sym)].vis;
}

Tri KconfigEval::tri(int sym) {
  calc(sym);
  return st_[static_cast<std::size_t>(sym)].tri;
}

std::string KconfigEval::str(int sym) {
  calc(sym);
  return st_[static_cast<std::size_t>(sym)].str;
}

int KconfigEval::selected(int choice) {
  calc(choice);
  return st_[static_cast<std::size_t>(choice)].selected;
}

long long KconfigEval::num(int sym, int base) {
  const KSymbol& s = tree_.symbol(sym);
  if (s.type == SymType::integer) base = 10;
  if (s.type == SymType::hex) base = 16;
  return std::strtoll(str(sym).c_str(), nullptr, base);
}

std::optional<std::pair<long long, long long>> KconfigEval::range(int sym) {
  const KSymbol& s = tree_.symbol(sym);
  int base = s.type == SymType::hex ? 16 : 10;
  for (const auto& p : s.props)
    if (p.kind == KProperty::Kind::range && eval(p.cond) != Tri::n)
      return std::make_pair(num(p.target, base), num(p.target2, base));
  return std::nullopt;
}

int KconfigEval::calc_choice(int choice) {
  const KSymbol& cs = tree_.symbol(choice);
  // the user's member: the last `=y` line among the members, if visible
  int user = -1, order = -1;
  for (int m : cs.members) {
    auto it = user_.values().find(tree_.symbol(m).name);
    if (it != user_.values().end() && it->second.value == "y" && it->second.order > order) {
      user = m;
      order = it->second.order;
    }
  }
  // the choice has a user value only when every visible member has one
  bool complete = user >= 0;
  for (int m : cs.members)
    if (visible(m) != Tri::n && !user_tri(m)) complete = false;
  if (complete && visible(user) != Tri::n) return user;
  for (const auto& p : cs.props) {
    if (p.kind != KProperty::Kind::default_ || p.target < 0) continue;
    if (eval(p.cond) == Tri::n) continue;
    if (visible(p.target) != Tri::n) return p.target;
  }
  for (int m : cs.members)
    if (visible(m) != Tri::n) return m;
  return -1;
}

void KconfigEval::calc(int sym) {
  State& S0 = st_[static_cast<std::size_t>(sym)];
  if (S0.stage != 0) return;  // done, or recursion: the current value stands
  const KSymbol& s = tree_.symbol(sym);
  auto set = [&](Tri t, std::string v) {
    State& S = st_[static_cast<std::size_t>(sym)];
    S.tri = t;
    S.str = std::move(v);
  };
  if (s.is_const) {
    S0.stage = 2;
    Tri t = sym == KconfigTree::kYes ? Tri::y : sym == KconfigTree::kMod ? Tri::m : Tri::n;
    set(t, s.name);
    return;
  }
  if (s.type == SymType::unknown) {
    S0.stage = 2;
    set(Tri::n, s.name);
    return;
  }
  bool logic = s.type == SymType::boolean || s.type == SymType::tristate;
  S0.stage = 1;
  set(Tri::n, logic ? "n" : "");

  // Compiler probes kerntune cannot run: trust the base .config.
  if (s.uses_shell && !s.is_choice && has_user(sym)) {
    auto v = *user_.get(s.name);
    if (logic) set(*user_tri(sym), v);
    else set(Tri::n, v);
    st_[static_cast<std::size_t>(sym)].stage = 2;
    return;
  }

  Tri vis = visible(sym);
  auto to_bool_if = [&](Tri t) { return t; };
  (void)to_bool_if;
  if (logic) {
    Tri dir = s.dir_dep ? eval(s.dir_dep) : Tri::y;
    Tri rev = s.rev_dep ? eval(s.rev_dep) : Tri::n;
    Tri imp = s.implied ? eval(s.implied) : Tri::n;
    SymType ty = effective_type(sym);
    if (ty == SymType::boolean) {
      if (dir == Tri::m) dir = Tri::y;
      if (rev == Tri::m) rev = Tri::y;
      if (imp == Tri::m) imp = Tri::y;
    }
    Tri v = Tri::n;
    if (s.is_choice_value && vis == Tri::y) {
      v = selected(s.choice) == sym ? Tri::y : Tri::n;
    } else {
      bool from_user = false;
      if (vis != Tri::n) {
        std::optional<Tri> u;
        if (s.is_choice) {
          // user tristate of a choice: OR of its members' user values
          for (int m : s.members)
            if (auto mt = user_tri(m)) u = u ? tri_or(*u, *mt) : *mt;
        } else if (has_user(sym)) {
          u = user_tri(sym);
        }
        if (u) {
          v = tri_and(*u, vis);
          from_user = true;
        }
      }
      if (!from_user && !s.is_choice) {
        for (const auto& p : s.props) {
          if (p.kind != KProperty::Kind::default_) continue;
          Tri c = eval(p.cond);
          if (c == Tri::n) continue;
          v = tri_and(eval(p.expr), c);
          break;
        }
        if (imp != Tri::n) v = tri_and(tri_or(v, imp), dir);
      }
      v = tri_or(v, rev);
    }
    if (v == Tri::m && effective_type(sym) == SymType::boolean) v = Tri::y;
    set(v, std::string(1, to_char(v)));
    if (s.is_choice) {
      st_[static_cast<std::size_t>(sym)].selected = v == Tri::y ? calc_choice(sym) : -1;
      if (st_[static_cast<std::size_t>(sym)].selected < 0 && v == Tri::y) set(Tri::n, "n");
    }
  } else {
    std::string v;
    if (vis != Tri::n && has_user(sym)) {
      v = *user_.get(s.name);
    } else {
      for (const auto& p : s.props) {
        if (p.kind != KProperty::Kind::default_) continue;
        if (eval(p.cond) == Tri::n) continue;
        if (p.expr && p.expr->op == KExpr::Op::symbol) v = str(p.expr->sym);
        break;
      }
    }
    set(Tri::n, v);
    if (s.type == SymType::integer || s.type == SymType::hex) {
      // symbol.c: sym_validate_range clamps to the active range
      int base = s.type == SymType::hex ? 16 : 10;
      for (const auto& p : s.props) {
        if (p.kind != KProperty::Kind::range || eval(p.cond) == Tri::n) continue;
        long long val = std::strtoll(v.c_str(), nullptr, base);
        if (val >= num(p.target, base) && val <= num(p.target2, base)) break;
        int bound = val >= num(p.target, base) ? p.target2 : p.target;
        set(Tri::n, str(bound));
        break;
      }
      // kconfig writes hex values with their 0x
      if (s.type == SymType::hex) {
        std::string& h = st_[static_cast<std::size_t>(sym)].str;
        if (!h.empty() && !(h.size() > 1 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))) h = "0x" + h;
      }
    }
  }
  st_[static_cast<std::size_t>(sym)].stage = 2;
}

Tri KconfigEval::eval(const KExprPtr& e) {
  if (!e) return Tri::y;
  switch (e->op) {
    case KExpr::Op::symbol: return tri(e->sym);
    case KExpr::Op::not_: return tri_not(eval(e->left));
    case KExpr::Op::and_: return tri_and(eval(e->left), eval(e->right));
    case KExpr::Op::or_: return tri_or(eval(e->left), eval(e->right));
    default: break;
  }
  const KSymbol& a = tree_.symbol(e->sym);
  const KSymbol& b = tree_.symbol(e->sym2);
  std::string s1 = str(e->sym), s2 = str(e->sym2);
  SymType t1 = a.is_const && e->sym > KconfigTree::kYes ? SymType::unknown : a.type;
  SymType t2 = b.is_const && e->sym2 > KconfigTree::kYes ? SymType::unknown : b.type;
  int res;
  Num l, r;
  if (t1 != SymType::string || t2 != SymType::string) {
    l = parse_num(s1, t1);
    r = parse_num(s2, t2);
  }
  if (l.kind == Kind::string || r.kind == Kind::string) res = s1.compare(s2) < 0 ? -1 : s1 == s2 ? 0 : 1;
  else if (l.kind == Kind::unsigned_ || r.kind == Kind::unsigned_) {
    unsigned long long lu = l.kind == Kind::unsigned_ ? l.u : static_cast<unsigned long long>(l.s);
    unsigned long long ru = r.kind == Kind::unsigned_ ? r.u : static_cast<unsigned long long>(r.s);
    res = (lu > ru) - (lu < ru);
  } else {
    res = (l.s > r.s) - (l.s < r.s);
  }
  bool out = false;
  switch (e->op) {
    case KExpr::Op::eq: out = res == 0; break;
    case KExpr::Op::neq: out = res != 0; break;
    case KExpr::Op::lt: out = res < 0; break;
    case KExpr::Op::le: out = res <= 0; break;
    case KExpr::Op::gt: out = res > 0; break;
    case KExpr::Op::ge: out = res >= 0; break;
    default: break;
  }
  return out ? Tri::y : Tri::n;
}

bool KconfigEval::written(int sym) {
  const KSymbol& s = tree_.symbol(sym);
  if (s.is_const || s.is_choice || !s.defined() || s.type == SymType::unknown) return false;
  if (visible(sym) != Tri::n) return true;
  bool logic = s.type == SymType::boolean || s.type == SymType::tristate;
  if (logic) {
    if (s.rev_dep && eval(s.rev_dep) != Tri::n) return true;
    if (s.implied && eval(s.implied) != Tri::n) return true;
  }
  if (s.uses_shell && has_user(sym)) return true;
  for (const auto& p : s.props) {
    if (p.kind != KProperty::Kind::default_) continue;
    Tri c = eval(p.cond);
    if (c == Tri::n) continue;
    if (!logic) return p.expr && p.expr->op == KExpr::Op::symbol;
    return tri_and(eval(p.expr), c) != Tri::n;
  }
  return false;
}

std::string KconfigEval::default_value(int sym) {
  const KSymbol& s = tree_.symbol(sym);
  ConfigFile u = user_;
  int choice = s.is_choice ? sym : s.is_choice_value ? s.choice : -1;
  if (choice >= 0) {
    for (int m : tree_.symbol(choice).members) u.erase(tree_.symbol(m).name);
  } else {
    u.erase(s.name);
  }
  KconfigEval fresh(tree_, std::move(u));
  if (s.is_choice) {
    int m = fresh.selected(sym);
    return m < 0 ? std::string() : tree_.symbol(m).name;
  }
  return fresh.str(sym);
}

std::map<std::string, std::string> KconfigEval::resolve() {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < tree_.symbols().size(); ++i) {
    int id = static_cast<int>(i);
    if (!written(id)) continue;
    out[tree_.symbol(id).name] = str(id);
  }
  return out;
}

}  // namespace kerntune::kbuild
