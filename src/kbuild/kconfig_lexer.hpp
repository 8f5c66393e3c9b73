#pragma once
// Internal: the Kconfig lexer and preprocessor (scripts/kconfig/lexer.l and
// preprocess.c of Linux 6.1, re-implemented). Not a public header.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kerntune/util/result.hpp"

namespace kerntune::kbuild::detail {

enum class Tok {
  eol, eof, word, word_quote, assign_val,
  // keywords
  kw_bool, kw_choice, kw_comment, kw_config, kw_def_bool, kw_def_tristate, kw_default,
  kw_depends, kw_endchoice, kw_endif, kw_endmenu, kw_help, kw_hex, kw_if, kw_imply, kw_int,
  kw_mainmenu, kw_menu, kw_menuconfig, kw_modules, kw_on, kw_optional, kw_prompt, kw_range,
  kw_select, kw_source, kw_string, kw_tristate, kw_visible,
  // operators
  op_or, op_and, op_equal, op_unequal, op_less, op_less_equal, op_greater, op_greater_equal,
  op_not, op_open, op_close, op_colon_equal, op_plus_equal,
};

struct Token {
  Tok kind = Tok::eof;
  std::string text;
  int line = 0;
};

/// Macro state shared by all files of one parse: variables (recursive `=`,
/// simple `:=`, append `+=`) and the environment.
class Preprocessor {
 public:
  explicit Preprocessor(std::map<std::string, std::string> env) : env_(std::move(env)) {}
  enum class Flavor { recursive, simple, append };
  void add_variable(const std::string& name, const std::string& value, Flavor flavor);
  /// Expands the reference that starts after a '$' at text[pos]; advances pos
  /// past its closing parenthesis. Sets shell_used() when a shell call was met.
  util::Result<std::string> expand_dollar(const std::string& text, std::size_t& pos);
  /// Expands every $(...) in text.
  util::Result<std::string> expand_string(const std::string& text);
  bool shell_used() const { return shell_used_; }
  void clear_shell_used() { shell_used_ = false; }
  void set_location(const std::string& file, int line) { file_ = file; line_ = line; }

 private:
  util::Result<std::string> expand_with_args(const std::string& in, const std::vector<std::string>& args);
  util::Result<std::string> eval_clause(const std::string& clause, const std::vector<std::string>& args);
  struct Variable {
    std::string value;
    Flavor flavor = Flavor::recursive;
    bool tainted = false;  ///< its value came from a shell call
    int depth = 0;
  };
  std::map<std::string, Variable> vars_;
  std::map<std::string, std::string> env_;
  bool shell_used_ = false;
  std::string file_;
  int line_ = 0;
  int depth_ = 0;
};

class Lexer {
 public:
  Lexer(std::string file, std::string text, Preprocessor& pp)
      : file_(std::move(file)), text_(std::move(text)), pp_(pp) {}
  util::Result<Token> next();
  util::Result<Token> peek();
  /// After `WORD =|:=|+=`: the raw rest of the line (leading blanks skipped).
  std::string rest_of_line();
  /// After `help` EOL: the help block, ended by a line indented less than its first line.
  std::string read_help();
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  util::Error error(int line, const std::string& message) const;

 private:
  util::Result<Token> lex();
  util::Result<std::string> lex_string(char quote);
  std::string file_;
  std::string text_;
  Preprocessor& pp_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::optional<Token> peeked_;
};

}  // namespace kerntune::kbuild::detail
