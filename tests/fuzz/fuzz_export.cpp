// Fuzz target: the export writers with hostile names and values (issue 17,
// docs/hardening.md). Input: fields separated by 0x1E — a campaign name, a
// bundle name, then up to eight parameters. A parameter is a domain byte
// (% 6: sysctl sysfs cmdline kconfig generic, or the unknown word "Sysctl"),
// a type byte (% 5: bool tristate int real choice), then fields separated by
// 0x1F: name, proposed value, default value, effective value, choice members
// (separated by 0x1D). A value is null when empty, JSON when it starts with
// '=' (and parses, nesting at most 4), else the string as it is (newlines,
// NUL, '=', '..', "[section]", invalid UTF-8, …).
//
// Twice: (A) the writers themselves (sysctl.d, sysfs.d, cmdline, GRUB,
// merge_config fragment, TuneD; baseline and trial values) with the raw
// values; (B) a real store holding a baseline and a trial, exported by
// bundle::write_bundle into a folder, then verify_bundle. Every file written
// is parsed back the way its consumer reads it (procps sysctl, sysfsutils,
// the kernel's command line, sh, Kconfig's confdata, TuneD's ini through
// Python's splitlines) and must hold exactly the lines of the tuned keys,
// besides comments. A writer refuses (invalid_input) exactly when a
// parameter it writes breaks its domain's rule (space/destination.hpp).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../../src/export/render.hpp"
#include "fuzz_common.hpp"
#include "kerntune/export/bundle.hpp"
#include "kerntune/space/destination.hpp"
#include "kerntune/store/store.hpp"
#include "kerntune/util/json.hpp"
#include "kerntune/util/text.hpp"

using namespace kerntune;
using bundle::detail::ParamValue;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

#define KT_CHECK(cond) \
  do {                 \
    if (!(cond)) __builtin_trap(); \
  } while (0)

using Pairs = std::vector<std::pair<std::string, std::string>>;

// ---- input → parameters -------------------------------------------------

json value_of(const std::string& text) {
  if (text.empty()) return nullptr;
  if (text[0] == '=' && util::json_nesting(text) <= 4) {
    json j = json::parse(text.substr(1), nullptr, false);
    if (!j.is_discarded() && !j.is_null()) return j;
  }
  return text;
}

std::vector<ParamValue> params_of(const std::vector<std::string>& records) {
  static const char* kDomains[] = {"sysctl", "sysfs", "cmdline", "kconfig", "generic", "Sysctl"};
  static const char* kTypes[] = {"bool", "tristate", "int", "real", "choice"};
  std::vector<ParamValue> out;
  for (const auto& r : records) {
    if (r.size() < 2 || out.size() == 8) continue;
    auto f = util::split(std::string_view(r).substr(2), '\x1f');
    f.resize(5);
    ParamValue p;
    p.domain = kDomains[static_cast<unsigned char>(r[0]) % 6];
    p.type = kTypes[static_cast<unsigned char>(r[1]) % 5];
    p.name = f[0];
    p.proposed = value_of(f[1]);
    p.default_value = value_of(f[2]);
    p.effective = value_of(f[3]);
    if (!f[4].empty()) p.choices = util::split(f[4], '\x1d');
    out.push_back(std::move(p));
  }
  return out;
}

// ---- the oracle: what each writer must write or refuse --------------------

const json& pick(const ParamValue& p, bool use_default) { return use_default ? p.default_value : p.value(); }

std::string sys_key(const std::string& name) { return name.starts_with("/sys/") ? name.substr(5) : name; }

