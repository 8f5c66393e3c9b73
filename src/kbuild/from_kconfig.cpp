#include "kerntune/kbuild/from_kconfig.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <functional>
#include <map>
#include <algorithm>
#include <set>

#include "kerntune/util/text.hpp"

namespace kerntune::kbuild {

std::string choice_parameter_name(const KconfigTree& tree, int choice) {
  const KSymbol& cs = tree.symbol(choice);
  if (!cs.name.empty() && cs.name[0] != '<') return cs.name;
  if (cs.members.empty()) return "CHOICE";
  std::string prefix = tree.symbol(cs.members[0]).name;
  for (int m : cs.members) {
    const std::string& n = tree.symbol(m).name;
    std::size_t i = 0;
    while (i < prefix.size() && i < n.size() && prefix[i] == n[i]) ++i;
    prefix.resize(i);
  }
  while (!prefix.empty() && prefix.back() == '_') prefix.pop_back();
  if (prefix.empty()) prefix = tree.symbol(cs.members[0]).name;
  std::string name = prefix + "_CHOICE";
  while (tree.find(name) >= 0) name += "_";
  return name;
}

namespace {

// A condition over tuned parameters, built from a Kconfig expression.
struct Formula {
  enum class Kind { konst, atom, and_, or_, not_ } kind = Kind::konst;
  bool value = true;
  std::string atom;
  std::shared_ptr<Formula> a, b;
};
using F = std::shared_ptr<Formula>;

F konst(bool v) {
  auto f = std::make_shared<Formula>();
  f->value = v;
  return f;
}
F atom(std::string text) {
  auto f = std::make_shared<Formula>();
  f->kind = Formula::Kind::atom;
  f->atom = std::move(text);
  return f;
}
std::string text(const F& f, int parent = 0);
F f_and(F x, F y) {
  if (x->kind == Formula::Kind::konst) return x->value ? y : x;
  if (y->kind == Formula::Kind::konst) return y->value ? x : y;
  if (text(x) == text(y)) return x;  // `if A` around `depends on A`
  auto f = std::make_shared<Formula>();
  f->kind = Formula::Kind::and_;
  f->a = x;
  f->b = y;
  return f;
}
F f_or(F x, F y) {
  if (x->kind == Formula::Kind::konst) return x->value ? x : y;
  if (y->kind == Formula::Kind::konst) return y->value ? y : x;
  if (text(x) == text(y)) return x;
  auto f = std::make_shared<Formula>();
  f->kind = Formula::Kind::or_;
  f->a = x;
  f->b = y;
  return f;
}
F f_not(F x) {
  if (x->kind == Formula::Kind::konst) return konst(!x->value);
  if (x->kind == Formula::Kind::not_) return x->a;
  if (x->kind == Formula::Kind::atom) {  // A == B  →  A != B
    for (auto [from, to] : {std::pair{" == ", " != "}, std::pair{" != ", " == "}}) {
      auto at = x->atom.find(from);
      if (at != std::string::npos && x->atom.find(to) == std::string::npos)
        return atom(x->atom.substr(0, at) + to + x->atom.substr(at + 4));
    }
  }
  auto f = std::make_shared<Formula>();
  f->kind = Formula::Kind::not_;
  f->a = x;
  return f;
}

std::string text(const F& f, int parent) {  // parent: 0 top, 1 or, 2 and, 3 not
  switch (f->kind) {
    case Formula::Kind::konst: return f->value ? "true" : "false";
    case Formula::Kind::atom: return parent == 3 ? "(" + f->atom + ")" : f->atom;
    case Formula::Kind::not_: return "!" + text(f->a, 3);
    case Formula::Kind::and_: {
      std::string t = text(f->a, 2) + " && " + text(f->b, 2);
      return parent == 3 ? "(" + t + ")" : t;
    }
    case Formula::Kind::or_: {
      std::string t = text(f->a, 1) + " || " + text(f->b, 1);
      return parent >= 2 ? "(" + t + ")" : t;
    }
  }
  return "true";
}

/// A name as the space's expression grammar reads it ([A-Za-z_][A-Za-z0-9_.]*).
std::string quote_name(const std::string& n) {
  bool plain = !n.empty() && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_');
  for (char c : n) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
  return plain ? n : "`" + n + "`";
}

class WhenBuilder {
 public:
  WhenBuilder(KconfigEval& ev, const std::map<int, std::string>& tuned, std::vector<std::string>& warnings)
      : ev_(ev), tree_(ev.tree()), tuned_(tuned), warnings_(warnings) {}
  /// Members of tuned choices that can never be selected (kept out of `values`).
  std::set<int> excluded;

