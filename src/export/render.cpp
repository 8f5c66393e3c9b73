#include "render.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kerntune/space/destination.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::bundle::detail {
namespace {

const nlohmann::json& pick(const ParamValue& p, bool use_default) { return use_default ? p.default_value : p.value(); }

bool set(const ParamValue& p, bool use_default) { return !pick(p, use_default).is_null(); }

std::string sys_path(const std::string& name) {
  if (name.rfind("/sys/", 0) == 0) return name.substr(5);
  return name;
}

std::string sh_double_quoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out;
}

/// The parameters of `domain` that are set, each checked by unsafe_reason.
util::Result<std::vector<const ParamValue*>> checked(const std::vector<ParamValue>& params, const char* domain,
                                                     bool use_default) {
  std::vector<const ParamValue*> out;
  for (const auto& p : params) {
    if (p.domain != domain || !set(p, use_default)) continue;
    if (std::string why = unsafe_reason(p, use_default); !why.empty())
      return util::invalid_input(fmt::format("refusing to export {} parameter '{}': {}", p.domain, util::printable(p.name), why));
    out.push_back(&p);
  }
  return out;
}

}  // namespace

std::string value_text(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
    return fmt::format("{}", d);
  }
  if (v.is_string()) return v.get<std::string>();
  return util::dump_json(v);
}

std::string unsafe_reason(const ParamValue& p, bool use_default) {
  auto domain = space::parse_domain(p.domain);
  if (!domain) return fmt::format("unknown domain '{}'", util::printable(p.domain));
  const std::string name = *domain == space::Domain::sysfs ? sys_path(p.name) : p.name;
  if (auto why = space::name_problem(*domain, name)) return "its name is unsafe: " + *why;
  const nlohmann::json& v = pick(p, use_default);
  if (v.is_structured()) return "its value is not a single value";
  if (*domain == space::Domain::kconfig && p.type == "tristate" && !v.is_boolean() && !v.is_null()) {
    const std::string t = value_text(v);
    if (t != "y" && t != "m" && t != "n")
      return fmt::format("the value '{}' is not a tristate's (y, m or n)", util::printable(t));
  }
  if (auto why = space::value_problem(*domain, value_text(v), p.type == "choice" && *domain == space::Domain::kconfig))
    return fmt::format("the value '{}' is unsafe: {}", util::printable(value_text(v)), *why);
  return "";
}

std::string comment_text(std::string_view text) { return util::printable(text); }

namespace {
/// `from` replaced by `to` throughout `s`.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

/// TuneD's summary= value: comment_text, "${" written as "$ {" (TuneD
/// expands ${…} in profile values; ${f:exec:…} would run a program), and
/// U+2028/U+2029 as \u{2028}/\u{2029} (Python's splitlines breaks lines there).
std::string tuned_text(std::string_view text) {
  std::string out = comment_text(text);
  replace_all(out, "${", "$ {");
  replace_all(out, "\u2028", "\\u{2028}");
  replace_all(out, "\u2029", "\\u{2029}");
  return out;
}
}  // namespace

util::Result<std::string> sysctl_conf(const std::vector<ParamValue>& params, bool use_default, const std::string& header) {
  KT_TRY(auto ps, checked(params, "sysctl", use_default));
  std::string body;
  for (const auto* p : ps) body += fmt::format("{} = {}\n", p->name, value_text(pick(*p, use_default)));
  return body.empty() ? "" : header + body;
}

util::Result<std::string> sysfs_conf(const std::vector<ParamValue>& params, bool use_default, const std::string& header) {
  KT_TRY(auto ps, checked(params, "sysfs", use_default));
  std::string body;
  for (const auto* p : ps) body += fmt::format("{} = {}\n", sys_path(p->name), value_text(pick(*p, use_default)));
  return body.empty() ? "" : header + body;
}

util::Result<std::string> cmdline_words(const std::vector<ParamValue>& params, bool use_default) {
  KT_TRY(auto ps, checked(params, "cmdline", use_default));
  std::string out;
  for (const auto* p : ps) {
    const auto& v = pick(*p, use_default);
    std::string word;
    if (v.is_boolean()) {
      if (!v.get<bool>()) continue;
      word = p->name;
    } else {
      word = p->name + "=" + value_text(v);
    }
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

util::Result<std::string> grub_cfg(const std::string& words, const std::string& header) {
  if (util::has_control(words) || !util::is_text(words))
    return util::invalid_input(fmt::format("refusing to write a GRUB line holding a control character: '{}'", util::printable(words)));
  return header + fmt::format("GRUB_CMDLINE_LINUX_DEFAULT=\"${{GRUB_CMDLINE_LINUX_DEFAULT}} {}\"\n", sh_double_quoted(words));
}

util::Result<std::string> kconfig_fragment(const std::vector<ParamValue>& params, bool use_default, const std::string& header) {
  KT_TRY(auto ps, checked(params, "kconfig", use_default));
  std::string body;
  for (const auto* p : ps) {
    const auto& v = pick(*p, use_default);
    std::string sym = p->name.rfind("CONFIG_", 0) == 0 ? p->name : "CONFIG_" + p->name;
    if (p->type == "choice") {
      std::string member = value_text(v);
      if (member.rfind("CONFIG_", 0) != 0) member = "CONFIG_" + member;
      body += fmt::format("{}=y\n", member);
      for (const auto& c : p->choices) {
        std::string other = c.rfind("CONFIG_", 0) == 0 ? c : "CONFIG_" + c;
        if (other != member && !space::value_problem(space::Domain::kconfig, c, true))
          body += fmt::format("# {} is not set\n", other);
      }
    } else if (v.is_boolean() || p->type == "tristate") {
      std::string t = v.is_boolean() ? (v.get<bool>() ? "y" : "n") : value_text(v);
      body += t == "n" ? fmt::format("# {} is not set\n", sym) : fmt::format("{}={}\n", sym, t);
    } else if (v.is_string()) {
      body += fmt::format("{}={}\n", sym, util::dump_json(nlohmann::json(v.get<std::string>())));
    } else {
      body += fmt::format("{}={}\n", sym, value_text(v));
    }
  }
  return body.empty() ? "" : header + body;
}

util::Result<std::string> tuned_conf(const std::vector<ParamValue>& params, const std::string& summary) {
  std::string out = "# Generated by kerntune. Install: copy this folder to /etc/tuned/ and run\n"
                    "#   tuned-adm profile <folder name>\n";
  out += fmt::format("[main]\nsummary={}\n", tuned_text(summary));
  KT_TRY(auto sysctls, checked(params, "sysctl", false));
  KT_TRY(auto sysfs, checked(params, "sysfs", false));
  std::string sysctl, sysfs_lines;
  for (const auto* p : sysctls) sysctl += fmt::format("{}={}\n", p->name, value_text(p->value()));
  for (const auto* p : sysfs) sysfs_lines += fmt::format("/sys/{}={}\n", sys_path(p->name), value_text(p->value()));
  if (!sysctl.empty()) out += "\n[sysctl]\n" + sysctl;
  if (!sysfs_lines.empty()) out += "\n[sysfs]\n" + sysfs_lines;
  KT_TRY(std::string words, cmdline_words(params, false));
  if (!words.empty()) out += "\n[bootloader]\ncmdline=" + words + "\n";
  return out;
}

}  // namespace kerntune::bundle::detail