/// Breaks its domain's rule (the writer must refuse it).
bool unsafe(const ParamValue& p, bool use_default) {
  auto d = space::parse_domain(p.domain);
  const json& v = pick(p, use_default);
  if (!d || *d == space::Domain::generic || v.is_null()) return false;
  if (space::name_problem(*d, *d == space::Domain::sysfs ? sys_key(p.name) : p.name)) return true;
  if (v.is_structured()) return true;
  if (*d == space::Domain::kconfig && p.type == "tristate" && !v.is_boolean()) {
    const std::string t = bundle::detail::value_text(v);
    if (t != "y" && t != "m" && t != "n") return true;  // written as is, so only y, m or n
  }
  return space::value_problem(*d, bundle::detail::value_text(v), p.type == "choice" && *d == space::Domain::kconfig)
      .has_value();
}

bool any_unsafe(const std::vector<ParamValue>& ps, std::initializer_list<const char*> domains, bool use_default) {
  return std::any_of(ps.begin(), ps.end(), [&](const ParamValue& p) {
    return std::find(domains.begin(), domains.end(), p.domain) != domains.end() && unsafe(p, use_default);
  });
}

std::vector<const ParamValue*> set_in(const std::vector<ParamValue>& ps, const char* domain, bool use_default) {
  std::vector<const ParamValue*> out;
  for (const auto& p : ps)
    if (p.domain == domain && !pick(p, use_default).is_null()) out.push_back(&p);
  return out;
}

/// A writer's result: refused exactly when `hostile`, with invalid_input.
std::optional<std::string> accepted(util::Result<std::string> r, bool hostile) {
  if (!r) {
    KT_CHECK(hostile && r.error().kind == util::Error::Kind::invalid_input);
    return std::nullopt;
  }
  KT_CHECK(!hostile);
  return std::move(*r);
}

// ---- parsing back, as each consumer reads --------------------------------

/// Lines as Python's str.splitlines cuts them (TuneD reads its profile with
/// Python): \n \r \v \f \x1c \x1d \x1e, U+0085, U+2028, U+2029.
std::vector<std::string> py_lines(const std::string& text) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    std::size_t len = 0;
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) len = 1;
    else if (text.compare(i, 2, "\xc2\x85") == 0) len = 2;
    else if (text.compare(i, 3, "\xe2\x80\xa8") == 0 || text.compare(i, 3, "\xe2\x80\xa9") == 0) len = 3;
    if (!len) {
      out.back() += static_cast<char>(c);
      continue;
    }
    i += len - 1;
    out.emplace_back();
  }
  return out;
}

bool comment_or_blank(const std::string& line) {
  std::string t = util::trim(line);
  return t.empty() || t[0] == '#' || t[0] == ';';
}

/// sysctl.d / sysfs.d: every setting line is `key = value`; the keys and
/// values are exactly the set parameters of `domain`.
void check_kv_file(const std::string& text, const std::vector<ParamValue>& ps, const char* domain, bool use_default) {
  Pairs got, want;
  for (const auto& line : util::split(text, '\n')) {
    if (comment_or_blank(line)) continue;
    const std::size_t eq = line.find(" = ");
    KT_CHECK(eq != std::string::npos);
    got.emplace_back(line.substr(0, eq), util::trim(line.substr(eq + 3)));
  }
  const bool sysfs = std::string_view(domain) == "sysfs";
  for (const auto* p : set_in(ps, domain, use_default))
    want.emplace_back(sysfs ? sys_key(p->name) : p->name,
                      util::trim(bundle::detail::value_text(pick(*p, use_default))));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  KT_CHECK(got == want);
}

