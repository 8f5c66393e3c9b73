#pragma once
// Symbol values as scripts/kconfig/symbol.c (sym_calc_value) computes them,
// given user values from a .config: visibility from prompts, user value when
// visible, else the first active default (plus imply, limited by the
// dependencies), then reverse dependencies (select) on top; choices pick the
// user's member when visible, else their default; int/hex clamped to the
// active range; tristates act as bools while MODULES=n.
//
// Symbols flagged `uses_shell` (compiler probes kerntune does not run) take
// their value from the base .config when it has one.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/kbuild/config_file.hpp"
#include "kerntune/kbuild/kconfig.hpp"

namespace kerntune::kbuild {

class KconfigEval {
 public:
  KconfigEval(const KconfigTree& tree, ConfigFile user);

  Tri tri(int sym);
  /// The value as .config would write it: "y"/"m"/"n", "250", "0x1000", string text.
  std::string str(int sym);
  Tri visible(int sym);
  /// Choice symbol: the selected member (-1 if none).
  int selected(int choice);
  /// Whether kconfig would write the symbol to .config.
  bool written(int sym);
  /// Int/hex: the active range, if any.
  std::optional<std::pair<long long, long long>> range(int sym);
  /// The symbol's value with its own user value (or, for a choice or a
  /// choice member, the whole choice's user values) removed: its default
  /// under everything else in the .config.
  std::string default_value(int sym);
  /// Everything kconfig would write (symbol → value), like olddefconfig.
  std::map<std::string, std::string> resolve();

  Tri eval(const KExprPtr& e);
  const KconfigTree& tree() const { return tree_; }
  const ConfigFile& user() const { return user_; }

 private:
  struct State {
    int stage = 0;  ///< 0 fresh, 1 computing, 2 done
    Tri tri = Tri::n;
    std::string str;
    Tri vis = Tri::n;
    int vis_stage = 0;
    int selected = -1;
  };
  void calc(int sym);
  void calc_visibility(int sym);
  bool has_user(int sym) const;
  std::optional<Tri> user_tri(int sym) const;
  SymType effective_type(int sym);
  Tri modules();
  int calc_choice(int choice);
  long long num(int sym, int base);

  const KconfigTree& tree_;
  ConfigFile user_;
  std::vector<State> st_;
};

}  // namespace kerntune::kbuild
