#pragma once
// The Kconfig language of Linux 6.1, read by kerntune itself: the preprocessor
// (variables, user functions, $(SRCARCH)-style environment references), the
// statements (mainmenu, menu/endmenu, config/menuconfig, choice/endchoice,
// if/endif, comment, source), the entry attributes (types, prompts with `if`,
// default/def_bool/def_tristate, range, depends on, select, imply, visible if,
// modules, optional, help blocks by indentation) and expressions.
//
// After parsing, dependencies are propagated as scripts/kconfig/menu.c does
// (menu_finalize): each property's condition holds the enclosing `if`/`menu`/
// `depends on` conditions, `select`/`imply` become reverse dependencies of their
// targets, `m` in a dependency becomes `m && MODULES`.
//
// Shell macros ($(shell,…), and so $(success,…), $(cc-option,…), …) are never
// run: they expand to "n". Symbols whose definition used one are flagged
// `uses_shell`; the evaluator (kconfig_eval.hpp) takes their value from the base
// .config when it has one (that file was written by the real kconfig, which ran
// the compiler probes). See docs/kconfig.md.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::kbuild {

enum class SymType { unknown, boolean, tristate, integer, hex, string };
std::string to_string(SymType t);

/// Tristate value: n=0, m=1, y=2 (so && is min, || is max, ! is 2-x).
enum class Tri : int { n = 0, m = 1, y = 2 };
inline Tri tri_and(Tri a, Tri b) { return a < b ? a : b; }
inline Tri tri_or(Tri a, Tri b) { return a < b ? b : a; }
inline Tri tri_not(Tri a) { return static_cast<Tri>(2 - static_cast<int>(a)); }
char to_char(Tri t);

/// A Kconfig expression. Leaves and comparison operands are symbol ids
/// (indices into KconfigTree::symbols(); constants such as "y", "100" or a
/// quoted string are symbols with `is_const`).
struct KExpr {
  enum class Op { symbol, not_, and_, or_, eq, neq, lt, le, gt, ge };
  Op op = Op::symbol;
  int sym = -1;   ///< Op::symbol: the symbol; comparisons: left operand
  int sym2 = -1;  ///< comparisons: right operand
  std::shared_ptr<const KExpr> left, right;  ///< not_ (left only), and_, or_
};
using KExprPtr = std::shared_ptr<const KExpr>;

struct KLocation {
  std::string file;  ///< relative to the source tree
  int line = 0;
};

struct KProperty {
  enum class Kind { prompt, default_, select, imply, range };
  Kind kind = Kind::prompt;
  std::string text;    ///< prompt text
  KExprPtr expr;       ///< default: the value expression
  int target = -1;     ///< select/imply target; choice default: the member; range: low
  int target2 = -1;    ///< range: high
  KExprPtr cond;       ///< `if` condition AND all enclosing dependencies (after finalize)
  KLocation where;
};

struct KSymbol {
  std::string name;
  SymType type = SymType::unknown;
  bool is_const = false;
  bool is_choice = false;        ///< the (often unnamed) symbol of a choice group
  bool is_choice_value = false;  ///< a member of a choice
  bool optional = false;         ///< choice: `optional`
  bool uses_shell = false;       ///< a shell macro was expanded in its definition
  int choice = -1;               ///< is_choice_value: the choice symbol
  std::vector<int> members;      ///< is_choice: member symbols in order
  std::vector<KProperty> props;  ///< in definition order
  KExprPtr dir_dep;              ///< OR over definitions of their dependencies (nullptr: y)
  KExprPtr rev_dep;              ///< OR of (selector && condition) (nullptr: n)
  KExprPtr implied;              ///< same for imply
  std::string help;
  std::vector<KLocation> defined_at;
  bool defined() const { return !defined_at.empty(); }
};

/// The menu tree as written (menus, ifs, choices, entries, comments), used to
/// select the symbols of a menu by title.
struct KMenu {
  enum class Kind { root, menu, if_, choice, config, comment };
  Kind kind = Kind::root;
  std::string title;  ///< menu/comment text; config/choice: its prompt (may be empty)
  int sym = -1;       ///< config/choice
  KExprPtr dep;       ///< own `depends on`/`if` condition, then (after finalize) with the parents'
  KExprPtr visibility;  ///< menu: `visible if`
  KLocation where;
  std::size_t prop_begin = 0, prop_end = 0;  ///< config/choice: its symbol's props from this entry
  std::vector<std::unique_ptr<KMenu>> children;
  KMenu* parent = nullptr;
};

struct KconfigOptions {
  std::string source_dir;       ///< the kernel tree (must hold Kconfig and Makefile)
  std::string arch = "x86_64";  ///< $(ARCH): what `make ARCH=x86_64` passes
  std::string srcarch = "x86";  ///< $(SRCARCH)
  std::string top = "Kconfig";  ///< first file, relative to source_dir
  bool follow_source = true;    ///< false: parse `top` alone (syntax check of one file)
  /// Files parsed before `top` (e.g. scripts/Kconfig.include for its macros when
  /// a file is checked alone).
  std::vector<std::string> preload;
  /// Extra environment for $(NAME) references (CC, LD, …); defaults: CC=gcc, LD=ld.
  std::map<std::string, std::string> env;
};

class KconfigTree {
 public:
  /// Parses the whole tree (or one file). Errors are Kind::invalid_input with
  /// the Kconfig file and line: not a kernel tree, unreadable file, syntax error.
  static util::Result<KconfigTree> parse(const KconfigOptions& options);

  const std::vector<KSymbol>& symbols() const { return symbols_; }
  const KSymbol& symbol(int id) const { return symbols_.at(static_cast<std::size_t>(id)); }
  /// Id of a non-constant symbol, or -1.
  int find(const std::string& name) const;
  const KMenu& root() const { return *root_; }
  /// The symbol of the `modules` option (MODULES), or -1.
  int modules_symbol() const { return modules_sym_; }
  /// Files read, relative to the tree.
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& source_dir() const { return source_dir_; }
  /// Kconfig text of an expression (for messages and docs).
  std::string expr_text(const KExprPtr& e) const;

  // Construction interface used by the parser (kconfig_parser.cpp).
  int lookup(const std::string& name);        ///< non-constant symbol (created on first use)
  int lookup_const(const std::string& value);  ///< constant ("y"/"m"/"n" map to the tristate constants)
  KSymbol& mutable_symbol(int id) { return symbols_.at(static_cast<std::size_t>(id)); }
  int new_choice();
  void finalize();

  KconfigTree();
  KconfigTree(KconfigTree&&) noexcept;
  KconfigTree& operator=(KconfigTree&&) noexcept;
  ~KconfigTree();

  static constexpr int kNo = 0, kMod = 1, kYes = 2;  ///< ids of the constants n, m, y

 private:
  friend class KconfigParser;
  void finalize_menu(KMenu& menu);
  std::vector<KSymbol> symbols_;
  std::map<std::string, int> by_name_;
  std::map<std::string, int> consts_;
  std::unique_ptr<KMenu> root_;
  int modules_sym_ = -1;
  std::vector<std::string> files_;
  std::vector<std::string> warnings_;
  std::string source_dir_;
};

/// Expression helpers.
KExprPtr expr_sym(int sym);
KExprPtr expr_and(KExprPtr a, KExprPtr b);  ///< nullptr counts as y
KExprPtr expr_or(KExprPtr a, KExprPtr b);   ///< nullptr counts as n here (callers decide)
KExprPtr expr_not(KExprPtr a);

}  // namespace kerntune::kbuild