  /// value(e) != n (nz) or value(e) == y (!nz).
  F build(const KExprPtr& e, bool nz, const std::string& for_name) {
    if (!e) return konst(true);
    switch (e->op) {
      case KExpr::Op::and_: return f_and(build(e->left, nz, for_name), build(e->right, nz, for_name));
      case KExpr::Op::or_: return f_or(build(e->left, nz, for_name), build(e->right, nz, for_name));
      case KExpr::Op::not_: return f_not(build(e->left, !nz, for_name));
      case KExpr::Op::symbol: return leaf(e->sym, nz);
      default: return compare(e, for_name);
    }
  }

 private:
  F leaf(int sym, bool nz) {
    const KSymbol& s = tree_.symbol(sym);
    if (auto it = tuned_.find(sym); it != tuned_.end()) {
      if (s.is_choice) return konst(true);  // a member's own choice: assumed active
      const std::string n = quote_name(it->second);
      if (s.type == SymType::tristate) return atom(nz ? n + " != n" : n + " == y");
      return atom(n + " == true");
    }
    if (s.is_choice_value) {
      if (auto it = tuned_.find(s.choice); it != tuned_.end()) {
        if (excluded.count(sym)) return konst(false);
        return atom(quote_name(it->second) + " == " + s.name);
      }
    }
    Tri t = ev_.tri(sym);
    return konst(nz ? t != Tri::n : t == Tri::y);
  }

  F compare(const KExprPtr& e, const std::string& for_name) {
    bool ta = tuned_.count(e->sym) > 0, tb = tuned_.count(e->sym2) > 0;
    if (!ta && !tb) return konst(ev_.eval(e) == Tri::y);
    if (ta && tb) {
      warnings_.push_back(fmt::format("{}: condition {} compares two tuned symbols; evaluated on the base",
                                      for_name, tree_.expr_text(e)));
      return konst(ev_.eval(e) == Tri::y);
    }
    int tuned = ta ? e->sym : e->sym2;
    int other = ta ? e->sym2 : e->sym;
    KExpr::Op op = e->op;
    if (!ta) {  // mirror: 5 < X  →  X > 5
      switch (op) {
        case KExpr::Op::lt: op = KExpr::Op::gt; break;
        case KExpr::Op::le: op = KExpr::Op::ge; break;
        case KExpr::Op::gt: op = KExpr::Op::lt; break;
        case KExpr::Op::ge: op = KExpr::Op::le; break;
        default: break;
      }
    }
    const KSymbol& s = tree_.symbol(tuned);
    std::string v = ev_.str(other);
    std::string n = quote_name(tuned_.at(tuned));
    const char* o = op == KExpr::Op::eq ? "==" : op == KExpr::Op::neq ? "!=" : op == KExpr::Op::lt ? "<"
                  : op == KExpr::Op::le ? "<=" : op == KExpr::Op::gt ? ">" : ">=";
    if (s.type == SymType::boolean) {
      if ((op == KExpr::Op::eq || op == KExpr::Op::neq) && (v == "y" || v == "n" || v == "m"))
        return atom(fmt::format("{} {} {}", n, o, v == "n" ? "false" : "true"));
    } else if (s.type == SymType::tristate) {
      if (v == "y" || v == "n" || v == "m") return atom(fmt::format("{} {} {}", n, o, v));
    } else if (s.type == SymType::integer || s.type == SymType::hex) {
      char* end = nullptr;
      long long x = std::strtoll(v.c_str(), &end, s.type == SymType::hex ? 16 : 10);
      if (end && *end == 0 && !v.empty()) return atom(fmt::format("{} {} {}", n, o, x));
    }
    warnings_.push_back(fmt::format("{}: condition {} cannot be expressed over tuned parameters; evaluated on "
                                    "the base",
                                    for_name, tree_.expr_text(e)));
    return konst(ev_.eval(e) == Tri::y);
  }