/// The words of the command line as the kernel splits them: no quote, no
/// whitespace but single spaces; one word per set boot parameter (a false
/// bool is left out), named by the part before '='.
void check_cmdline(const std::string& words, const std::vector<ParamValue>& ps, bool use_default) {
  std::vector<std::string> got, want;
  // The kernel's isspace() (lib/ctype.c) is also true for byte 0xA0.
  for (char c : words)
    KT_CHECK(c != '"' && (c == ' ' || (!std::isspace(static_cast<unsigned char>(c)) && c != '\xa0')));
  if (!words.empty())
    for (const auto& w : util::split(words, ' ')) {
      KT_CHECK(!w.empty());
      got.push_back(w.substr(0, w.find('=')));
    }
  for (const auto* p : set_in(ps, "cmdline", use_default)) {
    const json& v = pick(*p, use_default);
    if (!(v.is_boolean() && !v.get<bool>())) want.push_back(p->name);
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  KT_CHECK(got == want);
}

/// GRUB's drop-in, read as sh does: one assignment whose double-quoted
/// value expands only ${GRUB_CMDLINE_LINUX_DEFAULT} and holds the words.
void check_grub(const std::string& text, const std::string& words) {
  static const std::string kPrefix = "GRUB_CMDLINE_LINUX_DEFAULT=\"", kVar = "${GRUB_CMDLINE_LINUX_DEFAULT} ";
  int settings = 0;
  for (const auto& line : util::split(text, '\n')) {
    if (comment_or_blank(line)) continue;
    ++settings;
    KT_CHECK(line.starts_with(kPrefix + kVar));
    std::string value;
    std::size_t i = kPrefix.size() + kVar.size();
    for (; i < line.size() && line[i] != '"'; ++i) {
      const char c = line[i];
      KT_CHECK(c != '$' && c != '`');  // an expansion or a command
      if (c == '\\' && i + 1 < line.size() && std::string_view("$`\"\\").find(line[i + 1]) != std::string_view::npos)
        ++i;
      value += line[i];
    }
    KT_CHECK(i + 1 == line.size() && value == words);  // the closing quote ends the line
  }
  KT_CHECK(settings == 1);
}

std::string sym(const std::string& s) { return s.starts_with("CONFIG_") ? s : "CONFIG_" + s; }

/// A merge_config fragment, read as Kconfig's confdata does: `CONFIG_X=…`
/// and `# CONFIG_X is not set` only for the tuned symbols (and a choice's
/// members); a string value unquotes to the tuned string.
void check_kconfig(const std::string& text, const std::vector<ParamValue>& ps, bool use_default) {
  std::set<std::string> allowed;
  std::multimap<std::string, std::string> strings;
  std::size_t bound = 0;
  for (const auto* p : set_in(ps, "kconfig", use_default)) {
    const json& v = pick(*p, use_default);
    allowed.insert(sym(p->name));
    ++bound;
    if (p->type == "choice") {
      allowed.insert(sym(bundle::detail::value_text(v)));
      for (const auto& c : p->choices) allowed.insert(sym(c));
      bound += p->choices.size();
    } else if (v.is_string() && p->type != "tristate") {
      strings.emplace(sym(p->name), v.get<std::string>());
    }
  }
  std::size_t settings = 0;
  for (const auto& line : util::split(text, '\n')) {
    std::string symbol, value;
    if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
      symbol = line.substr(2, line.size() - 2 - 11);
    } else if (line.empty() || line[0] == '#') {
      continue;
    } else {
      const std::size_t eq = line.find('=');
      KT_CHECK(line.starts_with("CONFIG_") && eq != std::string::npos);
      symbol = line.substr(0, eq);
      value = line.substr(eq + 1);
    }
    ++settings;
    if (!allowed.contains(symbol)) std::fprintf(stderr, "fuzz_export: kernel.fragment line '%s': symbol not tuned\n", line.c_str());
    KT_CHECK(allowed.contains(symbol));
    if (!value.starts_with('"') || !strings.contains(symbol)) continue;  // a number, y/m, a tristate's text
    std::string unquoted;
    std::size_t i = 1;
    for (; i < value.size() && value[i] != '"'; ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      unquoted += value[i];
    }
    KT_CHECK(i + 1 == value.size());
    auto [lo, hi] = strings.equal_range(symbol);
    KT_CHECK(std::any_of(lo, hi, [&](const auto& kv) { return kv.second == unquoted; }));
  }
  KT_CHECK(settings <= bound);
}

