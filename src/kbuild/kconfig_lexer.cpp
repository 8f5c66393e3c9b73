// Kconfig lexer and preprocessor, following scripts/kconfig/lexer.l and
// preprocess.c of Linux 6.1.
#include "kconfig_lexer.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>

namespace kerntune::kbuild::detail {

namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

const std::map<std::string, Tok>& keywords() {
  static const std::map<std::string, Tok> k = {
      {"bool", Tok::kw_bool},         {"choice", Tok::kw_choice},
      {"comment", Tok::kw_comment},   {"config", Tok::kw_config},
      {"def_bool", Tok::kw_def_bool}, {"def_tristate", Tok::kw_def_tristate},
      {"default", Tok::kw_default},   {"depends", Tok::kw_depends},
      {"endchoice", Tok::kw_endchoice}, {"endif", Tok::kw_endif},
      {"endmenu", Tok::kw_endmenu},   {"help", Tok::kw_help},
      {"hex", Tok::kw_hex},           {"if", Tok::kw_if},
      {"imply", Tok::kw_imply},       {"int", Tok::kw_int},
      {"mainmenu", Tok::kw_mainmenu}, {"menu", Tok::kw_menu},
      {"menuconfig", Tok::kw_menuconfig}, {"modules", Tok::kw_modules},
      {"on", Tok::kw_on},             {"optional", Tok::kw_optional},
      {"prompt", Tok::kw_prompt},     {"range", Tok::kw_range},
      {"select", Tok::kw_select},     {"source", Tok::kw_source},
      {"string", Tok::kw_string},     {"tristate", Tok::kw_tristate},
      {"visible", Tok::kw_visible},
  };
  return k;
}

}  // namespace

// ---------------------------------------------------------------- preprocessor

void Preprocessor::add_variable(const std::string& name, const std::string& value, Flavor flavor) {
  auto it = vars_.find(name);
  bool append = false;
  if (it != vars_.end()) {
    if (flavor == Flavor::append) {
      flavor = it->second.flavor;
      append = true;
    }
  } else {
    if (flavor == Flavor::append) flavor = Flavor::recursive;
    it = vars_.emplace(name, Variable{}).first;
  }
  Variable& v = it->second;
  v.flavor = flavor;
  std::string new_value = value;
  bool tainted = false;
  if (flavor == Flavor::simple) {
    bool before = shell_used_;
    shell_used_ = false;
    auto expanded = expand_string(value);
    new_value = expanded ? *expanded : std::string();
    tainted = shell_used_;
    shell_used_ = before;
  }
  if (append) {
    v.value += " " + new_value;
    v.tainted = v.tainted || tainted;
  } else {
    v.value = new_value;
    v.tainted = tainted;
  }
}

util::Result<std::string> Preprocessor::expand_string(const std::string& text) {
  return expand_with_args(text, {});
}

util::Result<std::string> Preprocessor::expand_with_args(const std::string& in,
                                                         const std::vector<std::string>& args) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '$') {
      out += in[i++];
      continue;
    }
    ++i;
    if (i >= in.size() || in[i] != '(') {
      out += '$';
      continue;
    }
    // find the matching parenthesis
    std::size_t q = i + 1;
    int nest = 0;
    for (; q < in.size(); ++q) {
      if (in[q] == '(') ++nest;
      else if (in[q] == ')' && nest-- == 0) break;
    }
    if (q >= in.size())
      return util::fail_at(file_, line_, 0, fmt::format("unterminated reference to '{}': missing ')'", in.substr(i + 1)));
    KT_TRY(std::string r, eval_clause(in.substr(i + 1, q - i - 1), args));
    out += r;
    i = q + 1;
  }
  return out;
}

util::Result<std::string> Preprocessor::expand_dollar(const std::string& text, std::size_t& pos) {
  if (pos >= text.size() || text[pos] != '(') return std::string("$");
  std::size_t q = pos + 1;
  int nest = 0;
  for (; q < text.size(); ++q) {
    if (text[q] == '(') ++nest;
    else if (text[q] == ')' && nest-- == 0) break;
  }
  if (q >= text.size())
    return util::fail_at(file_, line_, 0,
                         fmt::format("unterminated reference to '{}': missing ')'", text.substr(pos + 1)));
  std::string clause = text.substr(pos + 1, q - pos - 1);
  pos = q + 1;
  return eval_clause(clause, {});
}

