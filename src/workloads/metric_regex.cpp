#include "kerntune/workloads/metric_regex.hpp"

#include <fmt/format.h>

#include <cctype>
#include <vector>

namespace kerntune::workloads {
namespace {

bool valid_group_name(std::string_view n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// Splits output into lines at '\n' and '\r' (empty lines dropped).
std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n' || s[i] == '\r') {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

util::Result<MetricRegex> compile_metric_regex(std::string_view pattern) {
  MetricRegex m;
  m.pattern = std::string(pattern);
  std::string& out = m.rewritten;
  std::size_t groups = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) return util::invalid_input("regex ends with a lone backslash");
      if (pattern[i + 1] == 'k' && i + 2 < pattern.size() && pattern[i + 2] == '<') {
        auto close = pattern.find('>', i + 3);
        if (close == std::string_view::npos) return util::invalid_input("unterminated \\k<name> back-reference");
        std::string name(pattern.substr(i + 3, close - i - 3));
        auto it = m.groups.find(name);
        if (it == m.groups.end())
          return util::invalid_input(fmt::format("back-reference \\k<{}> names no earlier group", name));
        out += fmt::format("\\{}", it->second);
        i = close;
        continue;
      }
      out += c;
      out += pattern[++i];
      continue;
    }
    if (c == '[') {  // copy a character class verbatim: '(' inside it is literal
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      for (; j < pattern.size() && pattern[j] != ']'; ++j)
        if (pattern[j] == '\\') ++j;
      if (j >= pattern.size()) return util::invalid_input("unterminated character class '['");
      out.append(pattern.substr(i, j - i + 1));
      i = j;
      continue;
    }
    if (c == '(') {
      bool named = i + 2 < pattern.size() && pattern[i + 1] == '?' && pattern[i + 2] == '<' &&
                   i + 3 < pattern.size() && pattern[i + 3] != '=' && pattern[i + 3] != '!';
      if (named) {
        auto close = pattern.find('>', i + 3);
        if (close == std::string_view::npos) return util::invalid_input("unterminated group name '(?<'");
        std::string name(pattern.substr(i + 3, close - i - 3));
        if (!valid_group_name(name))
          return util::invalid_input(fmt::format("bad group name '{}' (letters, digits, '_')", name));
        if (m.groups.contains(name)) return util::invalid_input(fmt::format("group '{}' is named twice", name));
        m.groups[name] = ++groups;
        out += '(';
        i = close;
        continue;
      }
      if (i + 1 < pattern.size() && pattern[i + 1] == '?') {
        if (i + 2 < pattern.size() && pattern[i + 2] == '<')
          return util::invalid_input("lookbehind '(?<=' / '(?<!' is not supported by ECMAScript regexes");
      } else {
        ++groups;
      }
    }
    out += c;
  }
  auto v = m.groups.find("value");
  if (v == m.groups.end())
    return util::invalid_input("regex has no (?<value>...) group to capture the number");
  m.value_group = v->second;
  try {
    m.re = std::regex(m.rewritten, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return util::invalid_input(fmt::format("invalid regex: {}", e.what()));
  }
  if (m.re.mark_count() != groups)  // our group count must agree with std::regex's
    return util::internal_error(fmt::format("cannot number the groups of this regex ({} counted, {} compiled)",
                                            groups, m.re.mark_count()));
  return m;
}

std::optional<std::string> last_value_match(const MetricRegex& regex, std::string_view output) {
  auto lines = lines_of(output);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::string_view line = *it;
    if (line.size() > kMaxSearchedLine) line = line.substr(line.size() - kMaxSearchedLine);
    std::optional<std::string> found;
    for (std::cregex_iterator m(line.data(), line.data() + line.size(), regex.re), end; m != end; ++m)
      if ((*m)[regex.value_group].matched) found = (*m)[regex.value_group].str();
    if (found) return found;
  }
  return std::nullopt;
}

std::vector<std::map<std::string, std::string>> all_matches(const MetricRegex& regex, std::string_view output) {
  std::vector<std::map<std::string, std::string>> out;
  for (std::string_view line : lines_of(output)) {
    if (line.size() > kMaxSearchedLine) line = line.substr(line.size() - kMaxSearchedLine);
    for (std::cregex_iterator m(line.data(), line.data() + line.size(), regex.re), end; m != end; ++m) {
      std::map<std::string, std::string> groups;
      for (const auto& [name, index] : regex.groups)
        if ((*m)[index].matched) groups[name] = (*m)[index].str();
      out.push_back(std::move(groups));
    }
  }
  return out;
}

}  // namespace kerntune::workloads