/// A TuneD profile, read through Python's splitlines: sections [main]
/// (summary=), [sysctl], [sysfs] (/sys/… keys), [bootloader] (cmdline= the
/// words), each once; no value TuneD would expand (${…}) or cut (' #').
void check_tuned(const std::string& text, const std::vector<ParamValue>& ps, const std::string& words) {
  std::string section;
  std::set<std::string> seen;
  Pairs sysctl, sysfs, want_sysctl, want_sysfs;
  for (const auto& line : py_lines(text)) {
    if (comment_or_blank(line)) continue;
    const std::string t = util::trim(line);
    if (t[0] == '[') {
      section = t;
      KT_CHECK(seen.insert(t).second);
      KT_CHECK(t == "[main]" || t == "[sysctl]" || t == "[sysfs]" || t == "[bootloader]");
      continue;
    }
    const std::size_t eq = t.find('=');
    KT_CHECK(eq != std::string::npos && !section.empty());
    const std::string key = util::trim(t.substr(0, eq)), value = util::trim(t.substr(eq + 1));
    KT_CHECK(value.find("${") == std::string::npos);
    if (section == "[main]") {
      KT_CHECK(key == "summary");
      continue;
    }
    KT_CHECK(value.find(" #") == std::string::npos);
    if (section == "[sysctl]") sysctl.emplace_back(key, value);
    else if (section == "[sysfs]") sysfs.emplace_back(key, value);
    else KT_CHECK(key == "cmdline" && value == words);
  }
  KT_CHECK(seen.contains("[main]") && seen.contains("[bootloader]") == !words.empty());
  for (const auto* p : set_in(ps, "sysctl", false))
    want_sysctl.emplace_back(p->name, util::trim(bundle::detail::value_text(p->value())));
  for (const auto* p : set_in(ps, "sysfs", false))
    want_sysfs.emplace_back("/sys/" + sys_key(p->name), util::trim(bundle::detail::value_text(p->value())));
  for (Pairs* v : {&sysctl, &sysfs, &want_sysctl, &want_sysfs}) std::sort(v->begin(), v->end());
  KT_CHECK(sysctl == want_sysctl && sysfs == want_sysfs);
}

// ---- (A) the writers ------------------------------------------------------

void fuzz_writers(const std::vector<ParamValue>& ps, const std::string& campaign, const std::string& name) {
  namespace d = bundle::detail;
  const std::string header = d::comment_text("# kerntune bundle '" + name + "': campaign '" + campaign + "'") + "\n";
  KT_CHECK(std::count(header.begin(), header.end(), '\n') == 1);
  for (bool use_default : {false, true}) {
    if (auto t = accepted(d::sysctl_conf(ps, use_default, header), any_unsafe(ps, {"sysctl"}, use_default)))
      check_kv_file(*t, ps, "sysctl", use_default);
    if (auto t = accepted(d::sysfs_conf(ps, use_default, header), any_unsafe(ps, {"sysfs"}, use_default)))
      check_kv_file(*t, ps, "sysfs", use_default);
    if (auto t = accepted(d::kconfig_fragment(ps, use_default, header), any_unsafe(ps, {"kconfig"}, use_default)))
      check_kconfig(*t, ps, use_default);
    auto words = accepted(d::cmdline_words(ps, use_default), any_unsafe(ps, {"cmdline"}, use_default));
    if (!words) continue;
    check_cmdline(*words, ps, use_default);
    if (auto t = accepted(d::grub_cfg(*words, header), false)) check_grub(*t, *words);
    if (use_default) continue;
    auto tuned = d::tuned_conf(ps, "kerntune " + name + ": campaign " + campaign);
    if (auto t = accepted(tuned, any_unsafe(ps, {"sysctl", "sysfs"}, false))) check_tuned(*t, ps, *words);
  }
}

// ---- (B) a stored campaign through write_bundle ---------------------------