util::Result<std::string> Preprocessor::eval_clause(const std::string& clause,
                                                    const std::vector<std::string>& args) {
  if (++depth_ > 1000) {
    --depth_;
    return util::fail_at(file_, line_, 0, "too deep recursive macro expansion");
  }
  struct DepthGuard {
    int& d;
    ~DepthGuard() { --d; }
  } guard{depth_};
  // $(1), $(2): arguments of the enclosing user function
  char* end = nullptr;
  unsigned long n = std::strtoul(clause.c_str(), &end, 10);
  if (end && *end == 0 && n > 0 && n <= args.size()) return args[n - 1];
  // split on top-level commas
  std::vector<std::string> parts;
  std::string cur;
  int nest = 0;
  for (char c : clause) {
    if (nest == 0 && c == ',') {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    if (c == '(') ++nest;
    else if (c == ')') --nest;
    cur += c;
  }
  parts.push_back(cur);
  KT_TRY(std::string name, expand_with_args(parts[0], args));
  std::vector<std::string> call_args;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    KT_TRY(std::string a, expand_with_args(parts[i], args));
    call_args.push_back(std::move(a));
  }
  if (auto it = vars_.find(name); it != vars_.end()) {
    Variable& v = it->second;
    if (call_args.empty() && v.depth > 0)
      return util::fail_at(file_, line_, 0, fmt::format("recursive variable '{}' references itself", name));
    if (v.tainted) shell_used_ = true;
    if (v.flavor != Flavor::recursive) return v.value;
    ++v.depth;
    auto r = expand_with_args(v.value, call_args);
    --v.depth;
    return r;
  }
  // built-in functions
  if (name == "shell") {
    // Never run: kerntune does not execute commands from Kconfig files.
    shell_used_ = true;
    return std::string("n");
  }
  if (name == "info" || name == "warning-if" || name == "error-if") return std::string();
  if (name == "filename") return file_;
  if (name == "lineno") return std::to_string(line_);
  if (call_args.empty()) {
    if (auto it = env_.find(name); it != env_.end()) return it->second;
    // An environment value kerntune does not know (CC_VERSION_TEXT, …):
    // like a shell call, the base .config has the real value.
    shell_used_ = true;
  }
  return std::string();
}

// ---------------------------------------------------------------- lexer

util::Error Lexer::error(int line, const std::string& message) const {
  return util::Error{util::Error::Kind::invalid_input, message, file_, line, 0};
}

util::Result<Token> Lexer::peek() {
  if (!peeked_) {
    KT_TRY(Token t, lex());
    peeked_ = std::move(t);
  }
  return *peeked_;
}

util::Result<Token> Lexer::next() {
  if (peeked_) {
    Token t = std::move(*peeked_);
    peeked_.reset();
    return t;
  }
  return lex();
}

std::string Lexer::rest_of_line() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  std::size_t start = pos_;
  while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  std::string v = text_.substr(start, pos_ - start);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.pop_back();
  return v;
}