  KconfigEval& ev_;
  const KconfigTree& tree_;
  const std::map<int, std::string>& tuned_;
  std::vector<std::string>& warnings_;
};

const KMenu* find_menu(const KMenu& m, const std::string& title) {
  if (m.kind == KMenu::Kind::menu && m.title == title) return &m;
  for (const auto& c : m.children)
    if (const KMenu* f = find_menu(*c, title)) return f;
  return nullptr;
}

void collect_menus(const KMenu& m, std::vector<std::string>& out) {
  if (m.kind == KMenu::Kind::menu) out.push_back(m.title);
  for (const auto& c : m.children) collect_menus(*c, out);
}

void collect_symbols(const KMenu& m, std::vector<int>& out) {
  for (const auto& c : m.children) {
    if ((c->kind == KMenu::Kind::config || c->kind == KMenu::Kind::choice) && c->sym >= 0) out.push_back(c->sym);
    if (c->kind != KMenu::Kind::choice) collect_symbols(*c, out);
  }
}

KExprPtr prompt_condition(const KSymbol& s, bool& has_prompt) {
  KExprPtr cond;
  has_prompt = false;
  for (const auto& p : s.props) {
    if (p.kind != KProperty::Kind::prompt) continue;
    KExprPtr c = p.cond ? p.cond : expr_sym(KconfigTree::kYes);
    cond = has_prompt ? expr_or(cond, c) : c;
    has_prompt = true;
  }
  return cond;
}

}  // namespace

util::Result<GeneratedSpace> space_from_kconfig(KconfigEval& ev, const FromKconfigOptions& options) {
  const KconfigTree& tree = ev.tree();
  GeneratedSpace out;
  out.header = options.header;
  std::vector<int> picked;
  if (!options.symbols.empty()) {
    std::vector<std::string> names;
    for (const auto& s : options.symbols) {
      int id = tree.find(s);
      if (id < 0 || !tree.symbol(id).defined()) {
        if (names.empty())
          for (const auto& sym : tree.symbols())
            if (sym.defined() && !sym.is_const) names.push_back(sym.name);
        auto near = util::closest(s, names);
        return util::invalid_input(fmt::format("unknown Kconfig symbol '{}'{}", s,
                                               near ? fmt::format(" (did you mean '{}'?)", *near) : std::string()));
      }
      picked.push_back(tree.symbol(id).is_choice_value ? tree.symbol(id).choice : id);
    }
  } else if (!options.menu.empty()) {
    const KMenu* m = find_menu(tree.root(), options.menu);
    if (!m) {
      std::vector<std::string> titles;
      collect_menus(tree.root(), titles);
      auto near = util::closest(options.menu, titles);
      return util::invalid_input(fmt::format("no menu titled \"{}\"{}", options.menu,
                                             near ? fmt::format(" (did you mean \"{}\"?)", *near) : std::string()));
    }
    collect_symbols(*m, picked);
  } else {
    return util::invalid_input("give Kconfig symbols or a menu title");
  }
  // dedupe, keep order; name every tuned symbol first (when: refers to them)
  std::map<int, std::string> tuned;
  std::vector<int> order;
  for (int id : picked) {
    if (tuned.count(id)) continue;
    const KSymbol& s = tree.symbol(id);
    bool has_prompt = false;
    prompt_condition(s, has_prompt);
    std::string why;
    if (!has_prompt) why = "has no prompt (not user-settable)";
    else if (s.type == SymType::string) why = "is a string";
    else if (s.uses_shell) why = "depends on a compiler probe";
    else if ((s.type == SymType::integer || s.type == SymType::hex) && !ev.range(id))
      why = "has no range under the base configuration";
    if (!why.empty()) {
      out.warnings.push_back(fmt::format("skipped {}: it {}", s.is_choice ? choice_parameter_name(tree, id) : s.name,
                                         why));
      continue;
    }
    tuned[id] = s.is_choice ? choice_parameter_name(tree, id) : s.name;
    order.push_back(id);
  }
  WhenBuilder when(ev, tuned, out.warnings);
  // Choice members whose prompt can never show under the base are left out.
  for (int id : order) {
    const KSymbol& s = tree.symbol(id);
    if (!s.is_choice) continue;
    for (int m : s.members) {
      bool hp = false;
      KExprPtr mc = prompt_condition(tree.symbol(m), hp);
      F f = when.build(mc, true, tree.symbol(m).name);
      if (!hp || (f->kind == Formula::Kind::konst && !f->value)) {
        when.excluded.insert(m);
        out.warnings.push_back(fmt::format("{}: left out {}: not selectable under the base configuration (needs {})",
                                           tuned[id], tree.symbol(m).name, tree.expr_text(mc)));
      }
    }
  }
  for (int id : order) {
    const KSymbol& s = tree.symbol(id);
    GeneratedParameter p;
    p.name = tuned[id];
    bool has_prompt = false;
    KExprPtr vis = prompt_condition(s, has_prompt);
    F cond = when.build(vis, true, p.name);
    if (cond->kind == Formula::Kind::konst && !cond->value) {
      out.warnings.push_back(fmt::format("skipped {}: not settable under the base configuration (needs {})", p.name,
                                         tree.expr_text(vis)));
      continue;
    }
    if (cond->kind != Formula::Kind::konst) p.when = text(cond);
    for (const auto& pr : s.props)
      if (pr.kind == KProperty::Kind::prompt) {
        p.description = pr.text;
        break;
      }
    std::string def = ev.default_value(id);
    switch (s.type) {
      case SymType::boolean:
      case SymType::tristate:
        if (s.is_choice) {
          p.type = "choice";
          for (int m : s.members)
            if (!when.excluded.count(m)) p.values.push_back(tree.symbol(m).name);
          if (p.values.empty()) {
            out.warnings.push_back(fmt::format("skipped {}: no member is selectable", p.name));
            continue;
          }
          // the default member, also when the choice is inactive under the base
          if (std::find(p.values.begin(), p.values.end(), def) == p.values.end()) {
            def.clear();
            for (const auto& pr : s.props)
              if (pr.kind == KProperty::Kind::default_ && pr.target >= 0 && !when.excluded.count(pr.target) &&
                  when.build(pr.cond, true, p.name)->kind != Formula::Kind::konst) {
                def = tree.symbol(pr.target).name;
                break;
              } else if (pr.kind == KProperty::Kind::default_ && pr.target >= 0 && !when.excluded.count(pr.target) &&
                         when.build(pr.cond, true, p.name)->value) {
                def = tree.symbol(pr.target).name;
                break;
              }
          }
          p.default_text = def.empty() ? p.values.front() : def;
        } else if (s.type == SymType::boolean) {
          p.type = "bool";
          p.default_text = def == "y" ? "true" : "false";
        } else {
          p.type = "tristate";
          p.default_text = def.empty() ? "n" : def;
        }
        break;
      case SymType::integer:
      case SymType::hex: {
        p.type = "int";
        auto r = *ev.range(id);
        p.lo = r.first;
        p.hi = r.second;
        long long d = std::strtoll(def.c_str(), nullptr, s.type == SymType::hex ? 16 : 10);
        p.default_text = std::to_string(d);
        if (s.type == SymType::hex) p.description += " (hex)";
        break;
      }
      default:
        continue;
    }
    out.parameters.push_back(std::move(p));
  }
  if (out.parameters.empty()) return util::invalid_input("nothing tunable selected: " + util::trim(fmt::format("{}", fmt::join(out.warnings, "; "))));
  return out;
}

std::string GeneratedSpace::yaml() const {
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "parameters" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : parameters) {
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << p.name;
    e << YAML::Key << "domain" << YAML::Value << "kconfig";
    e << YAML::Key << "type" << YAML::Value << p.type;
    if (p.type == "choice") e << YAML::Key << "values" << YAML::Value << YAML::Flow << p.values;
    if (p.type == "int")
      e << YAML::Key << "range" << YAML::Value << YAML::Flow << YAML::BeginSeq << p.lo << p.hi << YAML::EndSeq;
    e << YAML::Key << "default" << YAML::Value;
    if (p.type == "tristate") e << YAML::DoubleQuoted << p.default_text;  // "n" must stay a string
    else e << p.default_text;
    if (!p.when.empty()) e << YAML::Key << "when" << YAML::Value << YAML::DoubleQuoted << p.when;
    if (!p.description.empty()) e << YAML::Key << "description" << YAML::Value << p.description;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  std::string head;
  for (const auto& l : util::split(header, '\n'))
    if (!l.empty()) head += "# " + l + "\n";
  return head + e.c_str() + "\n";
}

}  // namespace kerntune::kbuild