/// A bundle name write_bundle accepts (export_bundle sanitizes to this).
bool safe_name(const std::string& s) {
  return !s.empty() && s.size() <= 200 && s[0] != '.' && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

json object_of(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

/// The store's campaign: metadata from the parameters, a baseline trial
/// (seq 0, the defaults) and trial 1 (proposed, effective values).
store::CampaignRow store_campaign(store::Store& st, const std::vector<ParamValue>& ps,
                                                 const std::string& name) {
  json params = json::array(), base = json::object(), proposed = json::object(), effective = json::object();
  for (const auto& p : ps) {
    params.push_back({{"name", p.name}, {"domain", p.domain}, {"type", p.type}, {"default", p.default_value}});
    if (p.type == "choice") params.back()["values"] = p.choices;
    if (!p.default_value.is_null()) base[p.name] = p.default_value;
    if (!p.proposed.is_null()) proposed[p.name] = p.proposed;
    if (!p.effective.is_null()) effective[p.name] = p.effective;
  }
  store::CampaignRow row;
  row.name = util::name_text_problem(name) ? "fuzz" : name;
  row.recipe_text = "name: fuzz\n";
  row.metadata_json = util::dump_json(
      json{{"parameters", params}, {"objectives", json::array({{{"metric", "y"}, {"direction", "minimize"}}})}});
  auto c = st.create_campaign(row);
  KT_CHECK(c.has_value());
  for (int seq : {0, 1}) {
    store::TrialRecord t;
    t.campaign_id = c->id;
    t.seq = seq;
    t.kind = seq ? "proposal" : "baseline";
    t.status = "ok";
    t.params_json = util::dump_json(seq ? proposed : base);
    t.effective_json = util::dump_json(seq ? effective : json::object());
    t.measurements = {{"y", 0, seq ? 1.0 : 2.0, "s"}};
    KT_CHECK(st.insert_trial(t, {}).has_value());
  }
  return *c;
}

/// The parameters as write_bundle reads them back from the store.
std::vector<ParamValue> stored_params(store::Store& st, const store::CampaignRow& c) {
  auto trials = st.trials(c.id);
  KT_CHECK(trials && trials->size() == 2);
  const json base = object_of((*trials)[0].params_json), proposed = object_of((*trials)[1].params_json),
             effective = object_of((*trials)[1].effective_json);
  const json meta = object_of(c.metadata_json);
  std::vector<ParamValue> out;
  for (const auto& m : meta["parameters"]) {
    ParamValue p;
    p.name = m["name"].get<std::string>();
    p.domain = m["domain"].get<std::string>();
    p.type = m["type"].get<std::string>();
    p.default_value = base.contains(p.name) ? base[p.name] : m["default"];
    if (m.contains("values"))
      for (const auto& v : m["values"]) p.choices.push_back(v.get<std::string>());
    if (proposed.contains(p.name)) p.proposed = proposed[p.name];
    if (effective.contains(p.name) && effective[p.name] != p.proposed) p.effective = effective[p.name];
    out.push_back(std::move(p));
  }
  return out;
}

std::string file_text(const fs::path& p) {
  auto t = util::read_file(p.string());
  KT_CHECK(t.has_value());
  return *t;
}

/// Every file of the bundle in `dir`, parsed back; nothing else in it.
void check_bundle(const fs::path& dir, const std::vector<ParamValue>& ps, const std::string& name) {
  auto has = [&](const char* domain) {
    return std::any_of(ps.begin(), ps.end(), [&](const ParamValue& p) { return p.domain == domain; });
  };
  std::set<std::string> want = {"manifest.json", "tuned/kerntune-" + name + "/tuned.conf"}, got;
  for (bool use_default : {false, true}) {
    const fs::path base = use_default ? dir / "rollback" : dir;
    const std::string prefix = use_default ? "rollback/" : "";
    for (const char* domain : {"sysctl", "sysfs"})
      if (has(domain)) {
        const std::string rel = std::string(domain) + ".d/90-kerntune.conf";
        want.insert(prefix + rel);
        check_kv_file(file_text(base / rel), ps, domain, use_default);
      }
    if (has("kconfig")) {
      want.insert(prefix + "kernel.fragment");
      check_kconfig(file_text(base / "kernel.fragment"), ps, use_default);
    }
  }
  std::string words;
  if (has("cmdline")) {
    want.insert({"cmdline", "rollback/cmdline", "grub/90-kerntune.cfg"});
    const std::string text = file_text(dir / "cmdline");
    KT_CHECK(text.ends_with('\n'));
    words = text.substr(0, text.size() - 1);
    check_cmdline(words, ps, false);
    check_grub(file_text(dir / "grub/90-kerntune.cfg"), words);
    for (const auto& line : util::split(file_text(dir / "rollback/cmdline"), '\n'))
      KT_CHECK(line.empty() || line[0] == '#');
  }
  check_tuned(file_text(dir / "tuned" / ("kerntune-" + name) / "tuned.conf"), ps, words);
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) got.insert(fs::relative(e.path(), dir).generic_string());
  if (got != want) {  // say which file is missing or extra before the trap
    for (const auto& g : got) if (!want.contains(g)) std::fprintf(stderr, "fuzz_export: unexpected file %s\n", g.c_str());
    for (const auto& w : want) if (!got.contains(w)) std::fprintf(stderr, "fuzz_export: missing file %s\n", w.c_str());
  }
  KT_CHECK(got == want);
  auto verified = bundle::verify_bundle(dir.string());
  if (!verified) std::fprintf(stderr, "fuzz_export: verify_bundle: %s\n", verified.error().message.c_str());
  KT_CHECK(verified.has_value());
}

void fuzz_bundle(const std::vector<ParamValue>& input, const std::string& campaign, const std::string& name) {
  const fs::path root = fuzz::scratch_dir();
  std::vector<fs::path> old;
  for (const auto& e : fs::directory_iterator(root)) old.push_back(e.path());
  for (const auto& p : old) fs::remove_all(p);
  auto st = store::Store::open((root / "store.db").string());
  KT_CHECK(st.has_value());
  const store::CampaignRow c = store_campaign(*st, input, campaign);
  const auto ps = stored_params(*st, c);
  const fs::path dir = root / "out" / "bundle";
  fs::create_directories(dir);
  auto m = bundle::write_bundle(*st, c, 1, "y", name, dir.string());
  const bool hostile = !safe_name(name) || any_unsafe(ps, {"sysctl", "sysfs", "cmdline", "kconfig"}, false) ||
                       any_unsafe(ps, {"sysctl", "sysfs", "cmdline", "kconfig"}, true);
  if (!m) {
    if (!hostile || m.error().kind != util::Error::Kind::invalid_input)
      std::fprintf(stderr, "fuzz_export: write_bundle refused an input the oracle calls %s: %s\n",
                   hostile ? "hostile" : "safe", m.error().message.c_str());
    KT_CHECK(hostile && m.error().kind == util::Error::Kind::invalid_input);
    KT_CHECK(fs::is_empty(dir));  // every file is rendered before the first is written
  } else {
    KT_CHECK(!hostile);
    check_bundle(dir, ps, name);
  }
  // Nothing was written beside the bundle's folder.
  KT_CHECK(std::distance(fs::directory_iterator(root / "out"), fs::directory_iterator()) == 1);
  for (const auto& e : fs::directory_iterator(root))
    KT_CHECK(e.path().filename() == "out" || e.path().filename().string().starts_with("store.db"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = util::split(fuzz::as_text(data, size), '\x1e');
  if (f.size() < 2) f.resize(2);
  const std::vector<std::string> records(f.begin() + 2, f.end());
  const auto ps = params_of(records);
  fuzz_writers(ps, f[0], f[1]);
  fuzz_bundle(ps, f[0], f[1]);
  return 0;
}