std::string Lexer::read_help() {
  std::string out;
  int first_ts = 0;
  while (pos_ < text_.size()) {
    std::size_t eol = text_.find('\n', pos_);
    if (eol == std::string::npos) eol = text_.size();
    std::string_view line(text_.data() + pos_, eol - pos_);
    int ts = 0;
    std::size_t i = 0;
    for (; i < line.size() && (line[i] == ' ' || line[i] == '\t'); ++i)
      ts = line[i] == '\t' ? (ts & ~7) + 8 : ts + 1;
    bool blank = true;
    for (std::size_t j = i; j < line.size(); ++j)
      if (line[j] != ' ' && line[j] != '\t' && line[j] != '\r') blank = false;
    if (blank) {
      out += '\n';
    } else {
      if (ts == 0 || (first_ts > 0 && ts < first_ts)) break;  // the block ended
      if (first_ts == 0) first_ts = ts;
      std::string content(line.substr(i));
      while (!content.empty() && (content.back() == ' ' || content.back() == '\t' || content.back() == '\r'))
        content.pop_back();
      out += std::string(static_cast<std::size_t>(ts - first_ts), ' ') + content + '\n';
    }
    pos_ = eol < text_.size() ? eol + 1 : eol;
    ++line_;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  while (!out.empty() && out.front() == '\n') out.erase(out.begin());
  return out;
}

util::Result<std::string> Lexer::lex_string(char quote) {
  std::string out;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == quote) {
      ++pos_;
      return out;
    }
    if (c == '\n') return out;  // multi-line strings are not supported: ends here
    if (c == '\\') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') out += text_[pos_ + 1];
      pos_ += 2;
      continue;
    }
    if (c == '$') {
      ++pos_;
      pp_.set_location(file_, line_);
      KT_TRY(std::string r, pp_.expand_dollar(text_, pos_));
      out += r;
      continue;
    }
    out += c;
    ++pos_;
  }
  return out;
}

util::Result<Token> Lexer::lex() {
  for (;;) {
    if (pos_ >= text_.size()) return Token{Tok::eof, {}, line_};
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++pos_;
      continue;
    }
    if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      continue;
    }
    if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      continue;
    }
    int line = line_;
    if (c == '\n') {
      ++pos_;
      ++line_;
      return Token{Tok::eol, {}, line};
    }
    auto two = [&](char a, char b) {
      return c == a && pos_ + 1 < text_.size() && text_[pos_ + 1] == b;
    };
    auto op = [&](Tok t, std::size_t len) {
      pos_ += len;
      return Token{t, {}, line};
    };
    if (two('|', '|')) return op(Tok::op_or, 2);
    if (two('&', '&')) return op(Tok::op_and, 2);
    if (two('!', '=')) return op(Tok::op_unequal, 2);
    if (two('<', '=')) return op(Tok::op_less_equal, 2);
    if (two('>', '=')) return op(Tok::op_greater_equal, 2);
    if (two(':', '=')) return op(Tok::op_colon_equal, 2);
    if (two('+', '=')) return op(Tok::op_plus_equal, 2);
    switch (c) {
      case '=': return op(Tok::op_equal, 1);
      case '<': return op(Tok::op_less, 1);
      case '>': return op(Tok::op_greater, 1);
      case '!': return op(Tok::op_not, 1);
      case '(': return op(Tok::op_open, 1);
      case ')': return op(Tok::op_close, 1);
      default: break;
    }
    if (c == '"' || c == '\'') {
      ++pos_;
      KT_TRY(std::string s, lex_string(c));
      return Token{Tok::word_quote, std::move(s), line};
    }
    if (is_word_char(c) || c == '$') {
      std::size_t start = pos_;
      bool has_dollar = false;
      while (pos_ < text_.size() && (is_word_char(text_[pos_]) || text_[pos_] == '$')) {
        if (text_[pos_] == '$') has_dollar = true;
        ++pos_;
      }
      if (!has_dollar) {
        std::string w = text_.substr(start, pos_ - start);
        if (auto it = keywords().find(w); it != keywords().end()) return Token{it->second, w, line};
        return Token{Tok::word, std::move(w), line};
      }
      // A token with macros: expand from its start up to the first separator
      // outside a reference (a reference may hold blanks and commas).
      pos_ = start;
      std::string out;
      pp_.set_location(file_, line_);
      while (pos_ < text_.size()) {
        if (text_[pos_] == '$') {
          ++pos_;
          KT_TRY(std::string r, pp_.expand_dollar(text_, pos_));
          out += r;
          continue;
        }
        if (!is_word_char(text_[pos_])) break;
        out += text_[pos_++];
      }
      if (out.empty()) continue;
      return Token{Tok::word, std::move(out), line};
    }
    // lexer.l ignores unsupported characters with a warning
    ++pos_;
  }
}

}  // namespace kerntune::kbuild::detail
